package reports_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// moneyBase is Anna's and Boris's orders in September to November, and one of a client
// with no manager; now is 20 November (amounts in roubles):
//
//	1 Anna   5 Oct  100 000  paid on the day
//	2 Anna  20 Oct   60 000  due 1 Nov; 20 000 paid 25 Oct, 10 000 on 3 Nov: 30 000 owed, overdue
//	3 Anna  10 Nov   40 000  due 30 Nov, nothing paid
//	4 Boris 15 Oct   50 000  cancelled
//	5 Boris  2 Nov   80 000  30 000 paid 5 Nov, 50 000 on 12 Nov: paid in full then
//	6 Boris 20 Sep   25 000  due 1 Oct; 5 000 paid 10 Oct: 20 000 owed, overdue
//	7 none  15 Nov   10 000  due 18 Nov, nothing paid: overdue
func moneyBase(t *testing.T) (*store.Store, *clock, map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: day(time.September, 1)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	ids := map[string]string{}
	head := store.Viewer{ManagerID: "head", Role: store.RoleHead}
	for i, name := range []string{"Анна", "Борис"} {
		m := &store.Manager{Name: name, TelegramID: int64(i + 1)}
		if err := st.CreateManager(ctx, "test", m); err != nil {
			t.Fatal(err)
		}
		ids[name] = m.ID
	}
	for _, n := range []string{"Анна", "Борис", ""} {
		cl := &store.Client{Name: "Клиент " + n, ManagerID: ids[n]}
		if n == "" {
			cl.Name = "Ничей"
		}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids["client "+n] = cl.ID
	}
	due := func(m time.Month, d int) *time.Time { t := time.Date(2026, m, d, 0, 0, 0, 0, time.UTC); return &t }
	order := func(n, client string, at time.Time, rub int64, pay *time.Time, paid bool) {
		t.Helper()
		c.Set(at)
		o := &store.Order{ID: n, ClientID: ids["client "+client], Amount: rub * 100, Date: at, Due: pay, State: store.OrderInvoiced}
		if paid {
			o.State = store.OrderPaid
		}
		if err := st.CreateOrder(ctx, "test", o); err != nil {
			t.Fatal(err)
		}
	}
	pay := func(n string, at time.Time, rub int64) {
		t.Helper()
		c.Set(at)
		if _, err := st.PayOrder(ctx, head, n, rub*100, at); err != nil {
			t.Fatal(err)
		}
	}
	order("6", "Борис", day(time.September, 20), 25_000, due(time.October, 1), false)
	order("1", "Анна", day(time.October, 5), 100_000, nil, true)
	pay("6", day(time.October, 10), 5_000)
	order("4", "Борис", day(time.October, 15), 50_000, nil, false)
	if _, err := st.CancelOrder(ctx, head, "4", "передумали"); err != nil {
		t.Fatal(err)
	}
	order("2", "Анна", day(time.October, 20), 60_000, due(time.November, 1), false)
	pay("2", day(time.October, 25), 20_000)
	order("5", "Борис", day(time.November, 2), 80_000, nil, false)
	pay("2", day(time.November, 3), 10_000)
	pay("5", day(time.November, 5), 30_000)
	order("3", "Анна", day(time.November, 10), 40_000, due(time.November, 30), false)
	pay("5", day(time.November, 12), 50_000)
	order("7", "", day(time.November, 15), 10_000, due(time.November, 18), false)
	c.Set(day(time.November, 20))
	return st, c, ids
}

func octNov() reports.Period {
	return reports.Period{From: month(time.October).From, To: month(time.November).To}
}

func TestPaymentsByManagerAndMonth(t *testing.T) {
	ctx := context.Background()
	st, c, ids := moneyBase(t)
	pm, err := reports.ComputePayments(ctx, st, octNov(), "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	oct, nov := month(time.October).From, month(time.November).From
	const r = 100 // kopecks in a rouble
	anna, boris := ids["Анна"], ids["Борис"]
	want := []reports.MoneyMonth{
		{ManagerID: anna, Name: "Анна", Month: oct, Invoiced: 160_000 * r, Paid: 120_000 * r, PaidOrders: 1, Unpaid: 30_000 * r, Overdue: 30_000 * r},
		{ManagerID: anna, Name: "Анна", Month: nov, Invoiced: 40_000 * r, Paid: 10_000 * r, Unpaid: 40_000 * r},
		{ManagerID: boris, Name: "Борис", Month: oct, Paid: 5_000 * r}, // the cancelled order counts nowhere
		{ManagerID: boris, Name: "Борис", Month: nov, Invoiced: 80_000 * r, Paid: 80_000 * r, PaidOrders: 1},
		{ManagerID: store.NoManager, Month: nov, Invoiced: 10_000 * r, Unpaid: 10_000 * r, Overdue: 10_000 * r},
	}
	if !reflect.DeepEqual(pm.Months, want) {
		t.Errorf("lines:\n%+v\nwant\n%+v", pm.Months, want)
	}
	total := reports.MoneyMonth{Invoiced: 290_000 * r, Paid: 215_000 * r, PaidOrders: 2, Unpaid: 80_000 * r, Overdue: 40_000 * r}
	if pm.Total != total {
		t.Errorf("total %+v, want %+v", pm.Total, total)
	}
	// Every invoice overdue now, the one made in September too, the oldest first.
	wantOverdue := []reports.OverdueInvoice{
		{OrderID: "6", ClientID: ids["client Борис"], Client: "Клиент Борис", ManagerID: boris, Manager: "Борис", Owed: 20_000 * r,
			Due: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Days: 50},
		{OrderID: "2", ClientID: ids["client Анна"], Client: "Клиент Анна", ManagerID: anna, Manager: "Анна", Owed: 30_000 * r,
			Due: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 19},
		{OrderID: "7", ClientID: ids["client "], Client: "Ничей", ManagerID: store.NoManager, Owed: 10_000 * r,
			Due: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), Days: 2},
	}
	if !reflect.DeepEqual(pm.Overdue, wantOverdue) {
		t.Errorf("overdue:\n%+v\nwant\n%+v", pm.Overdue, wantOverdue)
	}

	// Boris sees his lines and his overdue invoice alone.
	own, err := reports.ComputePayments(ctx, st, octNov(), boris, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(own.Months, want[2:4]) || !reflect.DeepEqual(own.Overdue, wantOverdue[:1]) {
		t.Errorf("Boris's own: %+v %+v", own.Months, own.Overdue)
	}

	// November alone: a payment in November of an October order is November's money;
	// the October order's debt is not November's.
	pm, err = reports.ComputePayments(ctx, st, month(time.November), "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	total = reports.MoneyMonth{Invoiced: 130_000 * r, Paid: 90_000 * r, PaidOrders: 1, Unpaid: 50_000 * r, Overdue: 10_000 * r}
	if pm.Total != total || len(pm.Overdue) != 3 {
		t.Errorf("November: total %+v, want %+v; %d overdue", pm.Total, total, len(pm.Overdue))
	}
}

func TestPaymentsLayout(t *testing.T) {
	ctx := context.Background()
	st, c, _ := moneyBase(t)
	for lang, want := range map[string][]string{
		"ru": {"Оплаты, 01.10.2026 – 30.11.2026", "Выставлено: 290\u00a0000 ₽", "Получено: 215\u00a0000 ₽ (оплачено заказов полностью: 2)",
			"Не оплачено по заказам периода: 80\u00a0000 ₽", "Просроченных счетов: 3 на 60\u00a0000 ₽, самый давний — 50 дн."},
		"en": {"Payments, 2026-10-01 – 2026-11-30", "Invoiced: 290\u00a0000 RUB", "Received: 215\u00a0000 RUB (orders paid in full: 2)",
			"Unpaid of the period's orders: 80\u00a0000 RUB", "Overdue invoices: 3 for 60\u00a0000 RUB, the longest 50 days"},
	} {
		w, err := reports.LoadWords(lang)
		if err != nil {
			t.Fatal(err)
		}
		l, err := reports.Build(ctx, st, reports.Request{Name: reports.PaymentsReport, Period: octNov()}, w, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := append([]string{l.Title}, l.Summary...); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n%q\nwant\n%q", lang, got, want)
		}
		if lang != "ru" {
			continue
		}
		if !slices.Equal(l.Chart.Labels, []string{"Анна", "Борис", "(без менеджера)"}) ||
			!slices.Equal(l.Chart.Series[0].Values, []float64{200_000, 80_000, 10_000}) ||
			!slices.Equal(l.Chart.Series[1].Values, []float64{130_000, 85_000, 0}) ||
			!slices.Equal(l.Chart.Series[2].Values, []float64{70_000, 0, 10_000}) {
			t.Errorf("chart: %v %+v", l.Chart.Labels, l.Chart.Series)
		}
		months, overdue := l.Tables[0], l.Tables[1]
		if len(months.Rows) != 6 || !reflect.DeepEqual(months.Rows[0], []any{"Анна", "10.2026", reports.Money(160_000), reports.Money(120_000),
			int64(1), reports.Money(30_000), reports.Money(30_000)}) || months.Rows[5][0] != "Команда" {
			t.Errorf("months: %v", months.Rows)
		}
		if len(overdue.Rows) != 3 || !reflect.DeepEqual(overdue.Rows[0], []any{"6", "Клиент Борис", "Борис", reports.Money(20_000), "01.10.2026", 50}) ||
			overdue.Title != "Просроченные счета на 20.11.2026" {
			t.Errorf("overdue: %s %v", overdue.Title, overdue.Rows)
		}
	}
	// Nothing in August, and no overdue invoice then: nothing to show.
	pm, err := reports.ComputePayments(ctx, st, month(time.August), "", day(time.August, 31))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := reports.LoadWords("ru")
	if l := pm.Layout(w); !l.Empty {
		t.Errorf("August: %+v", l)
	}
}
