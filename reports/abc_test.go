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
