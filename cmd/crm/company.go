package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/crm-team/crm/invoice"
	"github.com/crm-team/crm/store"
)

// requisiteFlag is one of crm company set's text flags: the field of r it sets, and
// how show names it.
type requisiteFlag struct {
	flag, label, help string
	field             *string
}

func requisiteFlags(r *store.Requisites) []requisiteFlag {
	return []requisiteFlag{
		{"name", "Name", `the company's name as on invoices: "ООО «Ромашка»"`, &r.Name},
		{"inn", "INN", "ИНН: 10 digits (an organisation) or 12 (a sole trader)", &r.INN},
		{"kpp", "KPP", "КПП: 9 digits (none for a sole trader)", &r.KPP},
		{"ogrn", "OGRN", "ОГРН or ОГРНИП: 13 or 15 digits", &r.OGRN},
		{"address", "Address", "the legal address", &r.Address},
		{"phone", "Phone", "the phone printed on invoices", &r.Phone},
		{"bank", "Bank", `the bank's name and city: "ПАО Сбербанк г. Москва"`, &r.Bank},
		{"bik", "BIK", "the bank's БИК: 9 digits", &r.BIK},
		{"account", "Account", "the settlement account (р/с): 20 digits", &r.Account},
		{"corr-account", "Corr. account", "the bank's correspondent account (к/с): 20 digits", &r.CorrAccount},
		{"director", "Director", "who signs as Руководитель", &r.Director},
		{"accountant", "Accountant", "who signs as Бухгалтер", &r.Accountant},
	}
}

// runCompany is `crm company show|set`: the seller's requisites printed on invoices.
func runCompany(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "set") {
		return usageError{fmt.Errorf("crm company show, or crm company set --name … --inn … (crm company set -h lists the flags)")}
	}
	sub, args := args[0], args[1:]
	var r store.Requisites
	fs := flag.NewFlagSet("company "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	for _, f := range requisiteFlags(&r) {
		fs.StringVar(f.field, f.flag, "", f.help)
	}
	vat := fs.Int("vat", 0, "the VAT rate in percent that prices include: 20, 10, 5, 0")
	noVAT := fs.Bool("no-vat", false, `no VAT (the simplified tax system): invoices say "Без НДС"`)
	payDays := fs.Int("pay-days", 0, "days an invoice gives to pay (0: 5)")
	unit := fs.String("unit", "", `what an order is counted in on an invoice: "шт" (the default), "усл." for services`)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected %q: values go after flags, quoted when they have spaces", fs.Arg(0))}
	case sub == "show" && len(given) > 0:
		return usageError{fmt.Errorf("show takes no flags; to change the requisites: crm company set")}
	case sub == "set" && len(given) == 0:
		return usageError{fmt.Errorf("say what to change: crm company set --name … --inn … (crm company set -h lists the flags)")}
	case given["vat"] && given["no-vat"]:
		return usageError{fmt.Errorf("--vat and --no-vat together: give one")}
	}
	s, closeStore, err := openMigrated(ctx, e, "crm company", true)
	if err != nil {
		return err
	}
	defer closeStore()
	cur, err := s.CompanyRequisites(ctx)
	if errors.Is(err, store.ErrNoRequisites) {
		if sub == "show" {
			return fmt.Errorf("%w: set them with %s", err, invoice.SetRequisitesHint)
		}
		cur, err = &store.Requisites{VAT: 20}, nil
	}
	if err != nil {
		return err
	}
	if sub == "show" {
		return showRequisites(e, cur)
	}
	// What was given replaces the field; the rest stays as it was.
	next := *cur
	typed, fields := requisiteFlags(&r), requisiteFlags(&next)
	for i, f := range typed {
		if given[f.flag] {
			*fields[i].field = *f.field
		}
	}
	if given["inn"] {
		if next.INN, err = store.NormalizeINN(next.INN); err != nil {
			return fmt.Errorf("%w; nothing saved", err)
		}
	}
	if given["vat"] {
		next.VAT, next.NoVAT = *vat, false
	}
	if given["no-vat"] {
		next.NoVAT = *noVAT
	}
	if given["pay-days"] {
		next.PayDays = *payDays
	}
	if given["unit"] {
		next.Unit = *unit
	}
	if err := s.SetCompanyRequisites(ctx, "cli", next); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("%w; nothing saved", err)
		}
		return err
	}
	fmt.Fprintln(e.stdout, "Saved. The company's requisites on invoices now:")
	saved, err := s.CompanyRequisites(ctx)
	if err != nil {
		return err
	}
	return showRequisites(e, saved)
}

// showRequisites prints the requisites a line each, with the flag that changes it.
func showRequisites(e *env, r *store.Requisites) error {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, f := range requisiteFlags(r) {
		v := *f.field
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t--%s\n", f.label, v, f.flag)
	}
	vat := strconv.Itoa(r.VAT) + "% included in prices\t--vat " + strconv.Itoa(r.VAT)
	if r.NoVAT {
		vat = "none (Без НДС)\t--no-vat"
	}
	fmt.Fprintf(w, "VAT\t%s\n", vat)
	fmt.Fprintf(w, "Days to pay\t%d\t--pay-days\n", cmp.Or(r.PayDays, 5))
	fmt.Fprintf(w, "Unit on invoices\t%s\t--unit\n", r.UnitOrDefault())
	return w.Flush()
}
