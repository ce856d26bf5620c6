package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

const reportUsage = `crm report funnel [--from 2026-11-01] [--to 2026-11-30] [--city C] [--industry I] [--source S]
         [--manager NAME-or-ID] [--format table|csv]
       crm report sources [--from 2026-11-01] [--to 2026-11-30] [--format table|csv]
       crm report abc [--from 2025-11-01] [--to 2026-10-31] [--abc 80,95] [--xyz 10,25] [--format table|csv]
  --from and --to are days in CRM_TIMEZONE, both included (default: funnel this month,
  abc the twelve months before this one)`

// runReport is `crm report funnel|sources|abc`.
func runReport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "funnel" && args[0] != "sources" && args[0] != "abc" {
		say := "say which report"
		if len(args) > 0 {
			say = fmt.Sprintf("unknown report %q", args[0])
		}
		return usageError{fmt.Errorf("%s\nusage: %s", say, reportUsage)}
	}
	name := args[0]
	bad := func(format string, a ...any) error {
		return usageError{fmt.Errorf(format+"\nusage: %s", append(a, reportUsage)...)}
	}
	fs := flag.NewFlagSet("report "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var from, to, format, manager, abc, xyz string
	var cut reports.Cut
	fs.StringVar(&from, "from", "", "first day of the period")
	fs.StringVar(&to, "to", "", "last day of the period")
	fs.StringVar(&format, "format", "table", "table or csv")
	if name == "funnel" {
		fs.StringVar(&cut.City, "city", "", "only clients in this city")
		fs.StringVar(&cut.Industry, "industry", "", "only clients of this industry")
		fs.StringVar(&cut.LeadSource, "source", "", "only clients from this lead source")
		fs.StringVar(&manager, "manager", "", "only this manager's clients")
	} else if name == "abc" {
		fs.StringVar(&abc, "abc", "80,95", "percent of revenue that ends A and B")
		fs.StringVar(&xyz, "xyz", "10,25", "percent of monthly variation that ends X and Y")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return bad("%v", err)
	}
	if fs.NArg() > 0 {
		return bad("unexpected %q", fs.Arg(0))
	}
	if format != "table" && format != "csv" {
		return bad("--format %q: use table or csv", format)
	}
	loc := e.cfg.Calendar.Loc
	now := time.Now().In(loc)
	if name == "abc" && from == "" && to == "" {
		y, m, _ := now.Date()
		thisMonth := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		from, to = thisMonth.AddDate(-1, 0, 0).Format(time.DateOnly), thisMonth.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	p, err := reportPeriod(from, to, now, loc)
	if err != nil {
		return bad("%v", err)
	}
	th := reports.DefaultThresholds
	if name == "abc" {
		if th.A, th.B, err = percentPair("--abc", abc); err != nil {
			return bad("%v", err)
		}
		if th.X, th.Y, err = percentPair("--xyz", xyz); err != nil {
			return bad("%v", err)
		}
	}

	s, closeStore, err := openMigrated(ctx, e, "crm report", true)
	if err != nil {
		return err
	}
	defer closeStore()
	switch name {
	case "abc":
		return abcReport(ctx, e.stdout, s, p, loc, th, format)
	case "sources":
		return sourcesReport(ctx, e.stdout, s, p, loc, format)
	}
	if manager != "" {
		m, err := findManager(ctx, s, manager)
		if err != nil {
			return err
		}
		cut.ManagerID = m.ID
	}
	f, err := reports.ComputeFunnel(ctx, s, p, cut, time.Now())
	if err != nil {
		return err
	}
	if format == "csv" {
		return funnelCSV(e.stdout, f)
	}
	funnelTable(e.stdout, f, loc, manager)
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

// abcReport prints the classes: a table of the nine classes and the twenty largest
// clients, or every client as CSV.
func abcReport(ctx context.Context, out io.Writer, s *store.Store, p reports.Period, loc *time.Location, th reports.Thresholds, format string) error {
	classes, err := reports.Classify(ctx, s, p, loc, th)
	if err != nil {
		return err
	}
	clients, err := s.ReportClients(ctx)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(clients))
	for _, c := range clients {
		names[c.ID] = c.Name
	}
	if format == "csv" {
		w := csv.NewWriter(out)
		_ = w.Write([]string{"client_id", "client", "revenue", "share_pct", "abc", "monthly_variation_pct", "xyz"})
		for _, c := range classes {
			_ = w.Write([]string{c.ClientID, names[c.ClientID], rubles(c.Revenue), strconv.FormatFloat(100*c.Share, 'f', 2, 64), c.ABC,
				strconv.FormatFloat(100*c.Variation, 'f', 1, 64), c.XYZ})
		}
		w.Flush()
		return w.Error()
	}
	last := p.To.AddDate(0, 0, -1)
	fmt.Fprintf(out, "ABC/XYZ %s – %s: %d clients with paid orders\n", p.From.In(loc).Format(time.DateOnly), last.In(loc).Format(time.DateOnly), len(classes))
	if len(classes) == 0 {
		fmt.Fprintln(out, "no paid orders in the period")
		return nil
	}
	type cell struct {
		n       int
		revenue int64
	}
	grid := map[string]*cell{}
	var total int64
	for _, c := range classes {
		k := c.ABC + c.XYZ
		if grid[k] == nil {
			grid[k] = &cell{}
		}
		grid[k].n++
		grid[k].revenue += c.Revenue
		total += c.Revenue
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\tX\tY\tZ")
	for _, a := range []string{"A", "B", "C"} {
		row := []string{a}
		for _, x := range []string{"X", "Y", "Z"} {
			c := grid[a+x]
			if c == nil {
				row = append(row, "—")
				continue
			}
			row = append(row, fmt.Sprintf("%d clients, %.0f%%", c.n, 100*float64(c.revenue)/float64(total)))
		}
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	_ = w.Flush()
	fmt.Fprintln(out, "\nlargest clients")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range classes[:min(20, len(classes))] {
		fmt.Fprintf(w, "%s\t%s\t%.1f%%\t%s%s\n", names[c.ClientID], rubles(c.Revenue), 100*c.Share, c.ABC, c.XYZ)
	}
	return w.Flush()
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

func funnelTable(out io.Writer, f *reports.Funnel, loc *time.Location, manager string) {
	last := f.Period.To.AddDate(0, 0, -1)
	who := "all clients"
	if manager != "" {
		who = "clients of " + manager
	}
	fmt.Fprintf(out, "Funnel %s – %s (%s), %d stage moves\n\n", f.Period.From.In(loc).Format(time.DateOnly), last.In(loc).Format(time.DateOnly), who, f.Moves)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "stage\tat start\tat end\tgoes on to\tentered\twent on\tconversion\tmedian time in stage\tleft it")
	for _, st := range store.Stages {
		row := []string{string(st), strconv.Itoa(f.Start[st]), strconv.Itoa(f.End[st]), "", "", "", "", "", ""}
		if c, ok := f.ConversionFrom(st); ok {
			row[3], row[4], row[5], row[6] = string(c.To), strconv.Itoa(c.Entered), strconv.Itoa(c.Converted), percent(c)
		}
		if sp, ok := f.InStage[st]; ok {
			row[7], row[8] = days(sp.Median), strconv.Itoa(sp.N)
		}
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	_ = w.Flush()
	if len(f.Refusals) == 0 {
		fmt.Fprintln(out, "\nno refusals in the period")
		return
	}
	fmt.Fprintln(out, "\nrefusals")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, r := range f.Refusals {
		fmt.Fprintf(w, "%s\t%s\t%d\n", r.Stage, r.Reason, r.N)
	}
	_ = w.Flush()
}

func funnelCSV(out io.Writer, f *reports.Funnel) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"stage", "at_start", "at_end", "goes_on_to", "entered", "went_on", "conversion_pct", "median_days_in_stage", "left_stage"})
	for _, st := range store.Stages {
		row := []string{string(st), strconv.Itoa(f.Start[st]), strconv.Itoa(f.End[st]), "", "", "", "", "", ""}
		if c, ok := f.ConversionFrom(st); ok {
			row[3], row[4], row[5] = string(c.To), strconv.Itoa(c.Entered), strconv.Itoa(c.Converted)
			if c.Entered > 0 {
				row[6] = strconv.FormatFloat(100*c.Rate(), 'f', 1, 64)
			}
		}
		if sp, ok := f.InStage[st]; ok {
			row[7], row[8] = strconv.FormatFloat(sp.Median.Hours()/24, 'f', 1, 64), strconv.Itoa(sp.N)
		}
		_ = w.Write(row)
	}
	_ = w.Write(nil)
	_ = w.Write([]string{"refusal_stage", "reason", "clients"})
	for _, r := range f.Refusals {
		_ = w.Write([]string{string(r.Stage), r.Reason, strconv.Itoa(r.N)})
	}
	w.Flush()
	return w.Error()
}

func percent(c reports.Conversion) string {
	if c.Entered == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*c.Rate())
}

func days(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%.0f h", d.Hours())
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}

// sourcesReport prints what each lead source brought in the period.
func sourcesReport(ctx context.Context, out io.Writer, s *store.Store, p reports.Period, loc *time.Location, format string) error {
	rows, err := reports.Sources(ctx, s, p)
	if err != nil {
		return err
	}
	if format == "csv" {
		w := csv.NewWriter(out)
		_ = w.Write([]string{"lead_source", "new_clients", "reached_gold", "revenue"})
		for _, r := range rows {
			_ = w.Write([]string{r.Source, strconv.Itoa(r.NewClients), strconv.Itoa(r.ToGold), rubles(r.Revenue)})
		}
		w.Flush()
		return w.Error()
	}
	last := p.To.AddDate(0, 0, -1)
	fmt.Fprintf(out, "Lead sources %s – %s\n", p.From.In(loc).Format(time.DateOnly), last.In(loc).Format(time.DateOnly))
	if len(rows) == 0 {
		fmt.Fprintln(out, "no new clients, first orders or revenue in the period")
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "source\tnew clients\treached gold\trevenue")
	for _, r := range rows {
		src := r.Source
		if src == "" {
			src = "(not recorded)"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", src, r.NewClients, r.ToGold, rubles(r.Revenue))
	}
	return w.Flush()
}

// rubles writes an amount in minor units as a decimal.
func rubles(minor int64) string { return strconv.FormatFloat(float64(minor)/100, 'f', 2, 64) }
