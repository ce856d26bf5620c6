package telegram_test

import (
	"context"
	"testing"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
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
