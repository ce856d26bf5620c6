package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The nightly job classes the clients by last year's orders, flags the gold client
// whose last order is six months old, tells its manager once, and runs once a night.
func TestNightlyMarks(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	anna := &store.Manager{Name: "Анна", TelegramID: 1}
	if err := st.CreateManager(ctx, "test", anna); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"Альфа", "Бета", "Гамма", "Дельта"} {
		cl := &store.Client{Name: name, ManagerID: anna.ID}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids[name] = cl.ID
	}
	order := func(name string, rub int64, y int, m time.Month, d int) {
		t.Helper()
		if err := st.CreateOrder(ctx, "test", &store.Order{ClientID: ids[name], Amount: rub * 100, State: store.OrderPaid,
			Date: time.Date(y, m, d, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	// Альфа: 1,000 every month from November 2025 to October 2026 (platinum, steady);
	// Бета: 2,000 once in May (gold, quiet since); Гамма: 500 in October (gold).
	for m := range 12 {
		order("Альфа", 1000, 2025, time.November+time.Month(m), 5)
	}
	order("Бета", 2000, 2026, time.May, 1)
	order("Гамма", 500, 2026, time.October, 15)

	n := &inbox{}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one"})
	c.Set(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))
	if got, err := s.Marks(ctx); got != 0 || err != nil || len(n.risks) != 0 {
		t.Fatalf("before 03:00: %d, %v, %v", got, err, n.risks)
	}
	c.Set(time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC))
	if got, err := s.Marks(ctx); got != 3 || err != nil {
		t.Fatalf("marks: %d changed, %v", got, err)
	}
	for name, want := range map[string]string{"Альфа": "AX", "Бета": "BZ", "Гамма": "CZ", "Дельта": ""} {
		cl, err := st.Client(ctx, ids[name])
		if err != nil || cl.Class != want || (cl.AtRiskSince != nil) != (name == "Бета") {
			t.Errorf("%s: class %q at risk %v, %v; want %q", name, cl.Class, cl.AtRiskSince, err, want)
		}
	}
	if len(n.risks) != 1 || n.risks[0].ManagerID != anna.ID || len(n.risks[0].Clients) != 1 || n.risks[0].Clients[0].Name != "Бета" ||
		!n.risks[0].Clients[0].LastOrder.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("at-risk notices: %+v", n.risks)
	}
	if got, err := s.Marks(ctx); got != 0 || err != nil {
		t.Fatalf("again the same night: %d, %v", got, err)
	}
	// The next night changes nothing and tells nobody again.
	c.Set(time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC))
	if got, err := s.Marks(ctx); got != 0 || err != nil || len(n.risks) != 1 {
		t.Fatalf("next night: %d, %v, %d notices", got, err, len(n.risks))
	}
}
