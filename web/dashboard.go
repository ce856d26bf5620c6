package web

import (
	"net/http"
	"strconv"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

// dashboardData is a head's week: the team's figures from the managers' and the
// payments' reports of this week, against last week, and the invoices overdue now.
type dashboardData struct {
	Week     string // its first day – today
	Tiles    []dashTile
	Managers []dashManager
	Quiet    bool // nothing happened this week yet
}

// dashTile is one key figure, with last week's and the report it comes from.
type dashTile struct {
	ID, Key       string // an element ID; the text key of its name
	Value, Before string
	Link          string
	Warn          bool
}

type dashManager struct {
	Name                                       string
	Calls, Meetings, NewClients, Forward, Paid int64
	Revenue                                    string
}

// dashboard is a head's or an administrator's start page.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, v *visit) {
	loc := h.opts.Location
	now := h.now()
	from, to, _ := store.NamedPeriod("tw", now, loc)
	week := reports.Period{From: from, To: to}
	team, err := reports.ComputeTeam(r.Context(), h.st, week, "", now)
	if err != nil {
		h.fail(w, r, v, "compute the week's team report", err)
		return
	}
	pay, err := reports.ComputePayments(r.Context(), h.st, week, "", now)
	if err != nil {
		h.fail(w, r, v, "compute the week's payments", err)
		return
	}
	link := func(name string) string { return Prefix + "/reports/" + name + "?" + reportAsk{Period: "tw"}.query() }
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	money := func(minor int64) string { return store.FormatAmount(minor) + " " + store.Currency }
	nw, bf := team.Total.Now, team.Total.Before
	var owed int64
	for _, o := range pay.Overdue {
		owed += o.Owed
	}
	dd := &dashboardData{Week: from.Format("02.01.2006") + " – " + to.AddDate(0, 0, -1).Format("02.01.2006"),
		Tiles: []dashTile{
			{ID: "calls", Key: "dashboard.calls", Value: count(nw.Calls), Before: count(bf.Calls), Link: link(reports.ManagersReport)},
			{ID: "meetings", Key: "dashboard.meetings", Value: count(nw.Meetings), Before: count(bf.Meetings), Link: link(reports.ManagersReport)},
			{ID: "new", Key: "dashboard.new_clients", Value: count(nw.NewClients), Before: count(bf.NewClients), Link: link(reports.SourcesReport)},
			{ID: "forward", Key: "dashboard.forward", Value: count(nw.MovesForward), Before: count(bf.MovesForward), Link: link(reports.FunnelReport)},
			{ID: "back", Key: "dashboard.back", Value: count(nw.MovesBack), Before: count(bf.MovesBack), Link: link(reports.FunnelReport)},
			{ID: "orders", Key: "dashboard.orders", Value: count(nw.Orders), Before: count(bf.Orders), Link: link(reports.PaymentsReport)},
			{ID: "revenue", Key: "dashboard.revenue", Value: money(nw.Revenue), Before: money(bf.Revenue), Link: link(reports.PaymentsReport)},
			{ID: "overdue", Key: "dashboard.overdue", Value: strconv.Itoa(len(pay.Overdue)), Before: money(owed),
				Link: link(reports.PaymentsReport), Warn: len(pay.Overdue) > 0},
		}}
	for _, mw := range team.Managers {
		if mw.ManagerID == store.NoManager {
			continue
		}
		n := mw.Now
		dd.Managers = append(dd.Managers, dashManager{Name: mw.Name, Calls: n.Calls, Meetings: n.Meetings, NewClients: n.NewClients,
			Forward: n.MovesForward, Paid: n.Orders, Revenue: money(n.Revenue)})
	}
	dd.Quiet = nw.Calls == 0 && nw.Meetings == 0 && nw.NewClients == 0 && nw.MovesForward == 0 && nw.MovesBack == 0 &&
		nw.Orders == 0 && nw.Revenue == 0
	h.render(w, r, http.StatusOK, "dashboard", h.visitPage(v, "home", "dashboard.title", dd))
}
