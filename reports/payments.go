package reports

import (
	"cmp"
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/crm-team/crm/store"
)

// PaymentsReport is the money report: invoiced, paid and unpaid by manager and month,
// and the overdue invoices.
const PaymentsReport = "payments"

// MoneyMonth is one manager's money in one month of a period. Orders count for the
// manager who sold them (the order's manager), not the client's manager now.
type MoneyMonth struct {
	ManagerID, Name string    // NoManager's line is named ""
	Month           time.Time // its first day (or the period's, for a period beginning later)
	Invoiced        int64     // orders made in the month, not cancelled: their amounts
	Paid            int64     // payments received in the month, whatever month their order was made
	PaidOrders      int64     // orders paid in full in the month
	Unpaid          int64     // of the orders made in the month, what is still owed now
	Overdue         int64     // of that, owed past its due date now
}

func (m *MoneyMonth) add(o MoneyMonth) {
	m.Invoiced += o.Invoiced
	m.Paid += o.Paid
	m.PaidOrders += o.PaidOrders
	m.Unpaid += o.Unpaid
	m.Overdue += o.Overdue
}

// OverdueInvoice is an order owed past its due date, as of now.
type OverdueInvoice struct {
	OrderID, ClientID, Client, ManagerID, Manager string
	Owed                                          int64
	Due                                           time.Time
	Days                                          int // calendar days since the due day, in the company's time zone
}

// Payments is the money of a period by manager and month, and every invoice overdue
// now: a debt does not end with the period it was made in.
type Payments struct {
	Period  Period
	Now     time.Time
	Months  []MoneyMonth // by manager's name, then month
	Total   MoneyMonth   // the sum of the lines
	Overdue []OverdueInvoice
}

// PaymentsSource is what the payments report reads: *store.Store.
type PaymentsSource interface {
	ReportClients(ctx context.Context) ([]store.ReportClient, error)
	Managers(ctx context.Context) ([]store.Manager, error)
	ActivityBetween(ctx context.Context, from, to time.Time) (store.Activity, error)
	EachOpenOrder(ctx context.Context, fn func(*store.Order) error) error
}

// ComputePayments computes the payments report over p as of now, months in p.From's
// time zone. Invoiced, paid and paid orders come from the company days' counts (a
// read per day); unpaid and overdue from the orders with money owed, the only orders
// it reads. With only set, the report holds that manager's lines and orders alone.
func ComputePayments(ctx context.Context, src PaymentsSource, p Period, only string, now time.Time) (*Payments, error) {
	team, err := src.Managers(ctx)
	if err != nil {
		return nil, err
	}
	loc := p.From.Location()
	out := &Payments{Period: p, Now: now}
	type key struct {
		manager string
		month   int
	}
	lines := map[key]*MoneyMonth{}
	starts := monthStarts(p, loc)
	line := func(manager string, month int) *MoneyMonth {
		if manager == "" {
			manager = store.NoManager
		}
		k := key{manager, month}
		if lines[k] == nil {
			lines[k] = &MoneyMonth{ManagerID: manager, Month: starts[month]}
		}
		return lines[k]
	}
	for i, from := range starts {
		to := p.To
		if i+1 < len(starts) {
			to = starts[i+1]
		}
		act, err := src.ActivityBetween(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for manager, counts := range act {
			if only != "" && manager != only {
				continue
			}
			if counts[store.ActInvoiced] == 0 && counts[store.ActRevenue] == 0 && counts[store.ActOrders] == 0 {
				continue // a manager who only called
			}
			l := line(manager, i)
			l.Invoiced += counts[store.ActInvoiced]
			l.Paid += counts[store.ActRevenue]
			l.PaidOrders += counts[store.ActOrders]
		}
	}
	clients, err := src.ReportClients(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(clients))
	for _, c := range clients {
		names[c.ID] = c.Name
	}
	today := startOfDay(now.In(loc))
	err = src.EachOpenOrder(ctx, func(o *store.Order) error {
		manager := o.ManagerID
		if manager == "" {
			manager = store.NoManager
		}
		if only != "" && manager != only {
			return nil
		}
		owed, overdue := o.Owed(), o.Overdue(now)
		if owed == 0 {
			return nil
		}
		if !o.Date.Before(p.From) && o.Date.Before(p.To) {
			l := line(manager, monthIndex(starts[0], o.Date.In(loc)))
			l.Unpaid += owed
			if overdue {
				l.Overdue += owed
			}
		}
		if overdue {
			due := startOfDay(o.Due.In(loc))
			out.Overdue = append(out.Overdue, OverdueInvoice{OrderID: o.ID, ClientID: o.ClientID, Client: names[o.ClientID],
				ManagerID: manager, Owed: owed, Due: *o.Due, Days: int(today.Sub(due).Round(24*time.Hour) / (24 * time.Hour))})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	nameOfLine := func(id string) string {
		if id == store.NoManager {
			return ""
		}
		return nameOf(team, id)
	}
	for _, l := range lines {
		l.Name = nameOfLine(l.ManagerID)
		out.Months = append(out.Months, *l)
		out.Total.add(*l)
	}
	sort.Slice(out.Months, func(i, j int) bool {
		a, b := out.Months[i], out.Months[j]
		if c := byManager(a.ManagerID, a.Name, b.ManagerID, b.Name); c != 0 {
			return c < 0
		}
		return a.Month.Before(b.Month)
	})
	for i := range out.Overdue {
		out.Overdue[i].Manager = nameOfLine(out.Overdue[i].ManagerID)
	}
	// The longest overdue first: those are the ones to ring about.
	sort.Slice(out.Overdue, func(i, j int) bool {
		a, b := out.Overdue[i], out.Overdue[j]
		if !a.Due.Equal(b.Due) {
			return a.Due.Before(b.Due)
		}
		if a.Owed != b.Owed {
			return a.Owed > b.Owed
		}
		return a.OrderID < b.OrderID
	})
	return out, nil
}

// byManager orders lines by the manager's name, the line of no manager last: -1, 0 or
// +1, as cmp.Compare.
func byManager(aID, aName, bID, bName string) int {
	if (aID == store.NoManager) != (bID == store.NoManager) {
		if bID == store.NoManager {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(aName, bName); c != 0 {
		return c
	}
	return cmp.Compare(aID, bID)
}

// monthStarts are the starts of the calendar months p touches, in loc; the first is
// p.From itself.
func monthStarts(p Period, loc *time.Location) []time.Time {
	from := p.From.In(loc)
	starts := []time.Time{from}
	for i := 1; i < monthsOf(p, loc); i++ {
		starts = append(starts, time.Date(from.Year(), from.Month()+time.Month(i), 1, 0, 0, 0, 0, loc))
	}
	return starts
}

// Layout lays out the payments report: the key sums, a chart of each manager's
// invoiced, paid and unpaid, the lines by manager and month, and the overdue invoices.
func (pm *Payments) Layout(w Words) Layout {
	l := Layout{Title: w.title("payments.title", pm.Period)}
	monthLayout := w.get("month")
	months := Table{Name: w.get("payments.months"), Title: l.Title, Header: []string{w.get("col.manager"), w.get("col.month"),
		w.get("col.invoiced"), w.get("col.paid"), w.get("col.paid_orders"), w.get("col.unpaid"), w.get("col.unpaid_overdue")}}
	row := func(name, month string, m MoneyMonth) []any {
		return []any{name, month, money(m.Invoiced), money(m.Paid), m.PaidOrders, money(m.Unpaid), money(m.Overdue)}
	}
	l.Chart = Chart{Title: w.title("payments.chart", pm.Period), Unit: w.get("unit.rub"),
		Series: []Series{{Name: w.get("col.invoiced")}, {Name: w.get("col.paid")}, {Name: w.get("col.unpaid")}}}
	for i, m := range pm.Months {
		name := w.managerName(ManagerWork{ManagerID: m.ManagerID, Name: m.Name})
		months.Rows = append(months.Rows, row(name, m.Month.Format(monthLayout), m))
		// The chart has a group of bars a manager: their months added up.
		if i == 0 || pm.Months[i-1].ManagerID != m.ManagerID {
			l.Chart.Labels = append(l.Chart.Labels, name)
			for k := range l.Chart.Series {
				l.Chart.Series[k].Values = append(l.Chart.Series[k].Values, 0)
			}
		}
		last := len(l.Chart.Labels) - 1
		for k, v := range []int64{m.Invoiced, m.Paid, m.Unpaid} {
			l.Chart.Series[k].Values[last] += float64(v) / 100
		}
	}
	if len(pm.Months) > 1 {
		months.Rows = append(months.Rows, row(w.get("team"), "", pm.Total))
	}
	overdue := Table{Name: w.get("payments.overdue"), Title: w.get("payments.overdue_on", "date", pm.Now.In(pm.Period.From.Location()).Format(w.get("date"))),
		Header: []string{w.get("col.order"), w.get("col.client"), w.get("col.manager"), w.get("col.owed"), w.get("col.due"), w.get("col.days_overdue")}}
	var overdueSum int64
	for _, o := range pm.Overdue {
		overdueSum += o.Owed
		overdue.Rows = append(overdue.Rows, []any{o.OrderID, o.Client, w.managerName(ManagerWork{ManagerID: o.ManagerID, Name: o.Manager}),
			money(o.Owed), o.Due.In(pm.Period.From.Location()).Format(w.get("date")), o.Days})
	}
	l.Tables = []Table{months, overdue}
	t := pm.Total
	l.Summary = append(l.Summary,
		w.get("payments.invoiced", "sum", w.money(t.Invoiced)),
		w.get("payments.paid", "sum", w.money(t.Paid), "n", itoa(t.PaidOrders)),
		w.get("payments.unpaid", "sum", w.money(t.Unpaid)))
	if len(pm.Overdue) > 0 {
		l.Summary = append(l.Summary, w.get("payments.overdue_sum", "n", itoa(int64(len(pm.Overdue))), "sum", w.money(overdueSum),
			"days", itoa(int64(pm.Overdue[0].Days))))
	} else {
		l.Summary = append(l.Summary, w.get("payments.none_overdue"))
	}
	l.Empty = t == (MoneyMonth{}) && len(pm.Overdue) == 0
	return l
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
