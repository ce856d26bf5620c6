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

	"github.com/crm-team/crm/store"
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
	if len(args) > 1 && args[0] == "orders" {
		return runImportOrders(ctx, e, args[1:])
	}
	a, err := parseImportArgs(e, "import", "give one CSV or xlsx file: crm import clients.csv (columns: docs/CSV.md)", args)
	if err != nil {
		return err
	}
	f, s, closeAll, err := openImport(ctx, e, a, "crm import")
	if err != nil {
		return err
	}
	defer closeAll()
	read := csvio.Import
	if a.xlsx {
		read = csvio.ImportXLSX
	}
	rep, err := read(ctx, s, a.actor, f, csvio.ImportOptions{Comma: a.comma, Now: e.cfg.Now})
	for _, re := range rep.Errors {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", a.file, re.Line, re.Message)
	}
	fmt.Fprintf(e.stdout, "%d rows read: %d clients created, %d already in the base, %d rows skipped with errors\n",
		rep.Read, rep.Created, rep.Existing, rep.Failed)
	if rep.Letters > 0 {
		fmt.Fprintf(e.stdout, "%d letters waiting in /inbox moved into the new clients' histories\n", rep.Letters)
	}
	return err
}

// importArgs are what both imports take: the file, its separator and the author.
type importArgs struct {
	file  string
	comma rune
	actor string
	xlsx  bool
}

func parseImportArgs(e *env, name, usage string, args []string) (importArgs, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	comma := fs.String("comma", "", "column separator (default: detected from the header, ';' or ',')")
	actor := fs.String("as", "import", "who the audit log and the history name as the author")
	if err := fs.Parse(args); err != nil {
		return importArgs{}, usageError{err}
	}
	if fs.NArg() != 1 {
		return importArgs{}, usageError{errors.New(usage)}
	}
	sep, err := separator(*comma)
	return importArgs{file: fs.Arg(0), comma: sep, actor: *actor, xlsx: strings.EqualFold(filepath.Ext(fs.Arg(0)), ".xlsx")}, err
}

// openImport opens an import's file, then the database; closeAll closes both.
func openImport(ctx context.Context, e *env, a importArgs, command string) (*os.File, *store.Store, func(), error) {
	f, err := os.Open(a.file)
	if err != nil {
		return nil, nil, nil, err
	}
	s, closeStore, err := openMigrated(ctx, e, command, true)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, s, func() { closeStore(); f.Close() }, nil
}

func runExport(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "orders" {
		return runExportOrders(ctx, e, args[1:])
	}
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

	var n int
	write := func(w io.Writer) (err error) {
		if *format == "xlsx" {
			n, err = csvio.ExportXLSX(ctx, s, w, csvio.ExportOptions{})
		} else {
			n, err = csvio.Export(ctx, s, w, csvio.ExportOptions{Comma: sep})
		}
		return err
	}
	if *out == "" {
		return write(e.stdout)
	}
	if err := writeAtomically(*out, write); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d clients written to %s\n", n, *out)
	return nil
}

// writeAtomically writes a file next to path and renames it there once write has
// succeeded, so that a failed export leaves no half file.
func writeAtomically(path string, write func(io.Writer) error) error {
	file, err := os.CreateTemp(filepath.Dir(path), ".crm-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(file.Name())
	if err := write(file); err != nil {
		_ = file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(file.Name(), path)
}
