package bot_test

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// Handling time per update, from receipt to the replies handed to the transport, on a
// base of 10k clients and 50 managers:
//
//	go test -run '^$' -bench . -benchtime 2000x ./bot/

const (
	benchClients  = 10_000
	benchManagers = 50
)

func benchBot(b *testing.B) (*bot.Bot, *storetest.Seeded) {
	base := storetest.Seed(b, benchClients, benchManagers)
	core, err := bot.New(base.Store, bot.Options{Texts: templates.FS})
	if err != nil {
		b.Fatal(err)
	}
	return core, base
}

// latencies collects per-update durations and reports their percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) { l.reportAs(b, "") }

// reportAs reports them with the metrics' names prefixed.
func (l latencies) reportAs(b *testing.B, prefix string) {
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	pct := func(p float64) float64 {
		return float64(l[min(int(float64(len(l))*p), len(l)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), prefix+"p50-ms")
	b.ReportMetric(pct(0.99), prefix+"p99-ms")
}

func handle(b *testing.B, core *bot.Bot, tg int64, u bot.Update) ([]bot.Reply, time.Duration) {
	u.ChatID, u.User = tg, bot.User{ID: tg, LanguageCode: "ru"}
	start := time.Now()
	out := core.Handle(context.Background(), u)
	d := time.Since(start)
	if len(out) == 0 {
		b.Fatalf("no reply to %+v", u)
	}
	return out, d
}

func buttonData(b *testing.B, out []bot.Reply, label string) string {
	for _, r := range out {
		for _, line := range r.Buttons {
			for _, btn := range line {
				if strings.Contains(btn.Text, label) {
					return btn.Data
				}
			}
		}
	}
	b.Fatalf("no button %q in %+v", label, out)
	return ""
}

func BenchmarkUpdate(b *testing.B) {
	core, base := benchBot(b)
	pick := func(i int) (int64, int) {
		j := (i * 7919) % benchClients
		return base.Managers[j%benchManagers].TelegramID, j
	}
	find := func(query func(j int) string) func(b *testing.B) {
		return func(b *testing.B) {
			var l latencies
			for i := 0; b.Loop(); i++ {
				tg, j := pick(i)
				out, d := handle(b, core, tg, bot.Update{Text: query(j)})
				if !strings.Contains(out[0].Text, base.Names[j]) {
					b.Fatalf("%q did not open its card: %s", query(j), out[0].Text)
				}
				l = append(l, d)
			}
			l.report(b)
		}
	}
	b.Run("find-by-phone", find(func(j int) string { return base.Phones[j] }))
	b.Run("find-by-name", find(func(j int) string { return base.Names[j] }))
	b.Run("call-log", func(b *testing.B) {
		// Three updates a call: the Call button, the outcome, Save (the card is open).
		var l latencies
		for i := 0; b.Loop(); i++ {
			tg, j := pick(i)
			b.StopTimer()
			card, _ := handle(b, core, tg, bot.Update{Text: base.Phones[j]})
			b.StartTimer()
			out, d1 := handle(b, core, tg, bot.Update{Callback: &bot.Callback{ID: "1", Data: buttonData(b, card, "Звонок"), MessageID: 1}})
			out, d2 := handle(b, core, tg, bot.Update{Callback: &bot.Callback{ID: "2", Data: buttonData(b, out, "Дозвонился"), MessageID: 1}})
			out, d3 := handle(b, core, tg, bot.Update{Callback: &bot.Callback{ID: "3", Data: buttonData(b, out, "Сохранить"), MessageID: 1}})
			if !strings.Contains(out[len(out)-1].Text, "Звонок записан") {
				b.Fatalf("call not saved: %+v", out)
			}
			l = append(l, d1, d2, d3)
		}
		l.report(b)
	})
}

// BenchmarkOpenDialogs measures the memory held by managers who are each halfway
// through creating a client: one open dialog per iteration, so -benchtime 1000x is
// 1,000 open dialogs at once.
func BenchmarkOpenDialogs(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	core, err := bot.New(st, bot.Options{Texts: templates.FS})
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; b.Loop(); i++ {
		m := &store.Manager{ID: fmt.Sprintf("m%d", i), Name: "M", Role: store.RoleManager, Language: "ru", TimeZone: "Europe/Moscow"}
		u := bot.Update{ChatID: int64(i), User: bot.User{ID: int64(i)}}
		u.Text = "/new"
		core.HandleAs(ctx, m, u)
		u.Text, u.Callback = "", &bot.Callback{ID: "k", Data: "fk:company"}
		core.HandleAs(ctx, m, u)
		u.Callback, u.Text = nil, fmt.Sprintf("ООО «Клиент номер %d» с длинным названием", i)
		core.HandleAs(ctx, m, u)
		u.Text = "7707083893"
		if out := core.HandleAs(ctx, m, u); !strings.Contains(out[0].Text, "Город") {
			b.Fatalf("dialog did not advance: %+v", out)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	b.ReportMetric(grown/float64(b.N), "bytes/dialog")
	b.ReportMetric(grown/(1<<20), "MB-total")
	runtime.KeepAlive(core)
}

// BenchmarkOrder records orders on the base of BenchmarkUpdate. chat: through the
// bot, the way a phone does: from the open card, 💰 Order, what, amount, Today, then
// Invoiced or Paid (every other order), each update through Bot.Handle; it reports
// each update's p50 and p99, and the save's (the last tap). store: Store.RecordOrder
// alone, the same orders, for the bot's share of the save.
//
//	go test -run '^$' -bench Order -benchtime 1000x ./bot/
func BenchmarkOrder(b *testing.B) {
	core, base := benchBot(b)
	b.Run("chat", func(b *testing.B) {
		var all, saves latencies
		for i := 0; b.Loop(); i++ {
			j := (i * 7919) % benchClients
			tg := base.Managers[j%benchManagers].TelegramID
			b.StopTimer()
			card, _ := handle(b, core, tg, bot.Update{Text: base.Phones[j]})
			b.StartTimer()
			tap := func(out []bot.Reply, label string) ([]bot.Reply, time.Duration) {
				return handle(b, core, tg, bot.Update{Callback: &bot.Callback{ID: "1", Data: buttonData(b, out, label), MessageID: 1}})
			}
			out, d1 := tap(card, "💰 Заказ")
			_, d2 := handle(b, core, tg, bot.Update{Text: "Бумага А4, 50 пачек"})
			out, d3 := handle(b, core, tg, bot.Update{Text: "12 500,50"})
			out, d4 := tap(out, "Сегодня")
			state := "Выставлен счёт"
			if i%2 == 1 {
				state = "Оплачен"
			}
			out, d5 := tap(out, state)
			if !strings.Contains(out[len(out)-1].Text, "записан") {
				b.Fatalf("order not saved: %+v", out)
			}
			all = append(all, d1, d2, d3, d4, d5)
			saves = append(saves, d5)
		}
		all.report(b)
		saves.reportAs(b, "save-")
	})
	b.Run("store", func(b *testing.B) {
		var l latencies
		for i := 0; b.Loop(); i++ {
			j := (i*7919 + 1) % benchClients // other clients than chat's
			m := base.Managers[j%benchManagers]
			start := time.Now()
			if _, err := base.Store.RecordOrder(context.Background(), store.Viewer{ManagerID: m.ID, Role: m.Role},
				store.NewOrder{ClientID: base.Clients[j], What: "Бумага А4, 50 пачек", Amount: 12_500_50, Paid: i%2 == 1}); err != nil {
				b.Fatal(err)
			}
			l = append(l, time.Since(start))
		}
		l.report(b)
	})
}
