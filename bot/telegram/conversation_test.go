package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// Whole conversations: the fake Bot API server, the real transport, the conversation
// core and the embedded engine. The fake rejects broken HTML, so an unescaped client
// name fails these tests too.

// convNow is Monday 23 November 2026, 12:00 in Moscow.
var convNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type conv struct {
	t   *testing.T
	srv *tgtest.Server
	st  *store.Store
}

func startConv(t *testing.T, limits rate.Limit) *conv {
	t.Helper()
	st := storetest.New(t)
	return &conv{t: t, srv: botOn(t, st, limits), st: st}
}

// botOn runs the bot over st through the transport and the fake Bot API until the
// test ends.
func botOn(t *testing.T, st *store.Store, limits rate.Limit) *tgtest.Server {
	t.Helper()
	core, err := bot.New(st, bot.Options{Texts: templates.FS, Now: func() time.Time { return convNow },
		InviteLink: func(code string) string { return "https://t.me/" + tgtest.BotUsername + "?start=" + code }})
	if err != nil {
		t.Fatal(err)
	}
	srv := tgtest.New(t)
	tr, err := telegram.New(tgtest.Token, telegram.Options{APIURL: srv.URL(), PollTimeout: time.Second,
		GlobalRate: limits, PerChatRate: limits})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx, core) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}

func (c *conv) manager(tg int64, name string, role store.Role, lang, tz string) *store.Manager {
	c.t.Helper()
	m := &store.Manager{Name: name, Role: role, Language: lang, TimeZone: tz, TelegramID: tg}
	if err := c.st.CreateManager(context.Background(), "test", m); err != nil {
		c.t.Fatal(err)
	}
	c.srv.SetUser(tgtest.User{ID: tg, FirstName: name, LanguageCode: lang})
	return m
}

// say sends text and returns the bot's next message to the chat.
func (c *conv) say(chat int64, text string) tgtest.Call {
	c.t.Helper()
	c.srv.SendText(chat, text)
	return c.srv.Next(chat, wait)
}

// tap taps the button whose text contains label and returns the next message.
func (c *conv) tap(msg tgtest.Call, label string) tgtest.Call {
	c.t.Helper()
	for _, row := range msg.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.Data != "" {
				id := c.srv.Tap(msg.ChatID, msg.MessageID, b.Data)
				c.srv.Answer(id, wait)
				return c.srv.Next(msg.ChatID, wait)
			}
		}
	}
	c.t.Fatalf("no button %q under %q; buttons %q", label, msg.Text, msg.ButtonTexts())
	return tgtest.Call{}
}

func has(t *testing.T, got tgtest.Call, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got.Text, w) {
			t.Fatalf("message lacks %q:\n%s", w, got.Text)
		}
	}
}

func TestConversationOnboardingByInvite(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	has(t, c.say(42, "/start"), "Попросите у администратора")
	c.srv.SendText(42, "/start")
	c.srv.SendText(42, "/find Ромашка")
	if got, ok := c.srv.TryNext(42, 1500*time.Millisecond); ok {
		t.Fatalf("a stranger got a second answer: %q", got.Text)
	}

	c.manager(1, "Admin", store.RoleAdmin, "en", "Europe/Moscow")
	invite := c.say(1, "/invite manager Мария")
	has(t, invite, "https://t.me/crm_test_bot?start=")
	code := invite.Text[strings.Index(invite.Text, "start=")+len("start="):]
	c.srv.SetUser(tgtest.User{ID: 43, FirstName: "Маша", LanguageCode: "ru"})
	has(t, c.say(43, "/start "+code), "Добро пожаловать, Мария", "менеджер")
	if m, err := c.st.ManagerByTelegram(ctx, 43); err != nil || m.Role != store.RoleManager {
		t.Fatalf("invited manager: %+v %v", m, err)
	}
	has(t, c.say(44, "/start "+code), "Попросите у администратора")
}

func TestConversationForgedTapsAndSearchShowNothingOfOthers(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	anna := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	boris := c.manager(2, "Борис", store.RoleManager, "ru", "Europe/Moscow")
	theirs := &store.Client{Name: "Тайный <Завод>", ManagerID: boris.ID,
		Contacts: map[string]store.Contact{"p": {Name: "Пётр", Phones: []string{"+79161112233"}}}}
	if err := c.st.CreateClient(ctx, "test", theirs); err != nil {
		t.Fatal(err)
	}
	has(t, c.say(2, "Тайный"), "Тайный &lt;Завод&gt;", "Пётр")

	for _, q := range []string{"Тайный", "/find завод"} {
		if got := c.say(1, q); strings.Contains(got.Text, "Пётр") || strings.Contains(got.Text, "&lt;Завод&gt;") {
			t.Fatalf("%q showed another manager's client: %s", q, got.Text)
		}
	}
	// Their phone says whose client it is, and nothing of the card.
	if got := c.say(1, "+79161112233"); got.Text != "«Тайный &lt;Завод&gt;» — клиент менеджера Борис." || len(got.Buttons) != 0 {
		t.Fatalf("their phone showed: %s %q", got.Text, got.ButtonTexts())
	}
	for _, d := range []string{"c:" + theirs.ID, "co:" + theirs.ID + ":reached", "ss:" + theirs.ID + ":gold", "tk:" + theirs.ID,
		"am:" + theirs.ID + ":" + anna.ID, "ef:" + theirs.ID + ":name", "h:" + theirs.ID + ":0", "nonsense", strings.Repeat("x", 64)} {
		id := c.srv.Tap(1, 1, d)
		answer := c.srv.Answer(id, wait)
		if strings.Contains(answer.Text, "Завод") {
			t.Fatalf("forged %q answered %q", d, answer.Text)
		}
		if got, ok := c.srv.TryNext(1, 300*time.Millisecond); ok && (strings.Contains(got.Text, "Завод") || strings.Contains(got.Text, "Пётр")) {
			t.Fatalf("forged %q showed: %s", d, got.Text)
		}
	}
	after, _ := c.st.Client(ctx, theirs.ID)
	if after.Version != theirs.Version || after.ManagerID != boris.ID || after.Stage != store.StageWhite {
		t.Fatalf("forged taps changed the client: %+v", after)
	}

	// A letter of Boris's client: the refusal is the tap's answer, and nothing else is
	// sent (the chat's updates are handled in order, so the next message is the
	// answer to the word typed after the tap) and no dialog is left open.
	letter := &store.Letter{ID: store.LetterID("secret@zavod.ru", ""), MessageID: "secret@zavod.ru", Subject: "Тайная смета",
		From: store.MailAddress{Email: "petr@zavod.ru"}, Date: convNow}
	if _, err := c.st.SaveLetters(ctx, []*store.Letter{letter}); err != nil {
		t.Fatal(err)
	}
	if err := c.st.LinkLetter(ctx, "mail", letter, theirs.ID); err != nil {
		t.Fatal(err)
	}
	ref := "m" + strings.TrimPrefix(letter.ID, "mid:")
	for _, d := range []string{"li:" + ref, "ln:" + ref, "lx:" + ref, "lh:" + ref} {
		id := c.srv.Tap(1, 1, d)
		if answer := c.srv.Answer(id, wait); answer.Text != "Письмо недоступно." {
			t.Fatalf("forged %q answered %q", d, answer.Text)
		}
		if got := c.say(1, "Взломано"); !strings.Contains(got.Text, "ничего не нашлось") {
			t.Fatalf("after forged %q the chat got: %s", d, got.Text)
		}
	}
	if ignored, _ := c.st.SenderIgnored(ctx, "petr@zavod.ru"); ignored {
		t.Fatal("a forged tap ignored the sender")
	}
	if l, _ := c.st.Letter(ctx, letter.ID); l.HandledAt != nil || len(l.Clients) != 1 {
		t.Fatalf("forged taps changed the letter: %+v", l)
	}
}

func TestConversationCallWithNextStepAndReminders(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	anna := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	bob := c.manager(2, "Bob", store.RoleManager, "en", "Asia/Vladivostok")
	cl := &store.Client{Name: "Ромашка", ManagerID: anna.ID, Contacts: map[string]store.Contact{"p": {Name: "Иван", Phones: []string{"+79161234567"}}}}
	if err := c.st.CreateClient(ctx, "test", cl); err != nil {
		t.Fatal(err)
	}
	card := c.say(1, "8 916 123 45 67")
	has(t, card, "<b>Ромашка</b>", "+7 916 123-45-67")
	outcome := c.tap(card, "Звонок")
	note := c.tap(outcome, "Дозвонился")
	if note.Method != "editMessageText" || note.MessageID != card.MessageID {
		t.Fatalf("the outcome did not replace the card's message: %+v", note)
	}
	has(t, c.say(1, "Ждёт КП"), "Следующий шаг")
	has(t, c.say(1, "завтра в 10 отправить КП"), "Звонок записан", "вт 24.11.2026 10:00", "отправить КП")
	refs, _ := c.st.OpenTasks(ctx, anna.ID)
	if len(refs) != 1 || !refs[0].Due.Equal(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC)) || refs[0].ClientID != cl.ID {
		t.Fatalf("task from the call: %+v", refs)
	}

	for _, tc := range []struct {
		chat       int64
		text, echo string
	}{
		{1, "/remind через 2 часа счёт", "пн 23.11.2026 14:00"},
		{1, "/remind в пятницу планёрка", "пт 27.11.2026 10:00"},
		{1, "/remind 25.12 15:00 поздравить", "пт 25.12.2026 15:00"},
		{2, "/remind tomorrow 9am call the bank", "Tue 24.11.2026 09:00"},
		{2, "/remind in 30 min coffee", "Mon 23.11.2026 19:30"},
	} {
		has(t, c.say(tc.chat, tc.text), tc.echo)
	}
	if refs, _ := c.st.OpenTasks(ctx, bob.ID); len(refs) != 2 || !refs[0].Due.Equal(convNow.Add(30*time.Minute)) {
		t.Fatalf("Bob's tasks: %+v", refs)
	}
}

// A storm of 429s while five managers talk at once: every answer arrives, in order.
func TestConversation429StormLosesNothing(t *testing.T) {
	c := startConv(t, rate.Inf)
	for i := range 5 {
		c.manager(int64(i+1), fmt.Sprintf("M%d", i), store.RoleManager, "en", "Europe/Moscow")
	}
	c.srv.Fail429(15, 1)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 4 {
				c.srv.SendText(int64(i+1), fmt.Sprintf("/remind in %d hours task %d", k+1, k))
			}
		}()
	}
	wg.Wait()
	for i := range 5 {
		for k := range 4 {
			has(t, c.srv.Next(int64(i+1), 30*time.Second), fmt.Sprintf("task %d", k))
		}
	}
	if c.srv.Failures() < 15 {
		t.Fatalf("the storm did not happen: %d failures", c.srv.Failures())
	}
}
