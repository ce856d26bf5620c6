package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/reports/sheet"
	"github.com/crm-team/crm/store"
)

// The reports as the bot's /report and `crm report` give them: the reports package
// builds them, reports/chart draws the chart and reports/sheet writes the xlsx; this
// file only reads what is asked and shows what comes back.

// reportPeriods are the period picker's choices, in its order: the bot's buttons,
// this year, and "cu", typed days.
var reportPeriods = []string{"tw", "lw", "tm", "lm", "tq", "ty", "cu"}

// xlsxType is a spreadsheet's MIME type, as the bot sends it.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// reportAsk is one report over one period, as the address asks for it.
type reportAsk struct {
	Name     string
	Period   string // one of reportPeriods
	From, To string // the days, both included, as a date field writes them (2026-11-30)
	Manager  string // a head's choice of one manager's figures; "" for everyone
	p        reports.Period
	own      string // whose figures alone: a manager's own, as in the bot
}

// query is the ask in an address (without the report's name).
func (a reportAsk) query() string {
	q := url.Values{"period": {a.Period}}
	if a.Period == "cu" {
		q.Set("from", a.From)
		q.Set("to", a.To)
	}
	if a.Manager != "" {
		q.Set("manager", a.Manager)
	}
	return q.Encode()
}

// errReportRefused: a manager asked for another's figures.
var errReportRefused = errors.New("web: another manager's report")

// readReportAsk reads the report and period an address asks for. problem is the text
// key of what is wrong with the period ("" when nothing is); an unknown report is
// store.ErrNotFound, another manager's figures errReportRefused.
func (h *Handler) readReportAsk(r *http.Request, v *visit) (a reportAsk, problem string, err error) {
	q := r.URL.Query()
	a = reportAsk{Name: r.PathValue("name"), Period: q.Get("period"), From: q.Get("from"), To: q.Get("to"),
		Manager: q.Get("manager")}
	if a.Name == "" {
		a.Name = reports.FunnelReport
	}
	if !slices.Contains(reports.Names(), a.Name) {
		return a, "", store.ErrNotFound
	}
	// Whose figures: the bot's rule, from the manager signed in, never the address.
	if !v.m.Role.SeesAll() {
		if a.Manager != "" && a.Manager != v.m.ID {
			return a, "", errReportRefused
		}
		a.Manager, a.own = "", v.m.ID
	}
	loc := h.opts.Location
	now := h.now().In(loc)
	y, m, _ := now.Date()
	if a.Period == "" {
		a.Period = "tm"
		if a.Name == reports.ABCReport {
			// As crm report: the twelve months before this one.
			month := time.Date(y, m, 1, 0, 0, 0, 0, loc)
			a.Period, a.From, a.To = "cu", month.AddDate(-1, 0, 0).Format(time.DateOnly), month.AddDate(0, 0, -1).Format(time.DateOnly)
		}
	}
	var from, to time.Time
	if a.Period == "cu" {
		first, err1 := time.ParseInLocation(time.DateOnly, a.From, loc)
		last, err2 := time.ParseInLocation(time.DateOnly, a.To, loc)
		switch {
		case err1 != nil || err2 != nil:
			return a, "reports.bad_dates", nil
		case last.Before(first):
			return a, "reports.bad_order", nil
		case last.AddDate(0, 0, 1).After(first.AddDate(1, 0, 0)):
			// A report reads every day of its period: a year at most, as in the bot.
			return a, "reports.too_long", nil
		}
		from, to = first, last.AddDate(0, 0, 1)
	} else {
		var ok bool
		if from, to, ok = store.NamedPeriod(a.Period, now, loc); !ok {
			return a, "reports.bad_period", nil
		}
		a.From, a.To = from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	a.p = reports.Period{From: from, To: to}
	if a.Manager != "" {
		if _, err := h.st.Manager(r.Context(), a.Manager); errors.Is(err, store.ErrNotFound) {
			return a, "reports.bad_manager", nil
		} else if err != nil {
			return a, "", err
		}
	}
	return a, "", nil
}

// buildReport computes the report in lang's labels, as the bot's and the CLI's are.
func (h *Handler) buildReport(ctx context.Context, a reportAsk, lang string) (reports.Layout, reports.Words, error) {
	words, err := reports.LoadWords(lang)
	if err != nil {
		return reports.Layout{}, words, err
	}
	req := reports.Request{Name: a.Name, Period: a.p, Own: a.own}
	if a.Manager != "" {
		// As crm report --manager: that manager's line, or that manager's clients.
		if a.Name == reports.ManagersReport || a.Name == reports.PaymentsReport {
			req.Own = a.Manager
		} else {
			req.Cut.ManagerID = a.Manager
		}
	}
	l, err := reports.Build(ctx, h.st, req, words, h.now())
	return l, words, err
}

// reportData is a report's page.
type reportData struct {
	Ask      reportAsk
	Query    template.URL // the ask in an address (url.Values encoded), for the tabs, the chart and the xlsx
	Names    []string
	Periods  []string
	Team     []store.Manager // to choose one from, for those who see all
	Own      bool            // a manager's own figures only
	Problem  string
	Built    bool // the report was built (no problem with the ask)
	Title    string
	Summary  []string
	NoData   string // the period has nothing: what to say
	HasChart bool
	Tables   []reportTable
}

type reportTable struct {
	Name, Title string
	Header      []string
	Rows        [][]reportCell
}

type reportCell struct {
	Text string
	Num  bool
}

// reportPage shows a report: the period picker, the key figures, the chart and the
// tables, with the xlsx to download.
func (h *Handler) reportPage(w http.ResponseWriter, r *http.Request, v *visit) {
	a, problem, err := h.readReportAsk(r, v)
	if h.reportRefused(w, r, v, err) {
		return
	}
	d := &reportData{Ask: a, Query: template.URL(a.query()), Names: reports.Names(), Periods: reportPeriods, Own: a.own != ""}
	if v.m.Role.SeesAll() {
		team, _, err := h.team(r.Context())
		if err != nil {
			h.fail(w, r, v, "read the team", err)
			return
		}
		d.Team = team
	}
	p := h.visitPage(v, "reports", "reports.title", d)
	p.Title = p.T("reports.name." + a.Name)
	status := http.StatusOK
	if problem != "" {
		d.Problem = p.T(problem)
		status = http.StatusBadRequest
		h.render(w, r, status, "reports", p)
		return
	}
	l, words, err := h.buildReport(r.Context(), a, p.Lang)
	if err != nil {
		h.fail(w, r, v, "build a report", err)
		return
	}
	d.Built, d.Title, d.Summary = true, l.Title, l.Summary
	if l.Empty {
		d.NoData = words.NoData()
	} else {
		d.HasChart = !l.Chart.Empty()
		for _, t := range l.Tables {
			d.Tables = append(d.Tables, tableOf(t, p.Lang))
		}
	}
	h.render(w, r, status, "reports", p)
}

// reportRefused answers an ask readReportAsk refused; false when it was not.
func (h *Handler) reportRefused(w http.ResponseWriter, r *http.Request, v *visit, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
	case errors.Is(err, errReportRefused):
		h.message(w, r, v, http.StatusForbidden, "reports.own_only")
	default:
		h.fail(w, r, v, "read a report's period", err)
	}
	return true
}

// reportFile builds the report an address asks for and hands it to write; a bad ask
// or an empty period is said in a page instead.
func (h *Handler) reportFile(w http.ResponseWriter, r *http.Request, v *visit, what string,
	write func(*bytes.Buffer, reports.Layout) error) (reportAsk, []byte, bool) {
	a, problem, err := h.readReportAsk(r, v)
	if h.reportRefused(w, r, v, err) {
		return a, nil, false
	}
	if problem != "" {
		h.message(w, r, v, http.StatusBadRequest, problem)
		return a, nil, false
	}
	l, _, err := h.buildReport(r.Context(), a, h.visitPage(v, "", "app.name", nil).Lang)
	if err != nil {
		h.fail(w, r, v, "build a report", err)
		return a, nil, false
	}
	var buf bytes.Buffer
	if !l.Empty {
		err = write(&buf, l)
	}
	switch {
	case l.Empty || errors.Is(err, chart.ErrNoData):
		h.message(w, r, v, http.StatusNotFound, "reports.nodata")
		return a, nil, false
	case err != nil:
		h.fail(w, r, v, what, err)
		return a, nil, false
	}
	return a, buf.Bytes(), true
}

// reportChart is the report's chart, a PNG of reports/chart, for the page's image.
func (h *Handler) reportChart(w http.ResponseWriter, r *http.Request, v *visit) {
	_, b, ok := h.reportFile(w, r, v, "draw a report's chart", func(buf *bytes.Buffer, l reports.Layout) error {
		return chart.PNG(buf, l.Chart)
	})
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(b)
}

// reportSheet is the report's full tables as the xlsx the bot sends.
func (h *Handler) reportSheet(w http.ResponseWriter, r *http.Request, v *visit) {
	a, b, ok := h.reportFile(w, r, v, "write a report's spreadsheet", func(buf *bytes.Buffer, l reports.Layout) error {
		return sheet.XLSX(buf, l.Tables...)
	})
	if !ok {
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s_%s.xlsx"`, a.Name, a.From, a.To))
	_, _ = w.Write(b)
}

// tableOf writes a report's table's cells as text: money as the store writes it,
// shares as percentages, numbers as they are.
func tableOf(t reports.Table, lang string) reportTable {
	out := reportTable{Name: t.Name, Title: t.Title, Header: t.Header}
	for _, row := range t.Rows {
		cells := make([]reportCell, len(row))
		for i, v := range row {
			cells[i] = reportCell{Text: cellText(v, lang), Num: true}
			if _, ok := v.(string); ok {
				cells[i].Num = false
			}
		}
		out.Rows = append(out.Rows, cells)
	}
	return out
}

// cellText writes one cell of a report's table as the page shows it.
func cellText(v any, lang string) string {
	switch x := v.(type) {
	case reports.Money:
		return store.FormatAmount(int64(math.Round(float64(x) * 100)))
	case reports.Percent:
		return strconv.FormatFloat(100*float64(x), 'f', 0, 64) + "%"
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if lang == "ru" {
			s = strings.ReplaceAll(s, ".", ",")
		}
		return s
	case string:
		return x
	}
	return fmt.Sprint(v)
}
