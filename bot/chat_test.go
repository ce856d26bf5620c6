package bot_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// monday noon in Moscow: the tests' clock.
var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type world struct {
	t   *testing.T
	st  *store.Store
	bot *bot.Bot
	ids atomic.Int64
}

// newWorld makes a bot on a fresh store; opts set the store's options (its clock).
func newWorld(t *testing.T, opts ...func(*store.Options)) *world {
	t.Helper()
	st := storetest.New(t, opts...)
	b, err := bot.New(st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow },
		InviteLink: func(code string) string { return "https://t.me/crm_test_bot?start=" + code }})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, st: st, bot: b}
}

// manager adds a manager with a Telegram account and returns their chat.
func (w *world) manager(name string, role store.Role, lang, tz string) *chat {
	w.t.Helper()
	tg := 1000 + w.ids.Add(1)
	m := &store.Manager{Name: name, Role: role, Language: lang, TimeZone: tz, TelegramID: tg}
	if err := w.st.CreateManager(context.Background(), "test", m); err != nil {
		w.t.Fatal(err)
	}
	c := w.stranger(tg, lang)
	c.m = m
	return c
}

func (w *world) stranger(tg int64, lang string) *chat {
	return &chat{w: w, user: bot.User{ID: tg, FirstName: "User", LastName: "N" + string(rune('A'+tg%26)), LanguageCode: lang}, chatID: tg}
}

func (w *world) client(c *store.Client) *store.Client {
	w.t.Helper()
	if err := w.st.CreateClient(context.Background(), "test", c); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// chat is one person's conversation with the bot.
type chat struct {
	w      *world
	m      *store.Manager
	user   bot.User
	chatID int64
	last   []bot.Reply
	msgs   int
}

func (c *chat) do(u bot.Update) []bot.Reply {
	c.w.t.Helper()
	u.ChatID, u.User = c.chatID, c.user
	c.last = c.w.bot.Handle(context.Background(), u)
	c.routed()
	return c.last
}

// routed fails the test on a button in the last replies that no handler takes.
func (c *chat) routed() {
	c.w.t.Helper()
	if b := bot.UnroutedButton(c.last); b != "" {
		c.w.t.Fatalf("button %s: no route takes its code", b)
	}
}

func (c *chat) send(text string) string {
	c.w.t.Helper()
	c.do(bot.Update{Text: text})
	return c.text()
}

// tapData taps a button whose data is given (a forged tap if no such button exists).
func (c *chat) tapData(d string) string {
	c.w.t.Helper()
	c.msgs++
	c.do(bot.Update{Callback: &bot.Callback{ID: "cb" + d, Data: d, MessageID: c.msgs}})
	return c.text()
}

// tap taps the button whose text contains label in the last replies.
func (c *chat) tap(label string) string {
	c.w.t.Helper()
	c.routed() // the last replies may be a notification a test put there
	for _, r := range c.last {
		for _, line := range r.Buttons {
			for _, b := range line {
				if strings.Contains(b.Text, label) && b.Data != "" {
					return c.tapData(b.Data)
				}
			}
		}
	}
	c.w.t.Fatalf("no button %q in:\n%s\nbuttons: %v", label, c.text(), c.buttons())
	return ""
}

func (c *chat) buttons() []string {
	var out []string
	for _, r := range c.last {
		for _, line := range r.Buttons {
			for _, b := range line {
				out = append(out, b.Text+"="+b.Data)
			}
		}
	}
	return out
}

// text is everything the last update got back: messages and pop-ups.
func (c *chat) text() string {
	var parts []string
	for _, r := range c.last {
		if r.Text != "" {
			parts = append(parts, r.Text)
		}
		if r.Notice != "" {
			parts = append(parts, "[notice] "+r.Notice)
		}
		if r.Photo != nil {
			parts = append(parts, "[picture] "+r.Photo.Name)
		}
		if r.Document != nil {
			parts = append(parts, "[document] "+r.Document.Name)
		}
	}
	return strings.Join(parts, "\n---\n")
}

func (c *chat) expect(got string, want ...string) {
	c.w.t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			c.w.t.Fatalf("reply lacks %q:\n%s", w, got)
		}
	}
}

func (c *chat) refuse(got string, bad ...string) {
	c.w.t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			c.w.t.Fatalf("reply has %q:\n%s", b, got)
		}
	}
}
