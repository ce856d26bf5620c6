package telegram_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// BenchmarkConversation is the whole bot under load: 50 managers chatting at once
// through the fake Bot API (limits off: the fake imposes none, and Telegram's own
// 30 messages a second would hide the bot's speed), on 10k clients. Each update is a
// search by phone, a search by name, or /tasks; each gets one message back.
//
//	go test -run '^$' -bench Conversation -benchtime 10000x ./bot/telegram/
func BenchmarkConversation(b *testing.B) {
	base := storetest.Seed(b, 10_000, 50)
	core, err := bot.New(base.Store, bot.Options{Texts: templates.FS})
	if err != nil {
		b.Fatal(err)
	}
	srv := tgtest.New(b)
	tr, err := telegram.New(tgtest.Token, telegram.Options{APIURL: srv.URL(), PollTimeout: time.Second,
		GlobalRate: rate.Inf, PerChatRate: rate.Inf, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx, core) }()
	defer func() { cancel(); <-done }()

	texts := make([]string, b.N)
	chats := make([]int64, b.N)
	for i := range b.N {
		j := (i * 7919) % len(base.Clients)
		chats[i] = base.Managers[j%len(base.Managers)].TelegramID
		switch i % 4 {
		case 0, 1:
			texts[i] = base.Phones[j]
		case 2:
			texts[i] = base.Names[j]
		default:
			texts[i] = "/tasks"
		}
	}
	sent := srv.Count("sendMessage")
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		srv.SendText(chats[i], texts[i])
	}
	if !srv.Await(5*time.Minute, func() bool { return srv.Count("sendMessage")-sent >= b.N }) {
		b.Fatalf("%d of %d replies", srv.Count("sendMessage")-sent, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}
