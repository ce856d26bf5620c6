package reports_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a store clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time         { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)        { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }

// funnelBase makes five clients on 25 September and moves them along the funnel in
// October and November:
//
//	A: white -> grey (5 Oct) -> green (10 Oct) -> yellow (3 Nov)
//	B: white -> grey (5 Oct) -> red-green "Дорого" (10 Oct)
//	C: white -> red-green "дорого." (20 Oct)
//	D: white -> grey (3 Nov), manager Boris
//	E: white, in Kazan
//
// and F on 10 November.
func funnelBase(t *testing.T) (*store.Store, *clock, map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: day(time.September, 25)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	ids := map[string]string{}
	for _, n := range []string{"A", "B", "C", "D", "E"} {
		cl := &store.Client{Name: "Клиент " + n, City: "Москва", ManagerID: "anna"}
		if n == "E" {
			cl.City = "Казань"
		}
		if n == "D" {
			cl.ManagerID = "boris"
		}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids[n] = cl.ID
	}
	move := func(at time.Time, who string, to store.Stage, reason string) {
		t.Helper()
		c.Set(at)
		if _, err := st.MoveStage(ctx, "anna", ids[who], to, store.Refusal{Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	move(day(time.October, 5), "A", store.StageGrey, "")
	move(day(time.October, 5), "B", store.StageGrey, "")
	move(day(time.October, 10), "A", store.StageGreen, "")
	move(day(time.October, 10), "B", store.StageRedGreen, "Дорого")
	move(day(time.October, 12), "A", store.StageGreen, "") // not a move: A's time in green goes on
	move(day(time.October, 20), "C", store.StageRedGreen, "дорого.")
	move(day(time.November, 3), "A", store.StageYellow, "")
	move(day(time.November, 3), "D", store.StageGrey, "")
	c.Set(day(time.November, 10))
	if err := st.CreateClient(ctx, "test", &store.Client{Name: "Клиент F"}); err != nil {
		t.Fatal(err)
	}
	c.Set(day(time.November, 15))
	return st, c, ids
}

func month(m time.Month) reports.Period {
	from := time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC)
	return reports.Period{From: from, To: from.AddDate(0, 1, 0)}
}

func TestFunnelOverAPeriodAndAtAPastDate(t *testing.T) {
	ctx := context.Background()
	st, c, _ := funnelBase(t)
	f, err := reports.ComputeFunnel(ctx, st, month(time.October), reports.Cut{}, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "October's start", f.Start, map[store.Stage]int{store.StageWhite: 5})
	wantCounts(t, "October's end", f.End, map[store.Stage]int{store.StageWhite: 2, store.StageGreen: 1, store.StageRedGreen: 2})
	want := []reports.Conversion{{From: store.StageWhite, To: store.StageGrey, Entered: 5, Converted: 2},
		{From: store.StageGrey, To: store.StageGreen, Entered: 2, Converted: 1},
		{From: store.StageGreen, To: store.StageYellow, Entered: 1, Converted: 0}}
	for i, w := range want {
		if f.Conversions[i] != w {
			t.Errorf("conversion %d: %+v, want %+v", i, f.Conversions[i], w)
		}
	}
	for _, cv := range f.Conversions[len(want):] {
		if cv.Entered != 0 {
			t.Errorf("conversion %+v, want nobody", cv)
		}
	}
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
	if f.InStage[store.StageWhite] != (reports.Spent{Median: days(10), N: 3}) || f.InStage[store.StageGrey] != (reports.Spent{Median: days(5), N: 2}) ||
		len(f.InStage) != 2 {
		t.Errorf("time in stages: %+v", f.InStage)
	}
	if len(f.Refusals) != 1 || f.Refusals[0] != (reports.Refusal{Stage: store.StageRedGreen, Reason: "Дорого", N: 2}) {
		t.Errorf("refusals: %+v", f.Refusals)
	}
	if f.Moves != 5 {
		t.Errorf("moves: %d, want 5", f.Moves)
	}

	// November, not over: its end is now; F is new; A's green began on 10 October,
	// the repeated move on the 12th notwithstanding.
	f, err = reports.ComputeFunnel(ctx, st, month(time.November), reports.Cut{}, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "November so far", f.End, map[store.Stage]int{store.StageWhite: 2, store.StageGrey: 1, store.StageYellow: 1, store.StageRedGreen: 2})
	// F, made in November, entered white in it.
	if cv := f.Conversions[0]; cv.Entered != 3 || cv.Converted != 1 {
		t.Errorf("white -> grey in November: %+v, want 3 entered (D, E, F), 1 went on (D)", cv)
	}
	if f.InStage[store.StageGreen] != (reports.Spent{Median: days(24), N: 1}) || f.InStage[store.StageWhite] != (reports.Spent{Median: days(39), N: 1}) {
		t.Errorf("time in stages in November: %+v", f.InStage)
	}

	// Any past date: the counts on 7 October.
	f, err = reports.ComputeFunnel(ctx, st, reports.Period{From: day(time.September, 1), To: day(time.October, 7)}, reports.Cut{}, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "7 October", f.End, map[store.Stage]int{store.StageWhite: 3, store.StageGrey: 2})
}

func TestFunnelCuts(t *testing.T) {
	ctx := context.Background()
	st, c, _ := funnelBase(t)
	for _, tc := range []struct {
		cut  reports.Cut
		want map[store.Stage]int
	}{
		{reports.Cut{City: "казань"}, map[store.Stage]int{store.StageWhite: 1}},
		{reports.Cut{ManagerID: "boris"}, map[store.Stage]int{store.StageGrey: 1}},
		{reports.Cut{ManagerID: "anna", City: "Москва"}, map[store.Stage]int{store.StageYellow: 1, store.StageRedGreen: 2}},
		{reports.Cut{Industry: "нет такой"}, map[store.Stage]int{}},
	} {
		f, err := reports.ComputeFunnel(ctx, st, month(time.November), tc.cut, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "cut", f.End, tc.want)
	}
}

func wantCounts(t *testing.T, what string, got, want map[store.Stage]int) {
	t.Helper()
	for _, s := range store.Stages {
		if got[s] != want[s] {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
}

// Six clients with known monthly orders from January to June: their ABC classes by
// revenue and XYZ classes by how regular their months are.
func TestABCXYZOfKnownOrders(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	monthly := map[string][]int64{ // roubles a month, January to June
		"P": {100, 100, 100, 100, 100, 100}, // 600, steady: X
		"Q": {100, 120, 80, 100, 120, 80},   // 600, varies by 16%: Y
		"R": {300, 0, 0, 0, 0, 0},           // 300, once: Z
		"S": {0, 100, 0, 100, 0, 0},         // 200
		"T": {0, 0, 0, 0, 0, 60},            // 60
		"U": {0, 0, 40, 0, 0, 0},            // 40
	}
	ids := map[string]string{}
	for name, months := range monthly {
		c := &store.Client{Name: "Клиент " + name}
		if err := st.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		ids[c.ID] = name
		for m, rub := range months {
			if rub == 0 {
				continue
			}
			order(t, st, c.ID, rub, time.Date(2026, time.Month(m+1), 15, 12, 0, 0, 0, time.UTC), store.OrderPaid)
		}
		if name == "U" { // neither a cancelled order nor one after the period counts
			order(t, st, c.ID, 1000, time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), store.OrderCancelled)
			order(t, st, c.ID, 1000, time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), store.OrderPaid)
		}
	}
	p := reports.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	got, err := reports.Classify(ctx, st, p, time.UTC, reports.DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		revenue int64
		abc     string
		cv      float64
		xyz     string
	}{
		"P": {60000, "A", 0, "X"}, "Q": {60000, "A", 0.1633, "Y"}, "R": {30000, "A", 2.2361, "Z"}, // R crosses 80%: still A
		"S": {20000, "B", 1.4142, "Z"}, "T": {6000, "B", 2.2361, "Z"}, "U": {4000, "C", 2.2361, "Z"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d clients classified: %+v", len(got), got)
	}
	var last int64 = math.MaxInt64
	for _, c := range got {
		w := want[ids[c.ClientID]]
		if c.Revenue != w.revenue || c.ABC != w.abc || c.XYZ != w.xyz || math.Abs(c.Variation-w.cv) > 0.0001 {
			t.Errorf("%s: %+v, want %+v", ids[c.ClientID], c, w)
		}
		if c.Revenue > last {
			t.Errorf("not by revenue: %+v", got)
		}
		last = c.Revenue
	}
}

func order(t *testing.T, st *store.Store, clientID string, rub int64, at time.Time, state store.OrderState) {
	t.Helper()
	if err := st.CreateOrder(context.Background(), "test", &store.Order{ClientID: clientID, Amount: rub * 100, Date: at, State: state}); err != nil {
		t.Fatal(err)
	}
}

// Per lead source: clients made in November, clients whose first paid order was paid
// in it (gold by the orders, on their dates: not a stage moved by hand, and not the
// day a late order was typed in), orders paid in full and revenue (payments);
// sources typed in another case are one source.
func TestLeadSourcesOfAMonth(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: day(time.October, 1)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	made := func(at time.Time, source string) string {
		t.Helper()
		c.Set(at)
		cl := &store.Client{Name: "Клиент " + source + at.Format("0102"), LeadSource: source}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		return cl.ID
	}
	paid := func(at time.Time, clientID string, rub int64) {
		t.Helper()
		c.Set(at)
		order(t, st, clientID, rub, at, store.OrderPaid)
	}
	referred := made(day(time.October, 1), "рекомендация")
	fair := made(day(time.October, 20), "выставка")
	site := made(day(time.October, 21), "сайт")
	ya1 := made(day(time.November, 2), "Яндекс.Директ")
	ya2 := made(day(time.November, 3), "яндекс.директ")
	none := made(day(time.November, 4), "")
	made(day(time.December, 1), "Яндекс.Директ") // after the period
	paid(day(time.October, 25), site, 1000)      // before the period
	paid(day(time.November, 5), ya1, 500)
	paid(day(time.November, 6), ya1, 200) // gold already
	paid(day(time.November, 7), fair, 300)
	paid(day(time.November, 8), site, 400) // a second order: not gold
	// Part of an order: revenue, neither a paid order nor gold.
	c.Set(day(time.November, 9))
	if err := st.CreateOrder(ctx, "test", &store.Order{ID: "part", ClientID: ya2, Amount: 90000, Date: day(time.November, 9)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PayOrder(ctx, store.Viewer{Role: store.RoleHead}, "part", 30000, day(time.November, 10)); err != nil {
		t.Fatal(err)
	}
	// Moved to gold by hand, without an order.
	c.Set(day(time.November, 12))
	if _, err := st.MoveStage(ctx, "anna", none, store.StageGold, store.Refusal{}); err != nil {
		t.Fatal(err)
	}
	// Paid on 20 November, typed in on 2 December: November's gold.
	c.Set(day(time.December, 2))
	order(t, st, referred, 250, day(time.November, 20), store.OrderPaid)

	rows, err := reports.Sources(ctx, st, month(time.November), reports.Cut{})
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.SourceRow{
		{Source: "Яндекс.Директ", NewClients: 2, ToGold: 1, PaidOrders: 2, Revenue: 100000},
		{Source: "сайт", PaidOrders: 1, Revenue: 40000},
		{Source: "выставка", ToGold: 1, PaidOrders: 1, Revenue: 30000},
		{Source: "рекомендация", ToGold: 1, PaidOrders: 1, Revenue: 25000},
		{Source: "", NewClients: 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows: %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// Quick reasons are counted by their code, whatever language the manager tapped them
// in, and named in the reader's; the same words typed are counted with them.
func TestFunnelCountsQuickReasonsInTheReadersLanguage(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: day(time.October, 1)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	for i, why := range []store.Refusal{{Code: store.RefusalPrice, Reason: "Дорого"}, {Code: store.RefusalPrice, Reason: "Too expensive"},
		{Reason: "дорого"}, {Code: store.RefusalCompetitor, Reason: "Ушли к конкуренту"}} {
		cl := &store.Client{Name: "Клиент " + strconv.Itoa(i)}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		c.Set(day(time.October, 2+i))
		if _, err := st.MoveStage(ctx, "anna", cl.ID, store.StageRedGreen, why); err != nil {
			t.Fatal(err)
		}
	}
	f, err := reports.ComputeFunnel(ctx, st, month(time.October), reports.Cut{}, day(time.November, 1))
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][][]any{
		"ru": {{"Красно-зелёный", "Дорого", 3}, {"Красно-зелёный", "Ушли к конкуренту", 1}},
		"en": {{"Red-green", "Too expensive", 2}, {"Red-green", "Went to a competitor", 1}, {"Red-green", "Дорого", 1}},
	} {
		w, err := reports.LoadWords(lang)
		if err != nil {
			t.Fatal(err)
		}
		l := f.Layout(w)
		if got := l.Tables[1].Rows; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s refusals: %v, want %v", lang, got, want)
		}
		if top := want[0][1].(string); !strings.Contains(strings.Join(l.Summary, "\n"), top+"\" (") && !strings.Contains(strings.Join(l.Summary, "\n"), top+"» (") {
			t.Errorf("%s summary lacks %q: %q", lang, top, l.Summary)
		}
	}
}
