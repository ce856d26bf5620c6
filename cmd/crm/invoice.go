package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/crm-team/crm/invoice"
	"github.com/crm-team/crm/store"
)

// runInvoice is `crm invoice ORDER [-o FILE]`: the order's invoice as a PDF, numbered
// the first time (the same number after that), as the bot's button makes it.
func runInvoice(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("invoice", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("o", "", `the PDF's file ("-": standard output; default "Счёт N от DD.MM.YYYY.pdf" here)`)
	var order string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		order, args = args[0], args[1:] // crm invoice 2026-12 -o invoice.pdf
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if order == "" && fs.NArg() == 1 {
		order = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected %q: crm invoice ORDER [-o FILE]", fs.Arg(0))}
	}
	if strings.TrimSpace(order) == "" {
		return usageError{fmt.Errorf("say which order: crm invoice ORDER [-o FILE] (the order's number)")}
	}
	s, closeStore, err := openMigrated(ctx, e, "crm invoice", true)
	if err != nil {
		return err
	}
	defer closeStore()
	// The command line is the administrator's: every order is theirs to invoice.
	admin := store.Viewer{ManagerID: "cli", Role: store.RoleAdmin}
	name, pdf, err := invoice.Maker{Store: s, Location: e.cfg.Calendar.Loc}.InvoicePDF(ctx, admin, strings.TrimSpace(order))
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err := e.stdout.Write(pdf)
		return err
	}
	path := *out
	if path == "" {
		path = name
	}
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		return fmt.Errorf("write the invoice: %w", err)
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", strings.TrimSuffix(name, ".pdf"), path)
	return nil
}
