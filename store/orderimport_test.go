package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// An order of another client in the file saves nothing, also of the other clients'
// orders, whichever order they come in.
func TestUpsertOrdersRefusesAnotherClientsOrderWhole(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	if _, err := b.s.UpsertOrders(ctx, "import", []store.Order{paidOrder("Б-1", b.boriss, 1, 50_00)}); err != nil {
		t.Fatal(err)
	}
	file := []store.Order{paidOrder("А-1", b.annas, 2, 70_00), paidOrder("Б-1", b.annas, 1, 50_00)}
	_, err := b.s.UpsertOrders(ctx, "import", file)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "order Б-1 belongs to another client") {
		t.Fatalf("another client's order: %v", err)
	}
	if m, _ := b.s.ClientMoney(ctx, b.annas); len(m.Orders) != 0 {
		t.Fatalf("saved with the refused file: %+v", m.Orders)
	}
	if _, err := b.s.Order(ctx, "А-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("order А-1: %v", err)
	}
	// An unknown client, too.
	if _, err := b.s.UpsertOrders(ctx, "import", []store.Order{paidOrder("А-1", b.annas, 2, 70_00), paidOrder("Х-1", "nobody", 2, 70_00)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if _, err := b.s.Order(ctx, "А-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("order А-1 after an unknown client: %v", err)
	}
}

// A file gives the paid total only: an order whose payments (made in the bot) add up
// to it keeps them, so a file exported and imported back changes nothing.
func TestImportedPaidTotalKeepsRecordedPayments(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	b.clock.Add(1234 * time.Millisecond) // a file writes the time to the second
	o, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, What: "Бумага", Amount: 100_00})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []int64{30_00, 70_00} {
		b.clock.Add(24 * time.Hour)
		if _, err := b.s.PayOrder(ctx, b.anna, o.ID, part, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	paid, _ := b.s.Order(ctx, o.ID)
	second := paid.Date.Truncate(time.Second)
	file := store.Order{ID: o.ID, ClientID: b.annas, What: "Бумага", Amount: 100_00, Date: second,
		Payments: []store.Payment{{ID: store.ImportPayment, Date: second, Amount: 100_00}}}
	saved, err := b.s.UpsertOrders(ctx, "import", []store.Order{file})
	if err != nil || saved.Unchanged != 1 {
		t.Fatalf("the same total: %+v %v", saved, err)
	}
	if again, _ := b.s.Order(ctx, o.ID); len(again.Payments) != 2 || !again.PaidAt.Equal(*paid.PaidAt) || !again.Date.Equal(paid.Date) {
		t.Fatalf("payments %+v, paid at %v", again.Payments, again.PaidAt)
	}
	// A changed total replaces them with the file's.
	file.Amount, file.Payments[0].Amount = 120_00, 110_00
	if saved, err := b.s.UpsertOrders(ctx, "import", []store.Order{file}); err != nil || saved.Updated != 1 {
		t.Fatalf("a new total: %+v %v", saved, err)
	}
	if again, _ := b.s.Order(ctx, o.ID); len(again.Payments) != 1 || again.PaidSum() != 110_00 || again.State != store.OrderInvoiced {
		t.Fatalf("after a new total: %+v", again)
	}
}

// A large import counts each day's activity once, whatever the number of clients and
// orders on it, and comes to what the orders made one by one would count.
func TestUpsertOrdersCountsActivityOfTheWholeFile(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	var clients []string
	for i := range 240 { // more than a chunk
		clients = append(clients, storetest.Client(t, b.s, fmt.Sprintf("Клиент %d", i), b.anna.ManagerID).ID)
	}
	var orders []store.Order
	for i := range 5 * len(clients) {
		o := paidOrder(fmt.Sprintf("Н-%d", i), clients[i%len(clients)], 1+i%3, 10_00)
		if (i/len(clients))%2 == 1 { // each client: three paid, two not
			o.State, o.Payments = store.OrderInvoiced, nil
		}
		orders = append(orders, o)
	}
	saved, err := b.s.UpsertOrders(ctx, "import", orders)
	if err != nil || saved.Created != len(orders) {
		t.Fatalf("import: %+v %v", saved, err)
	}
	for d := 1; d <= 3; d++ {
		from := time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC)
		a, err := b.s.ActivityBetween(ctx, from, from.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		got := a[b.anna.ManagerID]
		// A third of the orders a day, three fifths of them paid.
		if got[store.ActInvoiced] != 400*10_00 || got[store.ActRevenue] != 240*10_00 || got[store.ActOrders] != 240 {
			t.Errorf("February %d: %v", d, got)
		}
	}
	for _, id := range clients {
		if c := b.client(t, id); c.Stage != store.StageGold || c.OrdersCount != 3 {
			t.Fatalf("client %s: %s, %d paid", c.Name, c.Stage, c.OrdersCount)
		}
	}
	// The stage moves, recorded for the reports and the audit log together.
	now := b.clock.Now()
	moves, audits := 0, 0
	if err := b.s.EachStageMove(ctx, now.Add(-time.Hour), now.Add(time.Hour), func(m store.StageMove) error {
		if m.To == store.StageGold && m.By == "import" {
			moves++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.s.AuditBetween(ctx, now.Add(-time.Hour), now.Add(time.Hour), func(e store.AuditEntry) error {
		if e.Action == "client.stage" {
			audits++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if moves != len(clients) || audits != len(clients) {
		t.Fatalf("%d stage moves and %d audit entries recorded, want %d", moves, audits, len(clients))
	}
	if again, err := b.s.UpsertOrders(ctx, "import", orders); err != nil || again.Unchanged != len(orders) {
		t.Fatalf("again: %+v %v", again, err)
	}
}

// An import stopped by a crash halfway through its clients is finished by
// RepairOrders: each order, history line, count, stage move's record and audit
// entry once. At "orders.lined" the clients have their stage moves and lines; at
// "orders.followed" their histories are done but the chunk's records of the moves
// are not written.
func TestUpsertOrdersFinishedAfterACrash(t *testing.T) {
	for _, point := range []string{"orders.lined", "orders.followed"} {
		t.Run(point, func(t *testing.T) { upsertOrdersCrashedAt(t, point) })
	}
}

func upsertOrdersCrashedAt(t *testing.T, point string) {
	b := newMoneyBase(t)
	ctx := context.Background()
	other := storetest.Client(t, b.s, "ООО Василёк", b.anna.ManagerID).ID
	orders := []store.Order{paidOrder("К-1", b.annas, 1, 10_00), paidOrder("К-2", other, 1, 20_00), paidOrder("К-3", b.boriss, 1, 40_00)}
	crash := errors.New("crash")
	b.s.SetCrash(func(p string) error {
		if p == point {
			return crash
		}
		return nil
	})
	if _, err := b.s.UpsertOrders(ctx, "import", orders); !errors.Is(err, crash) {
		t.Fatalf("crash: %v", err)
	}
	b.s.SetCrash(nil)
	if n, err := b.s.RepairOrders(ctx); err != nil || n != 3 {
		t.Fatalf("repair: %d %v", n, err)
	}
	if again, err := b.s.UpsertOrders(ctx, "import", orders); err != nil || again.Unchanged != 3 {
		t.Fatalf("import after the repair: %+v %v", again, err)
	}
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	a, _ := b.s.ActivityBetween(ctx, from, from.AddDate(0, 0, 1))
	if got := a[b.anna.ManagerID]; got[store.ActRevenue] != 30_00 || got[store.ActOrders] != 2 {
		t.Fatalf("Anna's activity %v", got)
	}
	if got := a[b.boris.ManagerID]; got[store.ActRevenue] != 40_00 || got[store.ActOrders] != 1 {
		t.Fatalf("Boris's activity %v", got)
	}
	for _, id := range []string{b.annas, other, b.boriss} {
		if c := b.client(t, id); c.Stage != store.StageGold || c.OrdersCount != 1 {
			t.Fatalf("client %s: %s %d", c.Name, c.Stage, c.OrdersCount)
		}
		if got := b.lines(t, id, store.InteractionOrder, store.InteractionPayment); len(got) != 1 {
			t.Fatalf("client %s: %d order lines", id, len(got))
		}
		if got := b.lines(t, id, store.InteractionStageChange); len(got) != 1 {
			t.Fatalf("client %s: %d stage lines", id, len(got))
		}
	}
	// A second repair finds nothing to do and writes nothing twice.
	if n, err := b.s.RepairOrders(ctx); err != nil || n != 0 {
		t.Fatalf("second repair: %d %v", n, err)
	}
	now := b.clock.Now()
	moves := map[string]int{}
	if err := b.s.EachStageMove(ctx, now.Add(-time.Hour), now.Add(time.Hour), func(m store.StageMove) error {
		if m.To == store.StageGold && m.By == "import" {
			moves[m.Client]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	audits := map[string]int{}
	if err := b.s.AuditBetween(ctx, now.Add(-time.Hour), now.Add(time.Hour), func(e store.AuditEntry) error {
		if e.Action == "client.stage" && e.Changes["order"] != "" {
			audits[e.EntityID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{b.annas, other, b.boriss} {
		if moves[id] != 1 || audits[id] != 1 {
			t.Errorf("client %s: %d stage move records and %d audit entries, want one of each", id, moves[id], audits[id])
		}
	}
}
