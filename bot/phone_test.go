package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// phone is the bot as a manager's phone meets it: the Bot API server of the tests
// (which refuses what Telegram refuses: broken HTML, callback data over 64 bytes), the
// real transport, the conversation core and the embedded engine.
type phone struct {
	t    *testing.T
	srv  *tgtest.Server
	st   *store.Store
	core *bot.Bot
}

// phoneWait is how long a test waits for a message before it fails; never a measure.
const phoneWait = 20 * time.Second

// newPhone starts the bot; opts change its options (an invoice maker over the store,
// say).
func newPhone(t *testing.T, opts ...func(*bot.Options, *store.Store)) *phone {
	t.Helper()
	st := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return testNow } })
	srv := tgtest.New(t)
	tr, err := telegram.New(tgtest.Token, telegram.Options{APIURL: srv.URL(), PollTimeout: time.Second,
		GlobalRate: rate.Inf, PerChatRate: rate.Inf, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	o := bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, Outbox: tr}
	for _, f := range opts {
		f(&o, st)
	}
	core, err := bot.New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx, core) }()
	t.Cleanup(func() { cancel(); <-done })
	return &phone{t: t, srv: srv, st: st, core: core}
}

func (p *phone) manager(tg int64, name string, role store.Role) *store.Manager {
	p.t.Helper()
	m := &store.Manager{Name: name, Role: role, Language: "ru", TimeZone: "Europe/Moscow", TelegramID: tg}
	if err := p.st.CreateManager(context.Background(), "test", m); err != nil {
		p.t.Fatal(err)
	}
	p.srv.SetUser(tgtest.User{ID: tg, FirstName: name, LanguageCode: "ru"})
	return m
}

func (p *phone) client(c *store.Client) *store.Client {
	p.t.Helper()
	if err := p.st.CreateClient(context.Background(), "test", c); err != nil {
		p.t.Fatal(err)
	}
	return c
}

// say sends text and returns the bot's next message, checked to fit a screen.
func (p *phone) say(chat int64, text string) tgtest.Call {
	p.t.Helper()
	p.srv.SendText(chat, text)
	return p.fits(p.srv.Next(chat, phoneWait))
}

// tap taps the button whose text contains label and returns the next message.
func (p *phone) tap(msg tgtest.Call, label string) tgtest.Call {
	p.t.Helper()
	for _, row := range msg.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.Data != "" {
				return p.tapData(msg, b.Data)
			}
		}
	}
	p.t.Fatalf("no button %q under %q; buttons %q", label, msg.Text, msg.ButtonTexts())
	return tgtest.Call{}
}

// tapData taps data under msg, waits for the tap's answer, and returns the next message.
func (p *phone) tapData(msg tgtest.Call, data string) tgtest.Call {
	p.t.Helper()
	p.srv.Answer(p.srv.Tap(msg.ChatID, msg.MessageID, data), phoneWait)
	return p.fits(p.srv.Next(msg.ChatID, phoneWait))
}

// fits fails the test on a message longer than a screen's list: a text cut to
// Telegram's limit, more than ten rows of buttons, or a button no route takes.
func (p *phone) fits(m tgtest.Call) tgtest.Call {
	p.t.Helper()
	if n := len(utf16.Encode([]rune(m.Text))); n > 4096 || strings.HasSuffix(m.Text, "\n…") {
		p.t.Fatalf("a text of %d units, cut: %q", n, m.Text[max(0, len(m.Text)-200):])
	}
	if len(m.Buttons) > 10 {
		p.t.Fatalf("%d rows of buttons under %q", len(m.Buttons), m.Text)
	}
	var kb []bot.Button
	for _, row := range m.Buttons {
		for _, b := range row {
			kb = append(kb, bot.Button{Text: b.Text, Data: b.Data})
		}
	}
	if b := bot.UnroutedButton([]bot.Reply{{Buttons: [][]bot.Button{kb}}}); b != "" {
		p.t.Fatalf("button %s: no route takes its code", b)
	}
	return m
}

func (p *phone) has(m tgtest.Call, want ...string) {
	p.t.Helper()
	for _, w := range want {
		if !strings.Contains(m.Text, w) {
			p.t.Fatalf("message lacks %q:\n%s\nbuttons %q", w, m.Text, m.ButtonTexts())
		}
	}
}

// pageButtons are the ◀ and ▶ of a message ("" when absent).
func pageButtons(m tgtest.Call) (back, next string) {
	for _, row := range m.Buttons {
		for _, b := range row {
			switch b.Text {
			case "◀":
				back = b.Data
			case "▶":
				next = b.Data
			}
		}
	}
	return back, next
}

// pages follows ▶ from the first page to the last and returns every page; the first
// has no ◀, the last no ▶, the others both, and each ▶ edits the message in place.
func (p *phone) pages(first tgtest.Call) []tgtest.Call {
	p.t.Helper()
	out := []tgtest.Call{first}
	for m := first; ; {
		back, next := pageButtons(m)
		if (back != "") != (len(out) > 1) {
			p.t.Fatalf("page %d: ◀ %q", len(out), back)
		}
		if next == "" {
			return out
		}
		if len(out) > 100 {
			p.t.Fatal("more than 100 pages")
		}
		m = p.tapData(m, next)
		if m.Method != "editMessageText" || m.MessageID != first.MessageID {
			p.t.Fatalf("▶ sent %s to message %d, want the page replaced in message %d", m.Method, m.MessageID, first.MessageID)
		}
		out = append(out, m)
	}
}

// 300 managers: /managers shows a screen of them, with a button for each one on it,
// and ▶ ◀ go through the whole team; a head without the admin's buttons pages too,
// and a manager gets no page of the team however the tap is made.
func TestManagersPageOnAPhone(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	p.manager(1, "Админ", store.RoleAdmin)
	p.manager(2, "Руководитель", store.RoleHead)
	p.manager(3, "Рядовой", store.RoleManager)
	for i := range 297 {
		if err := p.st.CreateManager(ctx, "test", &store.Manager{Name: fmt.Sprintf("Менеджер %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	first := p.say(1, "/managers")
	p.has(first, "Команда", "1–8 из 300")
	pages := p.pages(first)
	if len(pages) != 38 {
		t.Fatalf("%d pages of 300 managers, want 38", len(pages))
	}
	seen := map[string]int{}
	for _, m := range pages {
		for _, line := range strings.Split(m.Text, "\n") {
			if name, ok := strings.CutPrefix(line, "• "); ok {
				name, _, _ = strings.Cut(name, " — ")
				seen[name]++
			}
		}
	}
	if len(seen) != 300 || seen["Менеджер 000"] != 1 || seen["Менеджер 296"] != 1 || seen["Рядовой"] != 1 {
		t.Fatalf("the pages showed %d managers: %v", len(seen), seen)
	}
	last := pages[len(pages)-1]
	p.has(last, "297–300 из 300")
	// ◀ goes back; a tap on a page past the end shows the last one.
	p.has(p.tapData(last, mustBack(t, last)), "289–296 из 300")
	p.has(p.tapData(last, "pg:m:999"), "297–300 из 300")

	head := p.say(2, "/managers")
	p.has(head, "1–8 из 300")
	if strings.Contains(strings.Join(head.ButtonTexts(), " "), "Отключить") {
		t.Fatalf("a head got the admin's buttons: %q", head.ButtonTexts())
	}
	p.has(p.tap(head, "▶"), "9–16 из 300")

	p.has(p.say(3, "/managers"), "только руководитель")
	answer := p.srv.Answer(p.srv.Tap(3, 1, "pg:m:1"), phoneWait)
	if !strings.Contains(answer.Text, "только руководитель") {
		t.Fatalf("a manager's forged page of the team: %q", answer.Text)
	}
	if m, ok := p.srv.TryNext(3, 300*time.Millisecond); ok {
		t.Fatalf("a manager's forged page of the team showed: %q", m.Text)
	}
}

func mustBack(t *testing.T, m tgtest.Call) string {
	t.Helper()
	back, _ := pageButtons(m)
	if back == "" {
		t.Fatalf("no ◀ under %q", m.Text)
	}
	return back
}

// /tasks, /today and /overdue name each task's client, its contact person and a
// phone Telegram makes tappable, with the client's card a tap away, a page at a time.
func TestTaskListsNameClientContactAndPhone(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	anna := p.manager(1, "Анна", store.RoleManager)
	c := p.client(&store.Client{Name: "ООО «Ромашка»", ManagerID: anna.ID, City: "Тверь", Phones: []string{"+74822000000"},
		Contacts: map[string]store.Contact{
			"a": {Name: "Ольга Секретарь", Emails: []string{"office@romashka.ru"}},
			"b": {Name: "Иван Петров", Position: "директор", DecisionMaker: true, Phones: []string{"+79161234567"}},
		}})
	bare := p.client(&store.Client{Name: "Без контактов", ManagerID: anna.ID, Phones: []string{"+74950000000"}})
	add := func(client string, due time.Time, text string) {
		t.Helper()
		if err := p.st.CreateTask(ctx, anna.ID, &store.Task{AssigneeID: anna.ID, ClientID: client, Due: due, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	add(c.ID, testNow.Add(-26*time.Hour), "просрочено вчера")
	for i := range 6 {
		add(c.ID, testNow.Add(time.Duration(i+1)*time.Hour), fmt.Sprintf("звонок %d", i+1))
	}
	add(bare.ID, testNow.Add(30*time.Hour), "завтрашняя встреча")
	add("", testNow.Add(31*time.Hour), "личное")

	tasks := p.say(1, "/tasks")
	p.has(tasks, "Открытые задачи</b> (9)", "1–5 из 9", "просрочено вчера",
		"<b>ООО «Ромашка»</b> · 👤 Иван Петров · 📞 +7 916 123-45-67")
	p.has(p.tap(tasks, "📇 1"), "ООО «Ромашка»", "директор", "Тверь")
	pages := p.pages(tasks)
	if len(pages) != 2 {
		t.Fatalf("%d pages of 9 tasks", len(pages))
	}
	// A client without contacts gives its own phone; a task without a client, no line.
	p.has(pages[1], "6–9 из 9", "<b>Без контактов</b> · 📞 +7 495 000-00-00", "9. ")
	if !strings.Contains(pages[1].Text, "личное") || strings.Count(pages[1].Text, "📇") != 3 {
		t.Fatalf("the second page:\n%s", pages[1].Text)
	}
	if card := strings.Join(pages[1].ButtonTexts(), " "); strings.Contains(card, "📇 9") || !strings.Contains(card, "📇 8") {
		t.Fatalf("a card button for a task without a client, or none for one with: %q", card)
	}

	today := p.say(1, "/today")
	p.has(today, "Сегодня", "1–5 из 6", "Иван Петров", "+7 916 123-45-67", "Просрочено задач: 1")
	p.has(p.tap(today, "▶"), "6–6 из 6", "звонок 6")
	p.has(p.tap(today, "Просроченные"), "Просроченные задачи", "просрочено вчера", "+7 916 123-45-67")

	// Tasks done meanwhile: the old page's ▶ shows what is there now.
	open, err := p.st.OpenTasks(ctx, anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range open[:6] {
		if _, err := p.st.SetTaskState(ctx, anna.ID, r.ID, store.TaskDone, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	_, next := pageButtons(tasks)
	now := p.tapData(tasks, next)
	p.has(now, "Открытые задачи</b> (3)", "звонок 6", "личное")
	if back, fwd := pageButtons(now); back != "" || fwd != "" {
		t.Fatalf("one page left, yet ◀ %q ▶ %q", back, fwd)
	}
}

// A reminder that comes due names the client, the contact and the phone, and its
// card button opens the card.
func TestDueReminderNamesClientContactAndPhone(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	anna := p.manager(1, "Анна", store.RoleManager)
	c := p.client(&store.Client{Name: "ООО «Ромашка»", ManagerID: anna.ID, Contacts: map[string]store.Contact{
		"a": {Name: "Ольга Секретарь", Phones: []string{"+79160000001"}},
		"b": {Name: "Иван Петров", Phones: []string{"+79161234567"}},
	}})
	task := store.Task{AssigneeID: anna.ID, ClientID: c.ID, ContactID: "b", Due: testNow, Text: "перезвонить"}
	if err := p.st.CreateTask(ctx, anna.ID, &task); err != nil {
		t.Fatal(err)
	}
	if err := p.core.NotifyReminder(ctx, task, false); err != nil {
		t.Fatal(err)
	}
	m := p.fits(p.srv.Next(1, phoneWait))
	p.has(m, "перезвонить", "<b>ООО «Ромашка»</b> · 👤 Иван Петров · 📞 +7 916 123-45-67")
	p.has(p.tap(m, "Карточка"), "Ольга Секретарь", "+7 916 000-00-01")
}

// /remind with a client phrase two clients match asks which, with each one's city and
// stage, and sets the reminder on the one tapped; a name no client has is said so,
// and the reminder is set without a client only when asked to.
func TestRemindAsksWhichClient(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	anna := p.manager(1, "Анна", store.RoleManager)
	msk := p.client(&store.Client{Name: "АтлантСнаб-2", ManagerID: anna.ID, City: "Москва"})
	kzn := p.client(&store.Client{Name: "АтлантСнаб-2", ManagerID: anna.ID, City: "Казань", Stage: store.StageGold})

	ask := p.say(1, "/remind завтра в 12 АтлантСнаб-2 позвонить")
	p.has(ask, "Какой клиент?", "АтлантСнаб-2")
	buttons := strings.Join(ask.ButtonTexts(), " | ")
	for _, want := range []string{"АтлантСнаб-2 · Москва · ⚪ Белый", "АтлантСнаб-2 · Казань · 🥇 Золотой", "Без клиента", "Отмена"} {
		if !strings.Contains(buttons, want) {
			t.Fatalf("the question's buttons lack %q: %s", want, buttons)
		}
	}
	if open, _ := p.st.OpenTasks(ctx, anna.ID); len(open) != 0 {
		t.Fatalf("a reminder was set before the client was chosen: %+v", open)
	}
	set := p.tap(ask, "Казань")
	p.has(set, "Напомню", "вт 24.11.2026 12:00", "позвонить", "АтлантСнаб-2")
	if set.Method != "editMessageText" {
		t.Fatalf("the answer came as %s, the question's buttons left", set.Method)
	}
	open, _ := p.st.OpenTasks(ctx, anna.ID)
	if len(open) != 1 || open[0].ClientID != kzn.ID || open[0].Text != "позвонить" {
		t.Fatalf("the reminder: %+v", open)
	}
	// The question's buttons are spent.
	answer := p.srv.Answer(p.srv.Tap(1, ask.MessageID, ask.ButtonData("АтлантСнаб-2 · Москва · ⚪ Белый")), phoneWait)
	if !strings.Contains(answer.Text, "диалог уже закончен") {
		t.Fatalf("a spent choice: %q", answer.Text)
	}
	if c, _ := p.st.Client(ctx, msk.ID); len(c.Tasks) != 0 {
		t.Fatalf("the other client got a task: %+v", c.Tasks)
	}

	none := p.say(1, "/remind завтра в 12 АтлантСнаб-3 позвонить")
	p.has(none, "Клиента «АтлантСнаб-3» не нашёл")
	if open, _ := p.st.OpenTasks(ctx, anna.ID); len(open) != 1 {
		t.Fatalf("a reminder was set for a client nobody has: %+v", open)
	}
	p.has(p.tap(none, "Без клиента"), "Напомню", "АтлантСнаб-3 позвонить")
	open, _ = p.st.OpenTasks(ctx, anna.ID)
	if len(open) != 2 || open[1].ClientID != "" || open[1].Text != "АтлантСнаб-3 позвонить" {
		t.Fatalf("the reminder without a client: %+v", open)
	}
}

// Search results show each client's name, city and stage on its button, a page at a
// time; a query too long for a button's data says to narrow the search instead.
func TestSearchResultsPageWithCityAndStage(t *testing.T) {
	p := newPhone(t)
	anna := p.manager(1, "Анна", store.RoleManager)
	for i := range 20 {
		p.client(&store.Client{Name: fmt.Sprintf("Вектор %02d", i), ManagerID: anna.ID, City: []string{"Москва", "Казань"}[i%2]})
	}
	first := p.say(1, "Вектор")
	p.has(first, "Нашлось несколько", "1–8 из 20")
	if b := first.ButtonTexts(); b[0] != "Вектор 00 · Москва · ⚪ Белый" || b[1] != "Вектор 01 · Казань · ⚪ Белый" {
		t.Fatalf("the result buttons: %q", b)
	}
	pages := p.pages(first)
	p.has(pages[2], "17–20 из 20", "20. ⚪ Вектор 19")
	p.has(p.tap(pages[2], "Вектор 19 · Казань"), "<b>Вектор 19</b>")

	long := "Вектор " + strings.Repeat("ы", 30) // 67 bytes: no room in a button's data
	for i := range 10 {
		p.client(&store.Client{Name: fmt.Sprintf("%s %d", long, i), ManagerID: anna.ID})
	}
	m := p.say(1, long)
	p.has(m, "1–8 из 10", "Уточните запрос")
	if back, next := pageButtons(m); back != "" || next != "" {
		t.Fatalf("a page button whose data Telegram refuses: %q %q", back, next)
	}
}
