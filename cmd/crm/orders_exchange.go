package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/crm-team/crm/store/csvio"
)

// maxShownErrors is how many bad rows crm import orders prints.
const maxShownErrors = 100

// runImportOrders is crm import orders FILE: orders from 1C or MoySklad, all or none.
func runImportOrders(ctx context.Context, e *env, args []string) error {
	a, err := parseImportArgs(e, "import orders", "give one CSV or xlsx file: crm import orders orders.xlsx (columns: docs/CSV.md, Orders)", args)
	if err != nil {
		return err
	}
	f, s, closeAll, err := openImport(ctx, e, a, "crm import orders")
	if err != nil {
		return err
	}
	defer closeAll()
	read := csvio.ImportOrders
	if a.xlsx {
		read = csvio.ImportOrdersXLSX
	}
	name := a.file
	rep, err := read(ctx, s, a.actor, f, csvio.OrderImportOptions{Comma: a.comma, Location: e.cfg.Calendar.Loc, MaxErrors: maxShownErrors})
	for _, re := range rep.Errors {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", name, re.Line, re.Message)
	}
	if rep.Failed > len(rep.Errors) {
		fmt.Fprintf(e.stderr, "... and %d more rows with errors\n", rep.Failed-len(rep.Errors))
	}
	if err != nil {
		return err
	}
	if len(rep.Ignored) > 0 {
		fmt.Fprintf(e.stderr, "columns not read: %s\n", strings.Join(rep.Ignored, ", "))
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d rows have errors: nothing was imported; correct them and import the file again", rep.Failed, rep.Read)
	}
	fmt.Fprintf(e.stdout, "%d orders read: %d created, %d updated, %d unchanged\n",
		rep.Read, rep.Saved.Created, rep.Saved.Updated, rep.Saved.Unchanged)
	return nil
}

// runExportOrders is crm export orders [FILE]: a workbook, or CSV by the name.
func runExportOrders(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("export orders", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	comma := fs.String("comma", ";", "CSV's column separator: ';' opens in Excel with a Russian locale, ',' elsewhere")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 1 {
		return usageError{fmt.Errorf("unexpected arguments %v: crm export orders [orders.xlsx|orders.csv]", fs.Args()[1:])}
	}
	out := "orders.xlsx"
	if fs.NArg() == 1 {
		out = fs.Arg(0)
	}
	ext := strings.ToLower(filepath.Ext(out))
	if ext != ".xlsx" && ext != ".csv" {
		return usageError{fmt.Errorf("%s: name the file .xlsx (Excel) or .csv", out)}
	}
	sep, err := separator(*comma)
	if err != nil {
		return err
	}
	s, closeStore, err := openStore(ctx, e.cfg, e.log, "crm export orders", true)
	if err != nil {
		return err
	}
	defer closeStore()
	loc := e.cfg.Calendar.Loc
	var n int
	err = writeAtomically(out, func(w io.Writer) (err error) {
		if ext == ".xlsx" {
			n, err = csvio.ExportOrdersXLSX(ctx, s, w, loc)
		} else {
			n, err = csvio.ExportOrders(ctx, s, w, loc, csvio.ExportOptions{Comma: sep})
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d orders written to %s\n", n, out)
	return nil
}
