package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/reports/sheet"
	"github.com/crm-team/crm/store/csvio"
)

const reportUsage = `crm report funnel|managers|sources|abc|payments [--from 2026-11-01] [--to 2026-11-30]
         [--format table|csv|xlsx|png] [--out FILE] [--lang en|ru] [--comma ';']
  funnel:   [--city C] [--industry I] [--source S] [--manager NAME-or-ID]
  managers: [--manager NAME-or-ID]  (that manager's line alone)
  abc:      [--abc 80,95] [--xyz 10,25]
  payments: [--manager NAME-or-ID]  (that manager's lines and overdue invoices alone)
  --from and --to are days in CRM_TIMEZONE, both included (default: this month; abc the
  twelve months before this one). xlsx and png go to --out (default
  report-<name>-<from>_<to>.<format> in the current folder); csv to --out, else
  to standard output, as Excel reads it (';' unless --comma, decimal commas in ru).`

// runReport is `crm report funnel|managers|sources|abc|payments`.
func runReport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || !slices.Contains(reports.Names(), args[0]) {
		say := "say which report"
		if len(args) > 0 {
			say = fmt.Sprintf("unknown report %q", args[0])
		}
		return usageError{fmt.Errorf("%s\nusage: %s", say, reportUsage)}
	}
	req := reports.Request{Name: args[0]}
	bad := func(format string, a ...any) error {
		return usageError{fmt.Errorf(format+"\nusage: %s", append(a, reportUsage)...)}
	}
	fs := flag.NewFlagSet("report "+req.Name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var from, to, format, out, lang, comma, manager, abc, xyz string
	fs.StringVar(&from, "from", "", "first day of the period")
	fs.StringVar(&to, "to", "", "last day of the period")
	fs.StringVar(&format, "format", "table", "table, csv, xlsx or png")
	fs.StringVar(&out, "out", "", "the file to write (csv: standard output without it)")
	fs.StringVar(&lang, "lang", "en", "the labels' language: en or ru")
	fs.StringVar(&comma, "comma", ";", "csv's column separator: ';' opens in Excel with a Russian locale, ',' elsewhere")
	switch req.Name {
	case reports.FunnelReport:
		fs.StringVar(&req.Cut.City, "city", "", "only clients in this city")
		fs.StringVar(&req.Cut.Industry, "industry", "", "only clients of this industry")
		fs.StringVar(&req.Cut.LeadSource, "source", "", "only clients from this lead source")
		fs.StringVar(&manager, "manager", "", "only this manager's clients")
	case reports.ManagersReport:
		fs.StringVar(&manager, "manager", "", "only this manager's line")
	case reports.PaymentsReport:
		fs.StringVar(&manager, "manager", "", "only this manager's lines and overdue invoices")
	case reports.ABCReport:
		fs.StringVar(&abc, "abc", "80,95", "percent of revenue that ends A and B")
		fs.StringVar(&xyz, "xyz", "10,25", "percent of monthly variation that ends X and Y")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return bad("%v", err)
	}
	if fs.NArg() > 0 {
		return bad("unexpected %q", fs.Arg(0))
	}
	if !slices.Contains([]string{"table", "csv", "xlsx", "png"}, format) {
		return bad("--format %q: use table, csv, xlsx or png", format)
	}
	if lang != "en" && lang != "ru" {
		return bad("--lang %q: use en or ru", lang)
	}
	sep, err := separator(comma)
	if err != nil {
		return bad("%v", err)
	}
	loc := e.cfg.Calendar.Loc
	now := e.cfg.Now().In(loc)
	if req.Name == reports.ABCReport && from == "" && to == "" {
		y, m, _ := now.Date()
		thisMonth := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		from, to = thisMonth.AddDate(-1, 0, 0).Format(time.DateOnly), thisMonth.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	if req.Period, err = reportPeriod(from, to, now, loc); err != nil {
		return bad("%v", err)
	}
	if req.Name == reports.ABCReport {
		th := &req.Thresholds
		if th.A, th.B, err = percentPair("--abc", abc); err != nil {
			return bad("%v", err)
		}
		if th.X, th.Y, err = percentPair("--xyz", xyz); err != nil {
			return bad("%v", err)
		}
	}
	words, err := reports.LoadWords(lang)
	if err != nil {
		return err
	}

	s, closeStore, err := openMigrated(ctx, e, "crm report", true)
	if err != nil {
		return err
	}
	defer closeStore()
	if manager != "" {
		m, err := findManager(ctx, s, manager)
		if err != nil {
			return err
		}
		if req.Name == reports.ManagersReport || req.Name == reports.PaymentsReport {
			req.Own = m.ID
		} else {
			req.Cut.ManagerID = m.ID
		}
	}
	l, err := reports.Build(ctx, s, req, words, now)
	if err != nil {
		return err
	}
	switch {
	case format == "csv" && out == "":
		return layoutCSV(e.stdout, l, words, sep)
	case format != "table":
		if out == "" {
			out = fmt.Sprintf("report-%s-%s_%s.%s", req.Name, req.Period.From.Format(time.DateOnly),
				req.Period.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly), format)
		}
		return writeReportFile(e, l, words, format, out, sep)
	}
	layoutTable(e.stdout, l, words)
	return nil
}

// percentPair reads "80,95": two increasing percentages, as shares.
func percentPair(flagName, v string) (float64, float64, error) {
	a, b, ok := strings.Cut(v, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil || x <= 0 || y <= x || y > 100 {
		return 0, 0, fmt.Errorf("%s %q: give two increasing percentages, e.g. 80,95", flagName, v)
	}
	return x / 100, y / 100, nil
}

// reportPeriod reads --from and --to, days in loc with both included; the default is
// the month of now, up to its end.
func reportPeriod(from, to string, now time.Time, loc *time.Location) (reports.Period, error) {
	y, m, _ := now.Date()
	p := reports.Period{From: time.Date(y, m, 1, 0, 0, 0, 0, loc)}
	p.To = p.From.AddDate(0, 1, 0)
	if from != "" {
		t, err := time.ParseInLocation(time.DateOnly, from, loc)
		if err != nil {
			return p, fmt.Errorf("--from %q: give a day as 2026-11-01", from)
		}
		p.From = t
		if to == "" {
			p.To = now
		}
	}
	if to != "" {
		t, err := time.ParseInLocation(time.DateOnly, to, loc)
		if err != nil {
			return p, fmt.Errorf("--to %q: give a day as 2026-11-30", to)
		}
		p.To = t.AddDate(0, 0, 1)
	}
	if !p.From.Before(p.To) {
		return p, errors.New("--from must come before --to")
	}
	return p, nil
}

// layoutTable prints a report's title, key figures and tables for a terminal.
func layoutTable(out io.Writer, l reports.Layout, words reports.Words) {
	fmt.Fprintln(out, l.Title)
	if l.Empty {
		fmt.Fprintln(out, words.NoData())
		return
	}
	for _, line := range l.Summary {
		fmt.Fprintln(out, "  "+line)
	}
	for _, t := range l.Tables {
		fmt.Fprintf(out, "\n%s\n", t.Name)
		w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(t.Header, "\t"))
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cellText(v, false)
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		_ = w.Flush()
	}
}

// layoutCSV writes a report's tables one after another, each with its header, a blank
// line between, through the CSV writer of the clients' export: Excel-ready, every
// value guarded. Russian figures take decimal commas, as Excel reads them there. The
// figures are never negative, so the guard leaves them numbers.
func layoutCSV(out io.Writer, l reports.Layout, words reports.Words, comma rune) error {
	w := csvio.NewWriter(out, comma, true)
	for i, t := range l.Tables {
		if i > 0 {
			_ = w.Write(nil)
		}
		_ = w.Write(t.Header)
		cells := make([]string, 0, len(t.Header))
		for _, row := range t.Rows {
			cells = cells[:0]
			for _, v := range row {
				cells = append(cells, cellText(v, words.Lang == "ru"))
			}
			_ = w.Write(cells)
		}
	}
	return w.Flush()
}

// cellText writes a table cell: money with two decimals, shares as percentages, with a
// decimal comma when asked.
func cellText(v any, decimalComma bool) string {
	var s string
	switch x := v.(type) {
	case reports.Money:
		s = strconv.FormatFloat(float64(x), 'f', 2, 64)
	case reports.Percent:
		s = strconv.FormatFloat(100*float64(x), 'f', 1, 64) + "%"
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
	if decimalComma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// writeReportFile writes the tables as CSV or a spreadsheet, or the chart as a picture,
// to path; what it says goes to standard error, as crm export's does.
func writeReportFile(e *env, l reports.Layout, words reports.Words, format, path string, comma rune) error {
	if l.Empty {
		fmt.Fprintf(e.stderr, "%s\n%s Nothing written.\n", l.Title, words.NoData())
		return nil
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = layoutCSV(&buf, l, words, comma)
	case "png":
		err = chart.PNG(&buf, l.Chart)
		if errors.Is(err, chart.ErrNoData) {
			// The tables have figures the chart does not draw (the managers' notes and
			// tasks, say): no broken picture, and a way to the figures.
			fmt.Fprintf(e.stderr, "%s\nThe chart has nothing to draw in this period; its tables do: use --format table, csv or xlsx. Nothing written.\n", l.Title)
			return nil
		}
	default:
		err = sheet.XLSX(&buf, l.Tables...)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%s\nwritten to %s\n", l.Title, path)
	return nil
}
