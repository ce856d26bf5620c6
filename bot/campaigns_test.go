package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// storeCampaigns is a CampaignControl over the real store: states move with
// store.MoveCampaign as the scheduler moves them; the counts are made up.
type storeCampaigns struct {
	st       *store.Store
	startErr error // Start refuses with it when set
	// refused and replies are what Status reports for a pause for the server's
	// refusals and for the failed letters.
	refused string
	replies []store.ReplyCount
}

func (c *storeCampaigns) List(ctx context.Context) ([]bot.CampaignView, error) {
	list, err := c.st.Campaigns(ctx)
	var out []bot.CampaignView
	for i := range list {
		out = append(out, c.view(ctx, &list[i]))
	}
	return out, err
}

func (c *storeCampaigns) view(ctx context.Context, cp *store.Campaign) bot.CampaignView {
	v := bot.CampaignView{ID: cp.ID, Name: cp.Name, State: cp.State, Schedule: cp.Schedule, Run: cp.Run}
	if id, ok := strings.CutPrefix(cp.PauseReason, "paused by "); ok {
		m, _ := c.st.Manager(ctx, id)
		v.PausedBy = m.Name
	}
	return v
}

func (c *storeCampaigns) move(ctx context.Context, actor, id string, from []store.CampaignState, to store.CampaignState) (bot.CampaignView, error) {
	cp, err := c.st.MoveCampaign(ctx, actor, id, "", from, func(cp *store.Campaign) {
		cp.State, cp.PauseReason = to, ""
		if to == store.CampaignPaused {
			cp.PauseReason = "paused by " + actor
		}
		if cp.Run == 0 {
			cp.Run = 1
		}
	})
	if err != nil {
		return bot.CampaignView{}, err
	}
	return c.view(ctx, cp), nil
}

func (c *storeCampaigns) Start(ctx context.Context, actor, id string) (bot.CampaignView, error) {
	if c.startErr != nil {
		return bot.CampaignView{}, &bot.CampaignRefusal{Err: c.startErr}
	}
	v, err := c.move(ctx, actor, id, []store.CampaignState{store.CampaignDraft}, store.CampaignPreparing)
	return v, err
}

func (c *storeCampaigns) Pause(ctx context.Context, actor, id string) (bot.CampaignView, error) {
	return c.move(ctx, actor, id, []store.CampaignState{store.CampaignPreparing, store.CampaignSending, store.CampaignScheduled}, store.CampaignPaused)
}

func (c *storeCampaigns) Resume(ctx context.Context, actor, id string) (bot.CampaignView, error) {
	return c.move(ctx, actor, id, []store.CampaignState{store.CampaignPaused}, store.CampaignSending)
}

func (c *storeCampaigns) Status(ctx context.Context, id string) (bot.CampaignView, error) {
	cp, err := c.st.Campaign(ctx, id)
	if err != nil {
		return bot.CampaignView{}, err
	}
	v := c.view(ctx, cp)
	if cp.Run > 0 {
		v.Sent, v.Failed, v.Deferred, v.Queued, v.Cut, v.Skipped = 40, 2, 1, 6, 1, 3
	}
	if cp.State == store.CampaignFinishing {
		v.Lines = 35
	}
	v.FailReplies = c.replies
	if cp.State == store.CampaignPaused && c.refused != "" {
		v.Refused, v.PausedBy = c.refused, ""
	}
	return v, nil
}

// campaignWorld is a world whose bot drives campaigns, with a draft "Осень", a
// running "Весна" and a done "Лето".
func campaignWorld(t *testing.T) (*world, *storeCampaigns, map[string]string) {
	t.Helper()
	w := newWorld(t)
	cs := &storeCampaigns{st: w.st}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, Campaigns: cs})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	ctx := context.Background()
	ids := map[string]string{}
	for _, c := range []struct {
		name string
		to   []store.CampaignState
	}{{"Лето", []store.CampaignState{store.CampaignSending, store.CampaignDone}}, {"Весна", []store.CampaignState{store.CampaignSending}}, {"Осень", nil}} {
		cp := &store.Campaign{Name: c.name, Subject: "Скидки", Text: "Здравствуйте"}
		if err := w.st.SaveCampaign(ctx, "test", cp); err != nil {
			t.Fatal(err)
		}
		for _, to := range c.to {
			if _, err := cs.move(ctx, "test", cp.ID, []store.CampaignState{cp.State, store.CampaignDraft, store.CampaignSending}, to); err != nil {
				t.Fatal(err)
			}
		}
		ids[c.name] = cp.ID
	}
	return w, cs, ids
}

func campaignState(t *testing.T, st *store.Store, id string) store.CampaignState {
	t.Helper()
	c, err := st.Campaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.State
}

func TestHeadPausesAndResumesACampaign(t *testing.T) {
	w, cs, ids := campaignWorld(t)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	got := head.send("/campaigns")
	head.expect(got, "Рассылки", "▶️ отправляется <b>Весна</b> · отправлено 40 · не доставлено 2 · отложено 1 · оборвано 1 · пропущено 3", "📝 черновик <b>Осень</b>",
		"✅ завершена <b>Лето</b>")
	if strings.Index(got, "Лето") < strings.Index(got, "Осень") {
		t.Fatalf("a finished campaign is listed before those under way:\n%s", got)
	}
	buttons := strings.Join(head.buttons(), "|")
	head.expect(buttons, "⏸ Пауза Весна=cpp:"+ids["Весна"], "▶ Запустить Осень=cpg:"+ids["Осень"])
	head.refuse(buttons, "Лето=")
	for _, b := range head.buttons() {
		if _, d, _ := strings.Cut(b, "="); len(d) > 64 {
			t.Fatalf("button data over Telegram's 64 bytes: %s", b)
		}
	}

	head.expect(head.tap("Пауза Весна"), "На паузе", "⏸ на паузе", "Приостановил(а): Ольга", "✅ отправлено: 40",
		"❌ не доставлено: 2", "🔁 отложено, будет повтор: 1", "⏳ ждут отправки: 6", "✂ оборвано: 1 — связь прервалась",
		"🚫 пропущено: 3 — нет согласия")
	if s := campaignState(t, w.st, ids["Весна"]); s != store.CampaignPaused {
		t.Fatalf("after pause: %s", s)
	}
	// The old list's pause button is stale now: the control refuses, nothing changes.
	head.expect(head.tapData("cpp:"+ids["Весна"]), "Ничего не изменилось", "paused")
	head.expect(head.tapData("cpr:"+ids["Весна"]), "Продолжена", "▶️ отправляется")
	if s := campaignState(t, w.st, ids["Весна"]); s != store.CampaignSending {
		t.Fatalf("after resume: %s", s)
	}
	head.expect(head.tapData("cps:nope"), "Рассылка не найдена")
	head.expect(head.tapData("cpl"), "Весна", "Осень")

	// An administrator may too, in English.
	admin := w.manager("Admin", store.RoleAdmin, "en", "Europe/Moscow")
	admin.send("/campaigns")
	admin.expect(admin.tap("Start Осень"), "Started: the letters are rendered and go out as they are ready.", "⚙️ preparing")
	admin.expect(strings.Join(admin.buttons(), "|"), "⏸ Pause=cpp:")
	if s := campaignState(t, w.st, ids["Осень"]); s != store.CampaignPreparing {
		t.Fatalf("after start: %s", s)
	}
	admin.expect(admin.send("/help"), "/campaigns")

	// A long list keeps those under way and the newest drafts; the rest are counted.
	for i := range 9 {
		if err := w.st.SaveCampaign(context.Background(), "test", &store.Campaign{Name: fmt.Sprintf("Черновик %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got = head.send("/campaigns")
	head.expect(got, "1. ⚙️ готовится <b>Осень</b>", "2. ▶️ отправляется <b>Весна</b>", "3. 📝 черновик <b>Черновик 8</b>",
		"…и ещё 2 постарше")
	head.refuse(got, "Лето", "Черновик 0")

	// Every letter out, the clients' histories being written: nothing left to pause.
	if _, err := cs.move(context.Background(), "scheduler", ids["Весна"], []store.CampaignState{store.CampaignSending}, store.CampaignFinishing); err != nil {
		t.Fatal(err)
	}
	got = head.tapData("cps:" + ids["Весна"])
	head.expect(got, "📝 завершается: пишется история клиентов", "📝 строк в истории клиентов: 35 из 40")
	head.refuse(strings.Join(head.buttons(), "|"), "Пауза")
}

func TestManagerCannotDriveCampaigns(t *testing.T) {
	w, _, ids := campaignWorld(t)
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	anna.expect(anna.send("/campaigns"), "только руководитель")
	anna.refuse(anna.text(), "Весна", "Осень")
	anna.refuse(anna.send("/help"), "/campaigns")
	for _, d := range []string{"cpl", "cps:" + ids["Весна"], "cpg:" + ids["Осень"], "cpp:" + ids["Весна"], "cpr:" + ids["Весна"]} {
		got := anna.tapData(d)
		anna.expect(got, "только руководитель")
		anna.refuse(got, "Весна", "Осень", "отправлено")
	}
	if s := campaignState(t, w.st, ids["Осень"]); s != store.CampaignDraft {
		t.Fatalf("a manager's forged start moved the draft to %s", s)
	}
	if s := campaignState(t, w.st, ids["Весна"]); s != store.CampaignSending {
		t.Fatalf("a manager's forged pause moved the campaign to %s", s)
	}

	// A head demoted after the list was shown: the buttons they still have are refused.
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/campaigns")
	if _, err := w.st.UpdateManager(context.Background(), "test", head.m.ID, map[string]any{"role": store.RoleManager}); err != nil {
		t.Fatal(err)
	}
	head.expect(head.tap("Пауза Весна"), "только руководитель")
	if s := campaignState(t, w.st, ids["Весна"]); s != store.CampaignSending {
		t.Fatalf("a demoted head paused the campaign: %s", s)
	}

	// Where mailings are not set up, a head learns what to set.
	head2 := w.manager("Игорь", store.RoleHead, "ru", "Europe/Moscow")
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	head2.expect(head2.send("/campaigns"), "не настроены", "CRM_SMTP_HOST")
}

func TestStartRefusalIsShownEscaped(t *testing.T) {
	w, cs, ids := campaignWorld(t)
	cs.startErr = errors.New(`the template has a problem: text, line 2: can't evaluate field Nme in {{.Client.Nme}} <b>&`)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/campaigns")
	got := head.tap("Запустить Осень")
	head.expect(got, "Ничего не изменилось", "line 2: can&#39;t evaluate field Nme in {{.Client.Nme}} &lt;b&gt;&amp;")
	head.refuse(got, "<b>&")
	if s := campaignState(t, w.st, ids["Осень"]); s != store.CampaignDraft {
		t.Fatalf("a refused start moved the draft to %s", s)
	}
	head.expect(head.tap("Все рассылки"), "📝 черновик <b>Осень</b>")
}

// A campaign the scheduler paused because the server refused letter after letter
// shows the server's reply, escaped, and the failed letters' replies under their count.
func TestRefusalPauseShowsTheServersReply(t *testing.T) {
	w, cs, _ := campaignWorld(t)
	cs.refused = "sending SMTP RCPT TO command: 550 5.1.1 <a@b.ru>: Recipient address rejected"
	cs.replies = []store.ReplyCount{{Reply: cs.refused, N: 1}}
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/campaigns")
	got := head.tap("Пауза Весна")
	head.expect(got, "почтовый сервер отказывал письмо за письмом", "Его последний ответ: sending SMTP RCPT TO command: 550 5.1.1 &lt;a@b.ru&gt;: Recipient",
		"❌ не доставлено: 2\n↳ 1 × sending SMTP RCPT TO command: 550 5.1.1 &lt;a@b.ru&gt;", "↳ 1 × другие ответы", "Продолжить")
	head.refuse(got, "<a@b.ru>", "Приостановил(а)")

	admin := w.manager("Admin", store.RoleAdmin, "en", "Europe/Moscow")
	admin.send("/campaigns")
	admin.expect(admin.tap("📊 1"), "the mail server refused letter after letter", "Its last reply: sending SMTP", "↳ 1 × other replies")
}
