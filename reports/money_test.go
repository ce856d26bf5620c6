package reports_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The managers' revenue is the payments received in the period, whatever month their
// order was made in, and their orders are those paid in full in it (moneyBase).
func TestManagersRevenueIsThePaymentsOfThePeriod(t *testing.T) {
	ctx := context.Background()
	st, c, ids := moneyBase(t)
	team, err := reports.ComputeTeam(ctx, st, month(time.November), "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	type money struct{ orders, revenue int64 }
	got := map[string][2]money{}
	for _, m := range team.Managers {
		got[m.ManagerID] = [2]money{{m.Now.Orders, m.Now.Revenue}, {m.Before.Orders, m.Before.Revenue}}
	}
	const r = 100
	for who, want := range map[string][2]money{ // November, then October
		ids["Анна"]:     {{0, 10_000 * r}, {1, 120_000 * r}},
		ids["Борис"]:    {{1, 80_000 * r}, {0, 5_000 * r}}, // October's is the September order's part
		store.NoManager: {{0, 0}, {0, 0}},
	} {
		if got[who] != want {
			t.Errorf("%s: orders and revenue %v, want %v", who, got[who], want)
		}
	}
	if team.Total.Now.Revenue != 90_000*r || team.Total.Before.Revenue != 125_000*r {
		t.Errorf("team: %d and %d", team.Total.Now.Revenue, team.Total.Before.Revenue)
	}
}

// ABC/XYZ reads payments on their dates: an order paid in three monthly parts is a
// steady client, an unpaid invoice is no revenue, a cancelled order is nothing.
func TestABCXYZFromPayments(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	head := store.Viewer{Role: store.RoleHead}
	on := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, time.UTC) }
	ids := map[string]string{}
	for _, n := range []string{"P", "Q", "R", "S"} {
		cl := &store.Client{Name: "Клиент " + n}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids[cl.ID] = n
		ids[n] = cl.ID
	}
	invoice := func(id, client string, rub int64, at time.Time) {
		t.Helper()
		c.Set(at)
		if err := st.CreateOrder(ctx, "test", &store.Order{ID: id, ClientID: ids[client], Amount: rub * 100, Date: at}); err != nil {
			t.Fatal(err)
		}
	}
	pay := func(id string, rub int64, at time.Time) {
		t.Helper()
		c.Set(at)
		if _, err := st.PayOrder(ctx, head, id, rub*100, at); err != nil {
			t.Fatal(err)
		}
	}
	invoice("p", "P", 900, on(1, 15)) // 300 a month: January, February, March
	pay("p", 300, on(1, 20))
	invoice("q0", "Q", 900, on(1, 10)) // never paid
	invoice("r", "R", 1000, on(2, 1))
	pay("r", 100, on(2, 2))
	pay("p", 300, on(2, 20))
	invoice("s", "S", 5000, on(2, 10))
	if _, err := st.CancelOrder(ctx, head, "s", "передумали"); err != nil {
		t.Fatal(err)
	}
	invoice("q1", "Q", 300, on(3, 5))
	pay("q1", 300, on(3, 5))
	pay("p", 300, on(3, 20))
	p := reports.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	got, err := reports.Classify(ctx, st, p, time.UTC, reports.DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		revenue int64
		abc     string
		cv      float64
		xyz     string
	}{{"P", 90000, "A", 0, "X"}, {"Q", 30000, "A", 1.4142, "Z"}, {"R", 10000, "B", 1.4142, "Z"}}
	if len(got) != len(want) {
		t.Fatalf("classes: %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if ids[g.ClientID] != w.name || g.Revenue != w.revenue || g.ABC != w.abc || g.XYZ != w.xyz || math.Abs(g.Variation-w.cv) > 0.0001 {
			t.Errorf("%d: %s %+v, want %+v", i, ids[g.ClientID], g, w)
		}
	}
}

// The funnel's gold is the stage, and the stage follows the orders: in October G1's
// order is paid in two parts (gold at the second), G2's invoice stays unpaid (still
// green-gold), G3's four orders are paid (gold, then platinum).
func TestFunnelGoldFollowsPaidOrders(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: day(time.September, 1)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	head := store.Viewer{Role: store.RoleHead}
	ids := map[string]string{}
	for _, n := range []string{"G1", "G2", "G3"} {
		cl := &store.Client{Name: "Клиент " + n}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids[n] = cl.ID
		if _, err := st.MoveStage(ctx, "anna", cl.ID, store.StageGreenGold, store.Refusal{}); err != nil {
			t.Fatal(err)
		}
	}
	at := func(d int) time.Time { c.Set(day(time.October, d)); return c.Now() }
	mustOrder := func(o *store.Order) {
		t.Helper()
		if err := st.CreateOrder(ctx, "anna", o); err != nil {
			t.Fatal(err)
		}
	}
	mustOrder(&store.Order{ID: "g1", ClientID: ids["G1"], Amount: 100000, Date: at(5)})
	mustOrder(&store.Order{ID: "g2", ClientID: ids["G2"], Amount: 100000, Date: at(5)})
	for _, d := range []int{10, 20} {
		if _, err := st.PayOrder(ctx, head, "g1", 50000, at(d)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		mustOrder(&store.Order{ClientID: ids["G3"], Amount: 10000, Date: at(25), State: store.OrderPaid, ID: "g3-" + string(rune('a'+i))})
	}
	f, err := reports.ComputeFunnel(ctx, st, month(time.October), reports.Cut{}, day(time.November, 1))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "October's start", f.Start, map[store.Stage]int{store.StageGreenGold: 3})
	wantCounts(t, "October's end", f.End, map[store.Stage]int{store.StageGreenGold: 1, store.StageGold: 1, store.StagePlatinum: 1})
	for _, want := range []reports.Conversion{{From: store.StageGreenGold, To: store.StageGold, Entered: 3, Converted: 2},
		{From: store.StageGold, To: store.StagePlatinum, Entered: 2, Converted: 1}} {
		if got, _ := f.ConversionFrom(want.From); got != want {
			t.Errorf("conversion %+v, want %+v", got, want)
		}
	}
	// The first part paid, G1 was still green-gold.
	f, err = reports.ComputeFunnel(ctx, st, reports.Period{From: month(time.October).From, To: day(time.October, 15)}, reports.Cut{}, day(time.November, 1))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, "15 October", f.End, map[store.Stage]int{store.StageGreenGold: 3})
}
