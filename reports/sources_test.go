package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// Per lead source: clients made in November, clients that reached gold in it, and its
// revenue; sources typed in another case are one source.
func TestLeadSourcesOfAMonth(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: day(time.October, 20)}
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
	fair := made(day(time.October, 20), "выставка")
	ya1 := made(day(time.November, 2), "Яндекс.Директ")
	made(day(time.November, 3), "яндекс.директ")
	made(day(time.November, 4), "")
	made(day(time.December, 1), "Яндекс.Директ") // after the period
	paid(day(time.November, 5), ya1, 500)
	paid(day(time.November, 6), ya1, 200) // gold already
	paid(day(time.November, 7), fair, 300)
	paid(day(time.October, 25), made(day(time.October, 21), "сайт"), 1000) // before the period

	rows, err := reports.Sources(ctx, st, month(time.November))
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.SourceRow{
		{Source: "Яндекс.Директ", NewClients: 2, ToGold: 1, Revenue: 70000},
		{Source: "выставка", NewClients: 0, ToGold: 1, Revenue: 30000},
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
