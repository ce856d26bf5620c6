package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// Reports draws reports for the chat; cmd wires it to the reports package.
type Reports interface {
	Report(ctx context.Context, ask ReportAsk) (ReportView, error)
	Spreadsheet(ctx context.Context, ask ReportAsk) ([]byte, error)
}

// ReportAsk is one report over one period, as a manager asked for it.
type ReportAsk struct {
	Name     string    // "funnel", "managers", "sources", "abc", "payments"
	From, To time.Time // local midnights in the company's time zone; To excluded
	Own      string    // a manager's ID: their clients and their line only; "" for everyone
	Lang     string    // "ru" or "en"
}

// ReportView is a report as the chat shows it.
type ReportView struct {
	Title   string   // plain text, with the period
	Summary []string // key figures, plain text, a line each
	PNG     []byte   // the chart; nil when Empty
	Empty   bool     // nothing in the period
	NoData  string   // what to say then, in Lang
}

// xlsxMIME is the spreadsheet's type, so that phones open it in a spreadsheet app.
const xlsxMIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// reportNames are the reports of the menu, in its order.
func reportNames() []string { return []string{"funnel", "managers", "sources", "abc", "payments"} }

// reportPeriods are the period buttons' codes, in their order; "cu" asks for dates.
func reportPeriods() []string { return []string{"tw", "lw", "tm", "lm", "tq", "cu"} }

// dayData writes a day into callback data: short, so the data stays far below 64 bytes.
const dayData = "20060102"

// reportsOn tells whether reports are set up; without them a report button is stale
// (one left from before a restart without them).
func (t *turn) reportsOn(name string) bool {
	if t.opts.Reports == nil || (name != "" && !slices.Contains(reportNames(), name)) {
		t.notice(t.tr("tap.stale"))
		return false
	}
	return true
}

// reportOwn is whose figures the manager may see: a manager their own, a head or an
// administrator everyone's. It is read from the manager of this update (read afresh),
// never from a button, so a forged or an old button shows no more than the role allows.
func (t *turn) reportOwn() string {
	if t.m.Role.SeesAll() {
		return ""
	}
	return t.m.ID
}

// companyLoc is the company's time zone, in which the reports count their days.
func (t *turn) companyLoc() *time.Location {
	if l := t.opts.Calendar.Loc; l != nil {
		return l
	}
	return t.location("")
}

// leaveReportDates ends a wait for typed dates: the manager moved on with a button.
func (t *turn) leaveReportDates() {
	if t.s.dialog != nil && t.s.dialog.kind == dialogReport {
		t.s.dialog = nil
	}
}

// reportShow edits the tapped menu in place; under a picture (fresh) it cannot, as a
// photo has no text to replace, so it sends a new message.
func (t *turn) reportShow(fresh bool, text string, kb ...[]Button) {
	if fresh {
		t.say(text, kb...)
		return
	}
	t.show(text, kb...)
}

const tapReports tap = "rpm" // rpm[:n]: n sends the menu anew

// reportMenu is /report: a button for each report.
func (t *turn) reportMenu(fresh bool) {
	if !t.reportsOn("") {
		return
	}
	t.leaveReportDates()
	text := t.tr("report.menu")
	if t.reportOwn() != "" {
		text += "\n" + t.tr("report.own")
	}
	names := reportNames()
	var kb [][]Button
	for i := 0; i < len(names); i += 2 {
		r := row(btn(t.tr("report.name."+names[i]), tapReport.data(names[i])))
		if i+1 < len(names) {
			r = append(r, btn(t.tr("report.name."+names[i+1]), tapReport.data(names[i+1])))
		}
		kb = append(kb, r)
	}
	t.reportShow(fresh, text, kb...)
}

const tapReport tap = "rp" // rp:<report>[:n]

// reportPeriodMenu asks for the period of a report.
func (t *turn) reportPeriodMenu(name string, fresh bool) {
	if !t.reportsOn(name) {
		return
	}
	t.leaveReportDates()
	text := t.tr("report.period", "name", t.tr("report.name."+name))
	if t.reportOwn() != "" {
		text += "\n" + t.tr("report.own")
	}
	codes := reportPeriods()
	var kb [][]Button
	for i := 0; i < len(codes); i += 2 {
		kb = append(kb, row(btn(t.tr("report.period."+codes[i]), tapReportPeriod.data(name, codes[i])),
			btn(t.tr("report.period."+codes[i+1]), tapReportPeriod.data(name, codes[i+1]))))
	}
	kb = append(kb, row(btn(t.tr("report.back"), tapReports.data())))
	t.reportShow(fresh, text, kb...)
}

const tapReportPeriod tap = "rpp" // rpp:<report>:<period>

// reportPeriodTap builds the report over the period tapped, or asks for dates.
func (t *turn) reportPeriodTap(name, code string) {
	if !t.reportsOn(name) {
		return
	}
	t.leaveReportDates()
	if code == "cu" {
		t.s.dialog = &dialog{kind: dialogReport, report: name}
		t.say(t.tr("report.ask_dates", "name", t.tr("report.name."+name)), row(btn(t.tr("btn.cancel"), tapCancel.data())))
		return
	}
	from, to, ok := periodOf(code, t.now, t.companyLoc())
	if !ok {
		t.notice(t.tr("tap.stale"))
		return
	}
	t.report(name, from, to)
}

// periodOf is the period a button names, in whole days of loc (store.NamedPeriod,
// which the web workspace's period picker reads too).
func periodOf(code string, now time.Time, loc *time.Location) (from, to time.Time, ok bool) {
	return store.NamedPeriod(code, now, loc)
}

// reportDates takes the typed period of a report. A text that is not one is refused
// and the bot waits for another; /cancel or a command leaves.
func (t *turn) reportDates(d *dialog, text string) {
	from, to, problem := parsePeriod(text, t.companyLoc())
	if problem != "" {
		t.say(t.tr(problem, "text", clip(text, 60), "from", from.Format("02.01.2006"), "to", to.AddDate(0, 0, -1).Format("02.01.2006")),
			row(btn(t.tr("btn.cancel"), tapCancel.data())))
		return
	}
	t.s.dialog = nil
	t.report(d.report, from, to)
}

// dateRE finds a day written as 2026-10-01 or 01.10.2026.
var dateRE = regexp.MustCompile(`\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}`)

// betweenDatesRE is what may stand around and between the days: spaces, dashes,
// dots and commas ("01.10.2026 – 31.10.2026", "2026-10-01..2026-10-31").
var betweenDatesRE = regexp.MustCompile(`^[\s\-–—.,;:/]*$`)

// parsePeriod reads a period typed as two days, both included (one day: that day), in
// loc. problem is the text key of what is wrong with it, "" when nothing is; from and
// to are then set as far as they were read.
func parsePeriod(text string, loc *time.Location) (from, to time.Time, problem string) {
	spans := dateRE.FindAllStringIndex(text, -1)
	if len(spans) == 0 || len(spans) > 2 || !betweenDatesRE.MatchString(dateRE.ReplaceAllString(text, " ")) {
		return from, to, "report.bad_dates"
	}
	var days []time.Time
	for _, sp := range spans {
		s := text[sp[0]:sp[1]]
		layout := "2.1.2006"
		if strings.Contains(s, "-") {
			layout = "2006-1-2"
		}
		day, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return from, to, "report.bad_dates" // 31.02, month 13
		}
		days = append(days, day)
	}
	from, last := days[0], days[len(days)-1]
	return from, last.AddDate(0, 0, 1), checkPeriod(from, last)
}

// checkPeriod refuses a period that ends before it starts, or is longer than a year:
// a report reads every day of its period, and a longer one would keep the chat (and
// the base) busy for long.
func checkPeriod(from, last time.Time) string {
	switch {
	case last.Before(from):
		return "report.bad_order"
	case last.AddDate(0, 0, 1).After(from.AddDate(1, 0, 0)):
		return "report.too_long"
	}
	return ""
}

// report sends a report over from-to: the chart with the title and key figures as
// its caption, and buttons for the spreadsheet and another period.
func (t *turn) report(name string, from, to time.Time) {
	ask := ReportAsk{Name: name, From: from, To: to, Own: t.reportOwn(), Lang: t.lang}
	t.answerNow(t.tr("report.building"))
	v, err := t.opts.Reports.Report(t.ctx, ask)
	if err != nil {
		t.reportFailed("build a report", ask, err)
		return
	}
	again := row(btn(t.tr("report.again"), tapReport.data(name, "n")), btn(t.tr("report.all"), tapReports.data("n")))
	text := "<b>" + html.EscapeString(v.Title) + "</b>"
	if v.Empty {
		noData := v.NoData
		if noData == "" {
			noData = t.tr("report.nodata")
		}
		t.say(text+"\n"+html.EscapeString(noData), again)
		return
	}
	for _, line := range v.Summary {
		text += "\n" + html.EscapeString(line)
	}
	// The days, not the button's period code: the spreadsheet tapped next week is of
	// the same days as the picture above it.
	table := btn(t.tr("report.table"), tapReportSheet.data(name, from.Format(dayData), to.AddDate(0, 0, -1).Format(dayData)))
	r := Reply{ChatID: t.u.ChatID, Text: text, Buttons: [][]Button{row(table), again}}
	if len(v.PNG) > 0 {
		r.Photo = &Photo{Name: name + ".png", PNG: v.PNG}
	}
	t.out = append(t.out, r)
}

const tapReportSheet tap = "rpx" // rpx:<report>:<first day>:<last day>

// reportSheet sends the full tables of a report as a spreadsheet. The days come from
// the button and are checked as typed ones are; whose figures, from the manager.
func (t *turn) reportSheet(name, first, last string) {
	if !t.reportsOn(name) {
		return
	}
	loc := t.companyLoc()
	from, err1 := time.ParseInLocation(dayData, first, loc)
	end, err2 := time.ParseInLocation(dayData, last, loc)
	if err1 != nil || err2 != nil || checkPeriod(from, end) != "" {
		t.notice(t.tr("tap.stale"))
		return
	}
	ask := ReportAsk{Name: name, From: from, To: end.AddDate(0, 0, 1), Own: t.reportOwn(), Lang: t.lang}
	t.answerNow(t.tr("report.building"))
	content, err := t.opts.Reports.Spreadsheet(t.ctx, ask)
	if err != nil {
		t.reportFailed("make a report's spreadsheet", ask, err)
		return
	}
	file := fmt.Sprintf("%s-%s_%s.xlsx", name, from.Format(time.DateOnly), end.Format(time.DateOnly))
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, Document: &Document{Name: file, MIME: xlsxMIME,
		Load: func(context.Context) ([]byte, error) { return content, nil }}})
}

// reportFailed logs what went wrong and apologises; nothing was changed.
func (t *turn) reportFailed(what string, ask ReportAsk, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	t.log.Error(what, "manager", t.m.ID, "report", ask.Name, "from", ask.From, "to", ask.To, "own", ask.Own, "err", err)
	t.say(t.tr("report.failed"))
}
