package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// reportFormat is how crm campaign report writes: a table for a terminal, CSV or a
// workbook.
type reportFormat string

const (
	reportTable reportFormat = "table"
	reportCSV   reportFormat = "csv"
	reportXLSX  reportFormat = "xlsx"
)

// reportFormat reads --format, by default from -o's extension, and refuses what
// cannot be written.
func (f *campaignFlags) reportFormat() (reportFormat, error) {
	bad := func(format string, a ...any) (reportFormat, error) {
		return "", campaignUsageError("report", format, a...)
	}
	format := reportFormat(strings.ToLower(f.format))
	if format == "" {
		format = reportTable
		switch strings.ToLower(filepath.Ext(f.out)) {
		case ".xlsx":
			format = reportXLSX
		case ".csv":
			format = reportCSV
		}
	}
	switch {
	case format != reportTable && format != reportCSV && format != reportXLSX:
		return bad("--format %q: use table, csv or xlsx", f.format)
	case format == reportXLSX && f.out == "":
		// A workbook is binary: a terminal would show garbage.
		return bad("--format xlsx needs a file: -o report.xlsx")
	case f.run < 0:
		return bad("--run %d: runs are numbered from 1", f.run)
	}
	if _, err := separator(f.comma); err != nil {
		return "", err
	}
	return format, nil
}

// report writes what became of every letter of a run, a row a contact, streaming:
// a run of any size takes the memory of one batch (the table's columns have fixed
// widths for that reason; a longer value pushes the rest of its line).
func (cc *campaignCmd) report(ctx context.Context, c *store.Campaign, f *campaignFlags, format reportFormat) (err error) {
	if c.Run == 0 {
		return fmt.Errorf("campaign %q has not been sent yet: no outcomes to report", c.Name)
	}
	var w io.Writer = cc.e.stdout
	var file *os.File
	if f.out != "" {
		// Written next to the target and renamed, so a failed report leaves no half file.
		if file, err = os.CreateTemp(filepath.Dir(f.out), ".crm-report-*"); err != nil {
			return err
		}
		defer os.Remove(file.Name())
		defer file.Close()
		w = file
	}
	rows, missing := 0, 0
	switch format {
	case reportCSV, reportXLSX:
		comma, _ := separator(f.comma)
		rows, missing, err = cc.cs.WriteReport(ctx, w, c, f.run, format == reportXLSX, comma)
	default:
		tw := newFixedTable(w)
		if err = tw.row("OUTCOME", "TIME", "E-MAIL", "CLIENT", "CONTACT", "DETAILS"); err != nil {
			return err
		}
		missing, err = cc.cs.Report(ctx, c, f.run, func(r campaign.ReportRow) error {
			rows++
			return tw.row(cc.reportLine(r))
		})
		if err == nil {
			err = tw.bw.Flush()
		}
	}
	if err != nil {
		return err
	}
	if missing > 0 {
		fmt.Fprintf(cc.e.stderr, "%d batches of this run kept no recipients (it finished before outcomes were kept): crm campaign status counts their letters\n", missing)
	}
	if file == nil {
		return nil
	}
	if err := file.Close(); err != nil {
		return err
	}
	if err := os.Rename(file.Name(), f.out); err != nil {
		return err
	}
	fmt.Fprintf(cc.e.stderr, "%d contacts written to %s\n", rows, f.out)
	return nil
}

// reportLine is a row as the table shows it: what is said about the letter is joined
// at the end of the line.
func (cc *campaignCmd) reportLine(r campaign.ReportRow) (string, string, string, string, string, string) {
	var details []string
	for _, d := range []string{r.Reason, r.Reply} {
		if d != "" {
			details = append(details, d)
		}
	}
	if r.NextTry != nil {
		details = append(details, "next try "+cc.cs.ReportTime(r.NextTry))
	}
	email := r.Email
	if email == "" {
		email = "-"
	}
	return string(r.Outcome), cc.cs.ReportTime(r.At), email, r.Client, r.Contact, strings.Join(details, "; ")
}

// fixedTable writes a table with fixed column widths as its rows come: a tabwriter
// would hold every row until the end to size the columns.
type fixedTable struct {
	bw *bufio.Writer
}

func newFixedTable(w io.Writer) *fixedTable { return &fixedTable{bw: bufio.NewWriter(w)} }

// reportWidths are the widths of the table's columns but the last.
var reportWidths = [...]int{8, 16, 30, 24, 24}

func (t *fixedTable) row(outcome, at, email, client, contact, details string) error {
	var line strings.Builder
	for i, v := range [...]string{outcome, at, email, client, contact} {
		line.WriteString(v)
		line.WriteString(strings.Repeat(" ", max(reportWidths[i]-utf8.RuneCountInString(v), 0)+2))
	}
	line.WriteString(details)
	_, err := t.bw.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	return err
}
