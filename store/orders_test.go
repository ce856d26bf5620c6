package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

type moneyBase struct {
	s             *store.Store
	clock         *storetest.Clock
	anna, boris   store.Viewer
	head          store.Viewer
	annas, boriss string // clients
}

func newMoneyBase(t *testing.T) moneyBase {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	s := storetest.OnClock(t, clock)
	anna := storetest.Manager(t, s, store.Manager{Name: "Анна", TelegramID: 11, Role: store.RoleManager})
	boris := storetest.Manager(t, s, store.Manager{Name: "Борис", TelegramID: 12, Role: store.RoleManager})
	head := storetest.Manager(t, s, store.Manager{Name: "Глава", TelegramID: 13, Role: store.RoleHead})
	b := moneyBase{s: s, clock: clock,
		anna:  store.Viewer{ManagerID: anna.ID, Role: anna.Role},
		boris: store.Viewer{ManagerID: boris.ID, Role: boris.Role},
		head:  store.Viewer{ManagerID: head.ID, Role: head.Role}}
	b.annas = storetest.Client(t, s, "ООО Ромашка", anna.ID).ID
	b.boriss = storetest.Client(t, s, "ООО Лютик", boris.ID).ID
	return b
}

func (b moneyBase) client(t *testing.T, id string) *store.Client {
	t.Helper()
	c, err := b.s.Client(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b moneyBase) lines(t *testing.T, clientID string, kinds ...store.InteractionKind) []store.Interaction {
	t.Helper()
	items, _, err := b.s.Timeline(context.Background(), clientID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Interaction
	for _, it := range items {
		for _, k := range kinds {
			if it.Kind == k {
				out = append(out, it)
			}
		}
	}
	return out
}

func TestOrderPaidInPartsMakesTheClientGold(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	o, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, What: "Поставка бумаги", Amount: 100_000_00})
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "2026-1" || o.State != store.OrderInvoiced || o.ManagerID != b.anna.ManagerID {
		t.Fatalf("order %+v", o)
	}
	if c := b.client(t, b.annas); c.Stage == store.StageGold || c.OrdersCount != 0 {
		t.Fatalf("an invoiced order moved the client: %s, %d", c.Stage, c.OrdersCount)
	}
	b.clock.Add(24 * time.Hour)
	if _, err := b.s.PayOrder(ctx, b.anna, o.ID, 40_000_00, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if open := openOrders(t, b.s); open[o.ID] != 60_000_00 || len(open) != 1 {
		t.Fatalf("open orders %v", open)
	}
	if c := b.client(t, b.annas); c.Stage == store.StageGold {
		t.Fatal("a part payment made the client gold")
	}
	// Paying more than is owed changes nothing.
	if _, err := b.s.PayOrder(ctx, b.anna, o.ID, 60_000_01, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("overpayment: %v", err)
	}
	b.clock.Add(24 * time.Hour)
	paid, err := b.s.PayOrder(ctx, b.anna, o.ID, 60_000_00, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if paid.State != store.OrderPaid || paid.PaidAt == nil || !paid.PaidAt.Equal(b.clock.Now()) || len(paid.Payments) != 2 {
		t.Fatalf("paid order %+v", paid)
	}
	if open := openOrders(t, b.s); len(open) != 0 {
		t.Fatalf("open orders when paid: %v", open)
	}
	c := b.client(t, b.annas)
	if c.Stage != store.StageGold || c.OrdersCount != 1 || c.OrdersTotal != 100_000_00 || c.FirstPaidAt == nil || !c.FirstPaidAt.Equal(b.clock.Now()) {
		t.Fatalf("client after paying: %s, %d orders, %d, first paid %v", c.Stage, c.OrdersCount, c.OrdersTotal, c.FirstPaidAt)
	}
	perDay := map[string]int64{}
	if err := b.s.DailyPaidOrders(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		func(day time.Time, client string, n int64) error {
			perDay[day.Format(time.DateOnly)+" "+client] += n
			return nil
		}); err != nil || len(perDay) != 1 || perDay["2026-03-12 "+b.annas] != 1 {
		t.Fatalf("orders paid in full by day: %v %v", perDay, err)
	}
	m, err := b.s.ClientMoney(ctx, b.annas)
	if err != nil || len(m.Orders) != 1 || m.Owed != 0 || m.PaidThisYear != 100_000_00 || m.PaidOrders != 1 {
		t.Fatalf("money %+v, %v", m, err)
	}
	// History: the order, two payments, and the move to gold naming the order.
	if got := b.lines(t, b.annas, store.InteractionOrder, store.InteractionPayment); len(got) != 3 ||
		got[0].Order.Payment != 60_000_00 || got[0].Order.Paid != 100_000_00 || got[2].Order.Event != store.OrderCreated {
		t.Fatalf("order lines %+v", got)
	}
	if moves := b.lines(t, b.annas, store.InteractionStageChange); len(moves) != 1 || moves[0].Stage.To != store.StageGold || moves[0].OrderID != o.ID {
		t.Fatalf("stage lines %+v", moves)
	}
	// Activity: the order made on its day, each payment on its own, the paid order on
	// the day it was paid.
	day := func(d int) store.Activity {
		from := time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC)
		a, err := b.s.ActivityBetween(ctx, from, from.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	want := map[int]map[string]int64{
		10: {store.ActInvoiced: 100_000_00},
		11: {store.ActRevenue: 40_000_00},
		12: {store.ActRevenue: 60_000_00, store.ActOrders: 1},
	}
	for d, w := range want {
		got := day(d)[b.anna.ManagerID]
		for k, v := range w {
			if got[k] != v {
				t.Errorf("March %d: %s = %d, want %d (%v)", d, k, got[k], v, got)
			}
		}
	}
}

func TestBadMoneyInputStoresNothing(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	if _, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, Amount: -5}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative amount: %v", err)
	}
	if _, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, Amount: 5, Currency: "XYZ"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown currency: %v", err)
	}
	// Another manager's client: as if it did not exist.
	if _, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.boriss, Amount: 5}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another manager's client: %v", err)
	}
	o, err := b.s.RecordOrder(ctx, b.boris, store.NewOrder{ClientID: b.boriss, Amount: 10_00})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.PayOrder(ctx, b.anna, o.ID, 10_00, time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("paying another manager's order: %v", err)
	}
	if _, err := b.s.CancelOrder(ctx, b.anna, o.ID, "ошибка"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancelling another manager's order: %v", err)
	}
	if _, err := b.s.CancelOrder(ctx, b.boris, o.ID, " "); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("cancel without a reason: %v", err)
	}
	if _, err := b.s.PayOrder(ctx, b.head, o.ID, 0, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("zero payment: %v", err)
	}
	for _, id := range []string{b.annas, b.boriss} {
		if m, _ := b.s.ClientMoney(ctx, id); id == b.annas && len(m.Orders) != 0 || id == b.boriss && (len(m.Orders) != 1 || m.Owed != 10_00) {
			t.Fatalf("%s: %+v", id, m)
		}
	}
	// A head pays it; then it can no longer be cancelled or paid again.
	if _, err := b.s.PayOrder(ctx, b.head, o.ID, 10_00, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.CancelOrder(ctx, b.boris, o.ID, "ошибка"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("cancelling a paid order: %v", err)
	}
	if _, err := b.s.PayOrder(ctx, b.boris, o.ID, 1, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("paying a paid order: %v", err)
	}
}

func TestCancelledOrderCountsNowhere(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	o, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, Amount: 500_00})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.CancelOrder(ctx, b.anna, o.ID, "клиент передумал"); err != nil {
		t.Fatal(err)
	}
	if open := openOrders(t, b.s); len(open) != 0 {
		t.Fatalf("open after cancelling: %v", open)
	}
	m, _ := b.s.ClientMoney(ctx, b.annas)
	if m.Owed != 0 || m.Orders[0].State != store.OrderCancelled {
		t.Fatalf("money %+v", m)
	}
	a, err := b.s.ActivityBetween(ctx, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
	if err != nil || a[b.anna.ManagerID][store.ActInvoiced] != 0 {
		t.Fatalf("activity after cancelling: %v %v", a, err)
	}
	if got := b.lines(t, b.annas, store.InteractionOrder); len(got) != 2 || got[0].Order.Event != store.OrderCancel || got[0].Order.Reason != "клиент передумал" {
		t.Fatalf("lines %+v", got)
	}
}

func paidOrder(id, client string, day int, amount int64) store.Order {
	date := time.Date(2026, 2, day, 12, 0, 0, 0, time.UTC)
	return store.Order{ID: id, ClientID: client, What: "Товар", Amount: amount, Date: date, State: store.OrderPaid,
		Payments: []store.Payment{{ID: "import", Date: date, Amount: amount}}}
}

func TestReimportKeepsStagesConsistentWithOrders(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	var orders []store.Order
	for i, id := range []string{"ТД-1", "ТД-2", "ТД-3", "ТД-4"} {
		orders = append(orders, paidOrder(id, b.annas, i+1, 1000_00))
	}
	saved, err := b.s.UpsertOrders(ctx, "import", orders)
	if err != nil || saved.Created != 4 {
		t.Fatalf("first import: %+v %v", saved, err)
	}
	if c := b.client(t, b.annas); c.Stage != store.StagePlatinum || c.OrdersCount != 4 {
		t.Fatalf("after four paid orders: %s %d", c.Stage, c.OrdersCount)
	}
	again, err := b.s.UpsertOrders(ctx, "import", orders)
	if err != nil || again.Unchanged != 4 || again.Created+again.Updated != 0 {
		t.Fatalf("the same file again: %+v %v", again, err)
	}
	if got := b.lines(t, b.annas, store.InteractionOrder); len(got) != 4 {
		t.Fatalf("%d order lines after importing twice", len(got))
	}
	// The accounting system cancels one: platinum needs more than three.
	orders[3].State, orders[3].Payments, orders[3].CancelReason = store.OrderCancelled, nil, "возврат"
	if _, err := b.s.UpsertOrders(ctx, "import", orders); err != nil {
		t.Fatal(err)
	}
	if c := b.client(t, b.annas); c.Stage != store.StageGold || c.OrdersCount != 3 {
		t.Fatalf("after a cancelled order: %s %d", c.Stage, c.OrdersCount)
	}
	moves := b.lines(t, b.annas, store.InteractionStageChange)
	if len(moves) < 2 || moves[0].Stage.To != store.StageGold || moves[0].OrderID != "ТД-4" {
		t.Fatalf("moves %+v", moves)
	}
	// A client who left keeps their refusal; with no paid order left, red-gold
	// becomes red-green.
	if _, err := b.s.MoveStage(ctx, "m", b.annas, store.StageRedGold, store.Refusal{Reason: "ушли"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		orders[i].State, orders[i].Payments = store.OrderInvoiced, nil
	}
	if _, err := b.s.UpsertOrders(ctx, "import", orders); err != nil {
		t.Fatal(err)
	}
	if c := b.client(t, b.annas); c.Stage != store.StageRedGreen || c.RefusalReason != "ушли" || c.OrdersCount != 0 || c.FirstPaidAt != nil {
		t.Fatalf("unpaid again: %s %q %d, first paid %v", c.Stage, c.RefusalReason, c.OrdersCount, c.FirstPaidAt)
	}
}

func TestImportWithABadOrderSavesNothing(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	good := paidOrder("1", b.annas, 1, 100_00)
	over := paidOrder("2", b.annas, 2, 100_00)
	over.Payments[0].Amount = 200_00
	if _, err := b.s.UpsertOrders(ctx, "import", []store.Order{good, over}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("payments over the amount: %v", err)
	}
	if _, err := b.s.UpsertOrders(ctx, "import", []store.Order{good, good}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("one number twice: %v", err)
	}
	if m, _ := b.s.ClientMoney(ctx, b.annas); len(m.Orders) != 0 {
		t.Fatalf("orders saved: %+v", m.Orders)
	}
	if _, err := b.s.Order(ctx, "1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("order 1: %v", err)
	}
}

func TestOrderChangeFinishedAfterACrash(t *testing.T) {
	for _, point := range []string{"orders.written", "orders.totals", "orders.lined"} {
		t.Run(point, func(t *testing.T) {
			b := newMoneyBase(t)
			ctx := context.Background()
			crash := errors.New("crash")
			b.s.SetCrash(func(p string) error {
				if p == point {
					return crash
				}
				return nil
			})
			if err := b.s.CreateOrder(ctx, "m", &store.Order{ClientID: b.annas, Amount: 300_00, State: store.OrderPaid}); !errors.Is(err, crash) {
				t.Fatalf("crash: %v", err)
			}
			b.s.SetCrash(nil)
			if n, err := b.s.RepairOrders(ctx); err != nil || n != 1 {
				t.Fatalf("repair: %d %v", n, err)
			}
			if n, err := b.s.RepairOrders(ctx); err != nil || n != 0 {
				t.Fatalf("second repair: %d %v", n, err)
			}
			if c := b.client(t, b.annas); c.Stage != store.StageGold || c.OrdersCount != 1 || c.OrdersTotal != 300_00 {
				t.Fatalf("client %s %d %d", c.Stage, c.OrdersCount, c.OrdersTotal)
			}
			if got := b.lines(t, b.annas, store.InteractionOrder, store.InteractionPayment); len(got) != 1 {
				t.Fatalf("%d order lines", len(got))
			}
			a, _ := b.s.ActivityBetween(ctx, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
			if got := a[b.anna.ManagerID]; got[store.ActRevenue] != 300_00 || got[store.ActOrders] != 1 || got[store.ActInvoiced] != 300_00 {
				t.Fatalf("activity %v", got)
			}
		})
	}
}

func TestOrderChangeOfAnOlderVersionIsFinished(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	b.s.WriteUnpackedOrderWorkForTest(ctx, t, b.annas, []store.Order{{ID: "77", ClientID: b.annas, ManagerID: b.anna.ManagerID,
		What: "Кирпич", Amount: 300_00, Currency: store.Currency, Date: day, State: store.OrderPaid,
		Payments: []store.Payment{{At: day, Amount: 300_00}}, PaidAt: &day}})
	if n, err := b.s.RepairOrders(ctx); err != nil || n != 1 {
		t.Fatalf("repair: %d %v", n, err)
	}
	if o, err := b.s.Order(ctx, "77"); err != nil || o.What != "Кирпич" || o.Amount != 300_00 {
		t.Fatalf("order: %+v %v", o, err)
	}
	if c := b.client(t, b.annas); c.Stage != store.StageGold || c.OrdersCount != 1 {
		t.Fatalf("client %s %d", c.Stage, c.OrdersCount)
	}
	if got := b.lines(t, b.annas, store.InteractionOrder, store.InteractionPayment); len(got) != 1 {
		t.Fatalf("%d order lines", len(got))
	}
}

func TestInvoiceNumbersRunOnThroughTheYear(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		o, err := b.s.RecordOrder(ctx, b.anna, store.NewOrder{ClientID: b.annas, Amount: 100_00})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	for i, id := range []string{ids[0], ids[2], ids[0]} {
		o, _, err := b.s.IssueInvoice(ctx, b.anna, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 2, 1}[i]; o.Invoice.Number != want || o.Invoice.Year != 2026 {
			t.Fatalf("invoice %d: %+v, want №%d", i, o.Invoice, want)
		}
	}
	if _, _, err := b.s.IssueInvoice(ctx, b.boris, ids[1]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another manager's order: %v", err)
	}
	b.clock.Set(time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC))
	if o, _, err := b.s.IssueInvoice(ctx, b.anna, ids[1]); err != nil || o.Invoice.Number != 1 || o.Invoice.Year != 2027 {
		t.Fatalf("the new year's first: %+v %v", o, err)
	}
}

func TestCompanyRequisitesAreChecked(t *testing.T) {
	b := newMoneyBase(t)
	ctx := context.Background()
	if _, err := b.s.CompanyRequisites(ctx); !errors.Is(err, store.ErrNoRequisites) {
		t.Fatalf("unset: %v", err)
	}
	good := store.Requisites{Name: "ООО «Ромашка»", VAT: 20, Legal: store.Legal{INN: "7707083893", KPP: "773601001",
		Bank: "ПАО Сбербанк", BIK: "044525225", Account: "4070 2810 1000 0000 0001", CorrAccount: "30101810400000000225"}}
	for _, bad := range []func(r *store.Requisites){
		func(r *store.Requisites) { r.INN = "123" },
		func(r *store.Requisites) { r.BIK = "04452522x" },
		func(r *store.Requisites) { r.Account = "1" },
		func(r *store.Requisites) { r.Name = "" },
		func(r *store.Requisites) { r.VAT = 99 },
	} {
		r := good
		bad(&r)
		if err := b.s.SetCompanyRequisites(ctx, "admin", r); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%+v: %v", r, err)
		}
	}
	if _, err := b.s.CompanyRequisites(ctx); !errors.Is(err, store.ErrNoRequisites) {
		t.Fatalf("bad requisites were saved: %v", err)
	}
	if err := b.s.SetCompanyRequisites(ctx, "admin", good); err != nil {
		t.Fatal(err)
	}
	if r, err := b.s.CompanyRequisites(ctx); err != nil || r.Account != "40702810100000000001" || r.VAT != 20 {
		t.Fatalf("read back: %+v %v", r, err)
	}
}

// openOrders is what is owed on each open order.
func openOrders(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := s.EachOpenOrder(context.Background(), func(o *store.Order) error { out[o.ID] = o.Owed(); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
