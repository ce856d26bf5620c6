package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/crm-team/crm/store/csvio"
)

func separator(s string) (rune, error) {
	if s == "" {
		return 0, nil
	}
	if s == `\t` || s == "tab" {
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == '"' || r == '\n' {
		return 0, usageError{fmt.Errorf("-comma %q: give one character, such as ';' or ','", s)}
	}
	return r, nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	comma := fs.String("comma", "", "column separator (default: detected from the header, ';' or ',')")
	actor := fs.String("as", "import", "who the audit log names as the author")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("give one CSV or xlsx file: crm import clients.csv (columns: docs/CSV.md)")}
	}
	sep, err := separator(*comma)
	if err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	s, closeStore, err := openMigrated(ctx, e, "crm import", true)
	if err != nil {
		return err
	}
	defer closeStore()
	read := csvio.Import
	if strings.EqualFold(filepath.Ext(fs.Arg(0)), ".xlsx") {
		read = csvio.ImportXLSX
	}
	rep, err := read(ctx, s, *actor, f, csvio.ImportOptions{Comma: sep, Now: e.cfg.Now})
	for _, re := range rep.Errors {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", fs.Arg(0), re.Line, re.Message)
	}
	fmt.Fprintf(e.stdout, "%d rows read: %d clients created, %d already in the base, %d rows skipped with errors\n",
		rep.Read, rep.Created, rep.Existing, rep.Failed)
	if rep.Letters > 0 {
		fmt.Fprintf(e.stdout, "%d letters waiting in /inbox moved into the new clients' histories\n", rep.Letters)
	}
	return err
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("o", "", "write to this file instead of standard output (required for xlsx)")
	format := fs.String("format", "", "csv or xlsx (default: xlsx for a -o ending in .xlsx, else csv)")
	comma := fs.String("comma", ";", "CSV's column separator: ';' opens in Excel with a Russian locale, ',' elsewhere")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *format == "" {
		*format = "csv"
		if strings.EqualFold(filepath.Ext(*out), ".xlsx") {
			*format = "xlsx"
		}
	}
	switch {
	case *format != "csv" && *format != "xlsx":
		return usageError{fmt.Errorf("--format %q: use csv or xlsx", *format)}
	case *format == "xlsx" && *out == "":
		// A workbook is binary: a terminal would show garbage.
		return usageError{errors.New("--format xlsx needs a file: crm export --format xlsx -o clients.xlsx")}
	}
	sep, err := separator(*comma)
	if err != nil {
		return err
	}
	s, closeStore, err := openStore(ctx, e.cfg, e.log, "crm export", true)
	if err != nil {
		return err
	}
	defer closeStore()

	var w io.Writer = e.stdout
	var file *os.File
	if *out != "" {
		// Write next to the target and rename, so a failed export leaves no half file.
		file, err = os.CreateTemp(filepath.Dir(*out), ".crm-export-*")
		if err != nil {
			return err
		}
		defer os.Remove(file.Name())
		w = file
	}
	var n int
	if *format == "xlsx" {
		n, err = csvio.ExportXLSX(ctx, s, w, csvio.ExportOptions{})
	} else {
		n, err = csvio.Export(ctx, s, w, csvio.ExportOptions{Comma: sep})
	}
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
		if err := os.Rename(file.Name(), *out); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d clients written to %s\n", n, *out)
	}
	return nil
}
