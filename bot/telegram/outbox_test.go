package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// replies answers every text with the given replies, in order.
func replies(texts ...string) *echo {
	return &echo{hook: func(ctx context.Context, u bot.Update) ([]bot.Reply, bool) {
		var out []bot.Reply
		for _, s := range texts {
			out = append(out, bot.Reply{Text: s})
		}
		return out, true
	}}
}

func sentTexts(calls []tgtest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Text)
	}
	return out
}

// A stop (SIGTERM ends Run's context) sends the replies already queued: the second
// reply, waiting for the chat's turn, still goes out.
func TestStopSendsTheRepliesQueuedBehindTheChatsPace(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	// One message every 2 s in a chat: the second reply waits for its turn.
	stop := run(t, e.transport(t, telegram.Options{PerChatRate: 0.5}), replies("task saved", "reminder at 10:00"))
	srv.SendText(1, "/remind tomorrow 10 call")
	if m := srv.Next(1, wait); m.Text != "task saved" {
		t.Fatalf("first reply = %q", m.Text)
	}
	stop()
	if got := sentTexts(srv.Sent(1)); len(got) != 2 || got[1] != "reminder at 10:00" {
		t.Errorf("sent before Run returned: %q, want the queued reply too", got)
	}
}

// clock is the store's clock, which the outbox's holds and ages follow.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// outboxStore is a store whose clock the test moves.
func outboxStore(t *testing.T) (*store.Store, *clock) {
	clk := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	return storetest.New(t, func(o *store.Options) { o.Now = clk.Now }), clk
}

// hangAndWait makes the server stop answering and waits until n calls hang.
func hangAndWait(t *testing.T, srv *tgtest.Server, n int) {
	t.Helper()
	srv.Hang(true)
	if !srv.Await(wait, func() bool { return srv.Hanging() == n && srv.Pending() == 0 }) {
		t.Fatalf("%d calls hang, %d updates unconfirmed; want %d and 0", srv.Hanging(), srv.Pending(), n)
	}
}

// stopWhileHanging makes the server stop answering, sends text to chat 1, waits until
// the first reply hangs and stops tr: as a crash, or as a SIGTERM. Then the server
// answers again.
func stopWhileHanging(t *testing.T, srv *tgtest.Server, tr *telegram.Transport, stop func(), text string, crash bool) {
	t.Helper()
	hangAndWait(t, srv, 0) // nothing in flight: the next reply hangs
	srv.SendText(1, text)
	hangAndWait(t, srv, 1)
	if crash {
		telegram.Crash(tr)
	}
	stop() // fails the test unless Run returns within wait
	unhang(t, srv)
}

// unhang lets the server answer again once the calls the bot gave up have ended, so
// none of them is answered late.
func unhang(t *testing.T, srv *tgtest.Server) {
	t.Helper()
	if !srv.Await(wait, func() bool { return srv.Hanging() == 0 }) {
		t.Fatalf("%d calls still hang after the stop", srv.Hanging())
	}
	srv.Hang(false)
}

// A crash leaves the replies not yet sent in the outbox: the next start sends them,
// in order, and none that was sent before the crash again.
func TestCrashLeavesRepliesForTheNextStart(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	st, clk := outboxStore(t)
	opts := telegram.Options{Outbox: st, Takeover: time.Minute}
	first := e.transport(t, opts)
	h := &echo{hook: func(ctx context.Context, u bot.Update) ([]bot.Reply, bool) {
		if u.Text == "remind" {
			return []bot.Reply{{Text: "task saved"}, {Text: "reminder at 10:00", Buttons: [][]bot.Button{{{Text: "Done", Data: "t:1:done"}}}}}, true
		}
		return nil, false
	}}
	crash := run(t, first, h)
	srv.SendText(1, "hi")
	if m := srv.Next(1, wait); m.Text != "echo: hi" {
		t.Fatalf("first reply = %q", m.Text)
	}
	// "task saved" in flight, the reminder queued behind it.
	stopWhileHanging(t, srv, first, crash, "remind", true)
	if got := srv.Sent(1); len(got) != 1 {
		t.Fatalf("sent before the crash: %q", sentTexts(got))
	}

	// The crashed instance's hold on its lane runs out; the restarted one sends what
	// was left.
	clk.advance(time.Minute + time.Second)
	stop := run(t, e.transport(t, opts), &echo{})
	for _, want := range []string{"task saved", "reminder at 10:00"} {
		if m := srv.Next(1, wait); m.Text != want {
			t.Errorf("after the restart: %q, want %q", m.Text, want)
		}
	}
	stop()
	got := srv.Sent(1)
	if fmt.Sprint(sentTexts(got)) != "[echo: hi task saved reminder at 10:00]" {
		t.Errorf("sent in all: %q", sentTexts(got))
	}
	if len(got) == 3 && got[2].ButtonData("Done") != "t:1:done" {
		t.Errorf("the reminder's buttons after the restart: %+v", got[2].Buttons)
	}
	if strings.Contains(e.log.String(), "not written to the outbox") {
		t.Errorf("a message was not kept:\n%s", e.log.String())
	}
}

// A Bot API that never answers holds a stop no longer than the drain's bound; the
// message stays in the outbox and the next start sends it.
func TestStopIsBoundedWhenTheBotAPIHangs(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	st, _ := outboxStore(t)
	opts := telegram.Options{Outbox: st, DrainTimeout: 100 * time.Millisecond}
	tr := e.transport(t, opts)
	stopWhileHanging(t, srv, tr, run(t, tr, replies("reminder at 10:00")), "remind", false)
	if got := srv.Sent(1); len(got) != 0 {
		t.Fatalf("sent while the API hung: %q", sentTexts(got))
	}

	// A stop releases the lane: the next start takes it at once.
	run(t, e.transport(t, opts), &echo{})
	if m := srv.Next(1, wait); m.Text != "reminder at 10:00" {
		t.Errorf("after the restart: %q", m.Text)
	}
}

// A message left in the outbox longer than OutboxMaxAge is dropped, not sent stale.
func TestStaleMessagesInTheOutboxAreDropped(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	st, clk := outboxStore(t)
	opts := telegram.Options{Outbox: st, OutboxMaxAge: 24 * time.Hour}
	first := e.transport(t, opts)
	stopWhileHanging(t, srv, first, run(t, first, replies("stale")), "x", true)

	clk.advance(25 * time.Hour)
	tr := e.transport(t, opts)
	stop := run(t, tr, &echo{})
	if err := tr.Send(context.Background(), bot.Reply{ChatID: 1, Text: "fresh"}); err != nil {
		t.Fatal(err)
	}
	stop()
	if got := sentTexts(srv.Sent(1)); fmt.Sprint(got) != "[fresh]" {
		t.Errorf("sent after a day: %q", got)
	}
	if !strings.Contains(e.log.String(), "left in the outbox is dropped") {
		t.Errorf("no log line for the dropped message:\n%s", e.log.String())
	}
}

// Two instances share the store: when one crashes, the other sends what it left once
// its hold ran out, and nothing the crashed one had sent.
func TestRunningInstanceTakesOverACrashedOnesLane(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	st, clk := outboxStore(t)
	opts := telegram.Options{Outbox: st, Takeover: 200 * time.Millisecond}
	a := e.transport(t, opts)
	crashA := run(t, a, &echo{})
	stopB := run(t, e.transport(t, opts), &echo{})
	ctx := context.Background()
	if err := a.Send(ctx, bot.Reply{ChatID: 1, Text: "sent by a"}); err != nil {
		t.Fatal(err)
	}
	hangAndWait(t, srv, 0)
	sent := make(chan error, 1)
	go func() { sent <- a.Send(ctx, bot.Reply{ChatID: 1, Text: "left by a"}) }()
	hangAndWait(t, srv, 1)
	telegram.Crash(a)
	crashA()
	<-sent
	unhang(t, srv)

	clk.advance(time.Second) // a's hold runs out
	for _, want := range []string{"sent by a", "left by a"} {
		if m := srv.Next(1, wait); m.Text != want {
			t.Errorf("got %q, want %q", m.Text, want)
		}
	}
	stopB()
	if got := sentTexts(srv.Sent(1)); fmt.Sprint(got) != "[sent by a left by a]" {
		t.Errorf("sent in all: %q", got)
	}
}
