package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkReports times every report for a month and for a year on a generated base
// of CRM_BENCH_CLIENTS clients (default 10,000) with CRM_BENCH_INTERACTIONS timeline
// entries (default 300,000) and CRM_BENCH_ORDERS orders (default 50,000: paid, paid
// in parts, owed, overdue and cancelled, see benchOrder) over two years, as a base kept by an older version leaves them: the stage moves and the
// activity are counted from the records first, as `crm migrate` does. It also times
// the nightly ABC/XYZ and at-risk marks, the first night (every class written) and
// the next (nothing changed), and reports each one's peak RSS (the engine runs in
// this process too).
//
//	go test -run '^$' -bench Reports -benchtime 3x -timeout 60m ./store/
//	CRM_BENCH_CLIENTS=100000 go test -run '^$' -bench Reports -benchtime 3x -timeout 90m ./store/
//	# a year's ABC/XYZ and payments at 100,000 clients and 500,000 orders
//	CRM_BENCH_CLIENTS=100000 CRM_BENCH_ORDERS=500000 go test -run '^$' -bench 'Reports/(abc|payments)/year' -benchtime 3x -timeout 120m ./store/
func BenchmarkReports(b *testing.B) {
	ctx := context.Background()
	procmem.LimitByDefault(os.Getenv) // as crm does
	nClients := benchEnv("CRM_BENCH_CLIENTS", 10_000)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clock := now
	s := storetest.New(b, func(o *store.Options) { o.Now = func() time.Time { return clock } })

	start := time.Now()
	seedReportBase(ctx, b, s, &clock, now, nClients, benchEnv("CRM_BENCH_INTERACTIONS", 300_000), benchEnv("CRM_BENCH_ORDERS", 50_000))
	seeded := time.Since(start)
	start = time.Now()
	clock = now
	s.ForgetActivityForTest(ctx, b, now)
	moves, err := s.BackfillStageMoves(ctx)
	if err != nil {
		b.Fatal(err)
	}
	events, err := s.BackfillActivity(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("base: %d clients seeded in %v; %d stage moves and %d events counted from the records in %v", nClients,
		seeded.Round(time.Second), moves, events, time.Since(start).Round(time.Second))
	if _, err := s.ReportClients(ctx); err != nil { // the directory, loaded once at start in crm serve
		b.Fatal(err)
	}
	// What the payments report reads, each part timed alone: the orders with money
	// owed, and the days' counts of a year.
	start = time.Now()
	open, overdue := 0, 0
	if err := s.EachOpenOrder(ctx, func(o *store.Order) error {
		open++
		if o.Overdue(now) {
			overdue++
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d orders with money owed, %d of them overdue, read in %v", open, overdue, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if _, err := s.ActivityBetween(ctx, now.AddDate(-1, 0, 0), now); err != nil {
		b.Fatal(err)
	}
	b.Logf("a year of days' counts read in %v", time.Since(start).Round(time.Millisecond))
	// The first read of a closed day packs its moves; a base in use has its past days
	// packed by the reports read before.
	start = time.Now()
	if _, err := s.StageMoves(ctx, now.AddDate(-3, 0, 0), now); err != nil {
		b.Fatal(err)
	}
	b.Logf("the closed days' stage moves packed by a first read in %v", time.Since(start).Round(time.Millisecond))

	words, err := reports.LoadWords("ru")
	if err != nil {
		b.Fatal(err)
	}
	month := reports.Period{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	year := reports.Period{From: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), To: month.To}
	for _, name := range reports.Names() {
		for _, span := range []struct {
			name string
			p    reports.Period
		}{{"month", month}, {"year", year}} {
			b.Run(name+"/"+span.name, func(b *testing.B) {
				rest := procmem.Settle()
				heapProfile(b, "before")
				for b.Loop() {
					l, err := reports.Build(ctx, s, reports.Request{Name: name, Period: span.p}, words, now)
					if err != nil || l.Empty {
						b.Fatalf("%v, empty %v", err, l.Empty)
					}
				}
				heapProfile(b, "after")
				b.ReportMetric(procmem.PeakMB(), "peak-MB")
				b.ReportMetric(rest, "rest-MB")
			})
		}
	}
	sch := scheduler.New(s, nil, scheduler.Options{Now: func() time.Time { return now }})
	for _, night := range []string{"first", "next"} {
		b.Run("nightly-marks/"+night, func(b *testing.B) {
			rest := procmem.Settle()
			var written int
			for i := 0; b.Loop(); i++ {
				n, _, err := sch.MarkClients(ctx, now)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					written = n
				}
			}
			b.ReportMetric(float64(written), "clients-written")
			b.ReportMetric(procmem.PeakMB(), "peak-MB")
			b.ReportMetric(rest, "rest-MB")
		})
	}
}

// heapProfile writes the heap's profile to $CRM_BENCH_MEMPROFILE/<benchmark>.<when>.prof
// when that variable names a folder: what a report allocates is the difference,
// `go tool pprof -sample_index=alloc_space -base X.before.prof X.after.prof`.
func heapProfile(b *testing.B, when string) {
	dir := os.Getenv("CRM_BENCH_MEMPROFILE")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+"."+when+".prof"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// seedReportBase makes clients over two years, moves them along the funnel, and
// writes their calls, notes, meetings, letters and paid orders.
func seedReportBase(ctx context.Context, b *testing.B, s *store.Store, clock *time.Time, now time.Time, nClients, nItems, nOrders int) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var managers []string
	for i := range 10 {
		m := &store.Manager{Name: fmt.Sprintf("Менеджер %02d", i+1), TelegramID: int64(7001 + i)}
		if err := s.CreateManager(ctx, "seed", m); err != nil {
			b.Fatal(err)
		}
		managers = append(managers, m.ID)
	}
	// Where clients end, out of 100: white 20, grey 15, green 10, yellow 10, green-gold 10,
	// gold 15, platinum 8, red-green 8, red-gold 3, red-platinum 1.
	ends := []struct {
		stage store.Stage
		upTo  int // the index in reports.Chain reached before a red stage
		n     int
	}{{store.StageWhite, 0, 20}, {store.StageGrey, 1, 15}, {store.StageGreen, 2, 10}, {store.StageYellow, 3, 10},
		{store.StageGreenGold, 4, 10}, {store.StageGold, 5, 15}, {store.StagePlatinum, 6, 8}, {store.StageRedGreen, 2, 8},
		{store.StageRedGold, 5, 3}, {store.StageRedPlatinum, 6, 1}}
	pick := func() (store.Stage, int) {
		k := r.IntN(100)
		for _, e := range ends {
			if k < e.n {
				return e.stage, e.upTo
			}
			k -= e.n
		}
		return store.StageWhite, 0
	}
	cities := []string{"Москва", "Казань", "Екатеринбург", "Новосибирск"}
	sources := []string{"Яндекс.Директ", "выставка", "сайт", "рекомендация", ""}
	reasons := []string{"Дорого", "Нет бюджета", "Выбрали конкурента"}
	outcomes := []string{"reached", "no_answer", "call_back", "refused", "meeting", "order"}
	between := func(a, z time.Time) time.Time {
		if !a.Before(z) {
			return a
		}
		return a.Add(time.Duration(r.Int64N(int64(z.Sub(a)))))
	}
	timelines := map[string][]store.Interaction{}
	var buyers []string
	buyerFrom := map[string]time.Time{}
	perClient := max(1, nItems/nClients)
	const batch = 1000
	for off := 0; off < nClients; off += batch {
		// Each batch of clients is made on its own day of the last two years.
		*clock = now.AddDate(0, 0, -730+off*720/nClients)
		created := *clock
		var cs []*store.Client
		type plan struct {
			stage store.Stage
			upTo  int
		}
		var plans []plan
		for i := off; i < min(off+batch, nClients); i++ {
			st, upTo := pick()
			c := &store.Client{Name: fmt.Sprintf("ООО Клиент %06d", i), ManagerID: managers[i%len(managers)], Stage: st,
				City: cities[i%len(cities)], LeadSource: sources[i%len(sources)]}
			if st.Red() {
				c.RefusalReason = reasons[i%len(reasons)]
			}
			cs = append(cs, c)
			plans = append(plans, plan{st, upTo})
		}
		for i, err := range s.CreateClients(ctx, "seed", cs) {
			if err != nil {
				b.Fatalf("client %d: %v", off+i, err)
			}
		}
		for i, c := range cs {
			var items []store.Interaction
			at := created
			from := store.StageWhite
			steps := plans[i].upTo
			if plans[i].stage.Red() {
				steps++
			}
			for k := 1; k <= steps; k++ {
				to := plans[i].stage
				if k <= plans[i].upTo {
					to = reports.Chain[k]
				}
				at = between(at, at.Add(time.Duration(now.Sub(at)/time.Duration(steps-k+2))))
				ch := &store.StageChange{From: from, To: to}
				if to.Red() {
					ch.Reason = c.RefusalReason
				}
				items = append(items, store.Interaction{Kind: store.InteractionStageChange, At: at, AuthorID: c.ManagerID, Stage: ch})
				if to == store.StageGold {
					buyers = append(buyers, c.ID)
					buyerFrom[c.ID] = at
				}
				from = to
			}
			for len(items) < perClient {
				it := store.Interaction{At: between(created, now), AuthorID: c.ManagerID}
				switch k := r.IntN(100); {
				case k < 60:
					it.Kind, it.Call = store.InteractionCall, &store.Call{Direction: "out", Outcome: outcomes[r.IntN(len(outcomes))]}
				case k < 75:
					it.Kind, it.Text = store.InteractionNote, "Обсудили условия поставки"
				case k < 80:
					it.Kind = store.InteractionMeeting
				case k < 90:
					it.Kind, it.AuthorID = store.InteractionEmailIn, ""
				default:
					it.Kind = store.InteractionEmailOut
				}
				items = append(items, it)
			}
			timelines[c.ID] = items
		}
	}
	s.SeedHistoryForTest(ctx, b, timelines, nil)
	// The buyers' orders, a buyer's all at once (their order list is written whole),
	// in parts of about 50,000 to keep the seeding's memory small.
	var orders []store.Order
	made := 0
	for k, client := range buyers {
		n := nOrders / len(buyers)
		if k < nOrders%len(buyers) {
			n++
		}
		for range n {
			made++
			orders = append(orders, benchOrder(r, made, client, buyerFrom[client], now))
		}
		if len(orders) >= 50_000 || k == len(buyers)-1 {
			s.SeedHistoryForTest(ctx, b, nil, orders)
			orders = orders[:0]
		}
	}
}

// benchOrder is order number, one of a buyer's orders after from, as of now: 70% paid
// in one payment within two weeks, 10% in two parts (the second up to two weeks
// later, not yet received when that is after now), 10% invoiced with ten days to pay
// (paid late when older than a month, else owed, overdue past its due date, a third
// of them partly paid), 5% cancelled and 5% invoiced with no due date (paid when
// older than two weeks). The buyers' orders grow towards now; with three months
// instead of a month, 79,201 of 500,000 were owed at the end, far more than a sales
// team lets stand.
func benchOrder(r *rand.Rand, number int, client string, from, now time.Time) store.Order {
	day := 24 * time.Hour
	date := from
	if from.Before(now) {
		date = from.Add(time.Duration(r.Int64N(int64(now.Sub(from)))))
	}
	o := store.Order{ID: fmt.Sprintf("o%07d", number), ClientID: client, Amount: (1 + r.Int64N(100)) * 100_000,
		Currency: "RUB", State: store.OrderInvoiced, Date: date, CreatedAt: date, CreatedBy: "seed"}
	pay := func(at time.Time, amount int64) {
		if at.After(now) {
			return
		}
		o.Payments = append(o.Payments, store.Payment{ID: fmt.Sprintf("p%d", len(o.Payments)), Date: at, Amount: amount, At: at})
		if o.PaidSum() == o.Amount {
			o.State, o.PaidAt = store.OrderPaid, &at
		}
	}
	old := date.Before(now.Add(-30 * day))
	switch k := r.IntN(100); {
	case k < 70:
		pay(date.Add(time.Duration(r.IntN(14))*day), o.Amount)
	case k < 80:
		first := date.Add(time.Duration(r.IntN(10)) * day)
		pay(first, o.Amount/2)
		pay(first.Add(time.Duration(1+r.IntN(14))*day), o.Amount-o.Amount/2)
	case k < 90:
		due := date.Add(10 * day)
		o.Due = &due
		if old {
			pay(date.Add(time.Duration(20+r.IntN(40))*day), o.Amount)
		} else if r.IntN(3) == 0 {
			pay(date.Add(time.Duration(r.IntN(5))*day), o.Amount/3)
		}
	case k < 95:
		o.State, o.CancelReason = store.OrderCancelled, "Передумали"
	default:
		if date.Before(now.Add(-14 * day)) {
			pay(date.Add(time.Duration(r.IntN(14))*day), o.Amount)
		}
	}
	return o
}

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
