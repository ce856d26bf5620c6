package telegram_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
)

// A chat whose update takes long holds nobody else: updates that arrive while it is
// handled, in later answers of getUpdates, are answered meanwhile, each once; the
// slow chat's own later updates wait for it, in order; and nothing is confirmed past
// the slow update until it is done.
func TestSlowUpdateHoldsOnlyItsChat(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	started, release := make(chan bot.Update, 1), make(chan struct{})
	h := blocker(started, release)
	run(t, e.transport(t, telegram.Options{Workers: 2}), h)

	srv.SendText(1, "block")
	<-started
	srv.SendText(1, "after the block")
	for i := range 5 {
		srv.SendText(2, fmt.Sprint("chat 2, ", i))
		if m := srv.Next(2, wait); m.Text != fmt.Sprint("echo: chat 2, ", i) {
			t.Fatalf("chat 2's reply %d = %q", i, m.Text)
		}
		srv.SendText(3+int64(i), "hello")
		if m := srv.Next(3+int64(i), wait); m.Text != "echo: hello" {
			t.Fatalf("chat %d's reply = %q", 3+i, m.Text)
		}
	}
	if n := len(srv.Sent(1)); n != 0 {
		t.Fatalf("chat 1 got %d messages while its first update was being handled", n)
	}
	if srv.Offset() > 1000 { // tgtest numbers updates from 1000
		t.Fatalf("offset %d confirms the update still being handled", srv.Offset())
	}
	close(release)
	for _, want := range []string{"released", "echo: after the block"} {
		if m := srv.Next(1, wait); m.Text != want {
			t.Fatalf("chat 1: %q, want %q", m.Text, want)
		}
	}
	if !srv.Await(wait, func() bool { return srv.Pending() == 0 }) {
		t.Fatalf("after the slow update: %d updates unconfirmed", srv.Pending())
	}
	count := map[string]int{}
	for _, u := range h.updates() {
		count[fmt.Sprint(u.ChatID, u.Text)]++
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("update %q handled %d times", k, n)
		}
	}
	if len(count) != 12 {
		t.Errorf("%d updates handled, want 12: %v", len(count), count)
	}
}

// At most Workers updates are handled at once; the others wait their turn and keep
// their chat's order.
func TestWorkersBoundHandlersAtOnce(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	started, release := make(chan bot.Update, 10), make(chan struct{})
	h := blocker(started, release)
	for chat := int64(1); chat <= 3; chat++ {
		srv.SendText(chat, "block")
		srv.SendText(chat, "next")
	}
	run(t, e.transport(t, telegram.Options{Workers: 2}), h) // all six in its first answer
	<-started
	<-started
	// A while for a third to start, if it could: the test passes however long it takes.
	select {
	case u := <-started:
		t.Fatalf("a third handler started (chat %d) with two workers busy", u.ChatID)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	for chat := int64(1); chat <= 3; chat++ {
		var got []string
		for range 2 {
			got = append(got, srv.Next(chat, wait).Text)
		}
		if !slices.Equal(got, []string{"released", "echo: next"}) {
			t.Errorf("chat %d: %q", chat, got)
		}
	}
}
