package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
)

// A head starts a draft from the chat of crm serve: the campaign runs and its letter
// goes out; a draft whose template breaks is refused in package campaign's own words.
func TestHeadStartsACampaignFromTheBot(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;Анна;anna@romashka.ru;да\n")
	if r := runCRM(ctx, t, vars, "manager", "add", "--name", "Ирина", "--role", "head", "--telegram-id", "77"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	tg, mail := tgtest.New(t), smtptest.Start(t)
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(mail.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru", "CRM_HTTP_ADDR", freeAddr(t),
		"CRM_TELEGRAM_TOKEN", tgtest.Token, "CRM_TELEGRAM_API_URL", tg.URL())
	r, id := createCampaign(t, vars, "--name", "Весна", "--subject", "Для {{.Client.Name}}", "--text", "{{.Contact.Name}}, {{.UnsubscribeURL}}")
	wantRun(t, "create", r, 0, "recipients now: 1")
	r, broken := createCampaign(t, vars, "--name", "Опечатка", "--subject", "Для {{.Client.Name}}",
		"--text", "{{.Contact.Name}}, {{.Client.Custom.code | upper}} {{.UnsubscribeURL}}")
	if broken == "" {
		t.Fatalf("a draft with a broken template is kept by create: %+v", r)
	}

	startServe(t, vars)
	const wait = 20 * time.Second
	tg.SendText(77, "/campaigns")
	list := tg.Next(77, wait)
	if !strings.Contains(list.Text, "Весна") || !strings.Contains(list.Text, "черновик") {
		t.Fatalf("/campaigns: %q", list.Text)
	}
	tg.TapButton(list, "▶ Запустить Опечатка")
	if got := tg.Next(77, wait); !strings.Contains(got.Text, "Ничего не изменилось: the template has a problem") ||
		!strings.Contains(got.Text, "upper") {
		t.Fatalf("a broken draft's start: %q", got.Text)
	}
	wantRun(t, "status of the refused draft", runCRM(ctx, t, vars, "campaign", "status", broken), 0, "state: draft")
	tg.TapButton(list, "▶ Запустить Весна")
	status := tg.Next(77, wait)
	if !strings.Contains(status.Text, "Запущена: письма готовятся") {
		t.Fatalf("after start: %q", status.Text)
	}
	r = runCRM(ctx, t, vars, "campaign", "status", id)
	if strings.Contains(r.stdout, "state: draft") {
		t.Fatalf("the store does not show the campaign started: %+v", r)
	}
	waitStatus(t, vars, id, "state: done")
	if got := mail.To("anna@romashka.ru"); len(got) != 1 || got[0].Header("Subject") != "Для Ромашка" {
		t.Fatalf("the campaign's letter: %+v", got)
	}
	// Once the run is over, the list counts what the runner recorded.
	tg.TapButton(status, "📣 Все рассылки")
	if list = tg.Next(77, wait); !strings.Contains(list.Text, "завершена <b>Весна</b> · отправлено 1 · не доставлено 0") {
		t.Fatalf("the list after the run: %q", list.Text)
	}
}

// The adapter tells the bot which errors are the person's to fix, names who paused a
// campaign, reports letters still marked sending as cut once the run is over, counts
// the skipped as crm campaign list does, and leaves archived campaigns out.
func TestCampaignControlAdaptsCampaigns(t *testing.T) {
	ctx := context.Background()
	s, closeStore, err := openStore(ctx, Config{DataDir: t.TempDir(), Database: "crm"}, slog.New(slog.DiscardHandler), "go test", false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	head := &store.Manager{Name: "Ольга", Role: store.RoleHead}
	if err := s.CreateManager(ctx, "test", head); err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Весна", Subject: "Скидки", Text: "Здравствуйте"}
	if err := s.SaveCampaign(ctx, head.ID, c); err != nil {
		t.Fatal(err)
	}
	cc := newCampaignControl(s, campaign.NewCampaigns(s, nil, "news@company.ru", time.UTC))
	var refusal *bot.CampaignRefusal
	if _, err := cc.Start(ctx, head.ID, c.ID); !errors.As(err, &refusal) || !strings.Contains(err.Error(), "CRM_UNSUBSCRIBE_SECRET") {
		t.Fatalf("start without unsubscribe links: %v", err)
	}
	if _, err := cc.Pause(ctx, head.ID, c.ID); !errors.As(err, &refusal) || !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("pause of a draft: %v", err)
	}
	if _, err := cc.Status(ctx, "nope"); !errors.Is(err, store.ErrNotFound) || errors.As(err, &refusal) {
		t.Fatalf("status of no campaign: %v", err)
	}

	// A run with one letter sent and one under way.
	move := func(to store.CampaignState) {
		t.Helper()
		if _, err := s.MoveCampaign(ctx, "test", c.ID, "", []store.CampaignState{store.CampaignDraft, store.CampaignSending}, func(c *store.Campaign) {
			c.State, c.Run, c.Batches = to, 1, 1
		}); err != nil {
			t.Fatal(err)
		}
	}
	move(store.CampaignSending)
	list := &store.BatchList{Recipients: []store.BatchRecipient{{ClientID: "a", ContactID: "1"}, {ClientID: "b", ContactID: "1"}},
		Skipped: []store.BatchRecipient{{ClientID: "c", ContactID: "1", Skip: "no consent"}}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: c.ID, Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	b, err := s.Batch(ctx, store.BatchID(c.ID, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.TakeBatch(ctx, b, "test", time.Minute); err != nil || !ok {
		t.Fatalf("take batch: %v", err)
	}
	b.States = string([]byte{store.StateLetter(store.DeliverySent), store.StateLetter(store.DeliverySending)})
	if ok, err := s.SaveBatchProgress(ctx, b, "test", time.Minute); !ok || err != nil {
		t.Fatalf("save batch: %v", err)
	}

	v, err := cc.Pause(ctx, head.ID, c.ID)
	if err != nil || v.State != store.CampaignPaused || v.PausedBy != "Ольга" || v.PauseReason != "" {
		t.Fatalf("pause: %+v %v", v, err)
	}
	if v, err = cc.Status(ctx, c.ID); err != nil || v.Sent != 1 || v.Sending != 1 || v.Cut != 0 || v.Skipped != 1 || v.PausedBy != "Ольга" {
		t.Fatalf("status while paused: %+v %v", v, err)
	}
	if v, err = cc.Resume(ctx, head.ID, c.ID); err != nil || v.State != store.CampaignSending {
		t.Fatalf("resume: %+v %v", v, err)
	}
	// Paused by the runner for a dead server: the chat says so in its own words.
	if _, err := s.MoveCampaign(ctx, "scheduler", c.ID, "", []store.CampaignState{store.CampaignSending}, func(c *store.Campaign) {
		c.State, c.PauseReason = store.CampaignPaused, campaign.PauseServerDown
	}); err != nil {
		t.Fatal(err)
	}
	if v, err = cc.Status(ctx, c.ID); err != nil || !v.ServerDown || v.PauseReason != "" || v.PausedBy != "" {
		t.Fatalf("status paused for a dead server: %+v %v", v, err)
	}
	if v, err = cc.Resume(ctx, head.ID, c.ID); err != nil || v.State != store.CampaignSending || v.ServerDown {
		t.Fatalf("resume after the dead server: %+v %v", v, err)
	}
	move(store.CampaignDone)
	if v, err = cc.Status(ctx, c.ID); err != nil || v.Sent != 1 || v.Sending != 0 || v.Cut != 1 {
		t.Fatalf("status once done: %+v %v", v, err)
	}
	views, err := cc.List(ctx)
	if err != nil || len(views) != 1 || views[0].ID != c.ID || views[0].State != store.CampaignDone {
		t.Fatalf("list: %+v %v", views, err)
	}
	if _, err := s.ArchiveCampaign(ctx, head.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if views, err = cc.List(ctx); err != nil || len(views) != 0 {
		t.Fatalf("list with the campaign archived: %+v %v", views, err)
	}
}

// A mail server that refuses every recipient: crm serve pauses the campaign after a
// row of refusals, and crm campaign status, the bot and the log give the server's
// reply. Resumed once the server accepts again, it sends the rest; the failed stay
// failed with their reply.
func TestServePausesACampaignTheServerRefuses(t *testing.T) {
	ctx := context.Background()
	const n = 40
	vars := campaignBase(t, shopRows(n))
	if r := runCRM(ctx, t, vars, "manager", "add", "--name", "Ирина", "--role", "head", "--telegram-id", "77"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	tg, srv := tgtest.New(t), smtptest.Start(t)
	const refusal = "sending SMTP RCPT TO command: 554 5.7.1 Service unavailable; client host [127.0.0.1] blocked"
	srv.RefuseAll(554, "Service unavailable; client host [127.0.0.1] blocked")
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(srv.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru", "CRM_SMTP_CONNS", "2", "CRM_HTTP_ADDR", freeAddr(t),
		"CRM_TELEGRAM_TOKEN", tgtest.Token, "CRM_TELEGRAM_API_URL", tg.URL())
	r, id := createCampaign(t, vars, "--name", "Зима", "--subject", "Для {{.Client.Name}}", "--text-file",
		campaignFile(t, "{{.Contact.Name}}, {{.UnsubscribeURL}}"))
	wantRun(t, "create", r, 0, fmt.Sprintf("recipients now: %d", n))
	wantRun(t, "start", runCRM(ctx, t, vars, "campaign", "start", id), 0, "preparing")

	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan runResult, 1)
	go func() { served <- runCRM(serveCtx, t, vars, "serve") }()
	var serve runResult
	stopServe := sync.OnceFunc(func() { stop(); serve = <-served })
	t.Cleanup(stopServe)
	waitReady(t, vars["CRM_HTTP_ADDR"])

	r = waitStatus(t, vars, id, "state: paused")
	wantRun(t, "status when paused", r, 0, "paused: the SMTP server refused 20 letters in a row; its last reply: "+refusal+"\n",
		"crm campaign resume "+id, "× "+refusal+"\n")
	failed, waiting := statusCount(r.stdout, "failed"), statusCount(r.stdout, `queued \(waiting\)`)
	// The row is 20 long; the letter under way on the other connection ends as it may.
	if failed < 20 || failed > 21 || failed+waiting != n || srv.Count() != 0 || !strings.Contains(r.stdout, fmt.Sprintf("  %d × %s\n", failed, refusal)) {
		t.Fatalf("paused with %d failed and %d waiting, %d received:\n%s", failed, waiting, srv.Count(), r.stdout)
	}

	const wait = 20 * time.Second
	tg.SendText(77, "/campaigns")
	tg.TapButton(tg.Next(77, wait), "📊 1")
	if got := tg.Next(77, wait); !strings.Contains(got.Text, "почтовый сервер отказывал письмо за письмом") ||
		!strings.Contains(got.Text, "Его последний ответ: "+refusal) || !strings.Contains(got.Text, fmt.Sprintf("↳ %d × %s", failed, refusal)) {
		t.Fatalf("the bot's status: %q", got.Text)
	}

	srv.AcceptAll()
	wantRun(t, "resume", runCRM(ctx, t, vars, "campaign", "resume", id), 0, "sending")
	r = waitStatus(t, vars, id, "state: done")
	if statusCount(r.stdout, "sent") != n-failed || statusCount(r.stdout, "failed") != failed || srv.Count() != n-failed ||
		!strings.Contains(r.stdout, fmt.Sprintf("  %d × %s\n", failed, refusal)) {
		t.Fatalf("after the resume, %d received:\n%s", srv.Count(), r.stdout)
	}
	stopServe()
	if !strings.Contains(serve.stderr, "campaign paused") || !strings.Contains(serve.stderr, "554 5.7.1 Service unavailable") {
		t.Fatalf("the log does not say why the campaign paused:\n%s", serve.stderr)
	}
}
