package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
)

var setRomashka = []string{"company", "set", "--name", "ООО «Ромашка»", "--inn", "7707083893", "--kpp", "773601001",
	"--bank", "ПАО Сбербанк г. Москва", "--bik", "044525225", "--account", "4070 2810 1000 0000 0001",
	"--corr-account", "30101810400000000225", "--address", "г. Москва, ул. Вавилова, д. 19", "--director", "Греф Герман Оскарович"}

// crm company set changes the flags given and keeps the rest; a bad value is refused
// with the reason and nothing of the command is saved.
func TestCompanyRequisites(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	if r := runCRM(ctx, t, vars, "company", "show"); r.code != 1 || !strings.Contains(r.stderr, "crm company set --name") {
		t.Fatalf("show before set: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "company", "set", "--name", "ООО «Ромашка»"); r.code != 1 || !strings.Contains(r.stderr, "bank") ||
		!strings.Contains(r.stderr, "nothing saved") {
		t.Fatalf("an incomplete first set: %+v", r)
	}
	if r := runCRM(ctx, t, vars, setRomashka...); r.code != 0 || !strings.Contains(r.stdout, "40702810100000000001") {
		t.Fatalf("set: %+v", r)
	}
	show := func() string {
		t.Helper()
		r := runCRM(ctx, t, vars, "company", "show")
		if r.code != 0 {
			t.Fatalf("show: %+v", r)
		}
		return strings.Join(strings.Fields(r.stdout), " ")
	}
	want := []string{"Name ООО «Ромашка» --name", "INN 7707083893 --inn", "KPP 773601001", "Bank ПАО Сбербанк г. Москва",
		"BIK 044525225", "Account 40702810100000000001", "Corr. account 30101810400000000225", "Director Греф Герман Оскарович",
		"Accountant - --accountant", "VAT 20% included in prices --vat 20", "Days to pay 5 --pay-days",
		"Unit on invoices шт --unit"}
	check := func(step string) {
		t.Helper()
		got := show()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: show lacks %q:\n%s", step, w, got)
			}
		}
	}
	check("after set")
	for _, bad := range []struct {
		args []string
		says string
		code int
	}{
		{[]string{"--inn", "7707083894", "--name", "ООО «Лютик»"}, "control digit", 1},
		{[]string{"--bik", "04452522", "--name", "ООО «Лютик»"}, "BIK", 1},
		{[]string{"--account", "4070281010000000000x"}, "account", 1},
		{[]string{"--vat", "99"}, "VAT 99%", 1},
		{[]string{"--pay-days", "-1"}, "days to pay", 1},
		{[]string{"--unit", "штук и упаковок"}, "a short word", 1},
		{[]string{"--vat", "10", "--no-vat"}, "together", 2},
		{[]string{"--vat", "twenty"}, "invalid value", 2},
		{[]string{"--name"}, "flag needs an argument", 2},
		{nil, "say what to change", 2},
		{[]string{"--name", "ООО", "Лютик"}, "unexpected", 2},
	} {
		r := runCRM(ctx, t, vars, append([]string{"company", "set"}, bad.args...)...)
		if r.code != bad.code || !strings.Contains(r.stderr, bad.says) {
			t.Errorf("set %q: %+v, want code %d saying %q", bad.args, r, bad.code, bad.says)
		}
	}
	check("after the bad values")
	if r := runCRM(ctx, t, vars, "company", "set", "--no-vat", "--pay-days", "10", "--accountant", "Петрова Анна", "--unit", "усл."); r.code != 0 {
		t.Fatalf("set VAT: %+v", r)
	}
	want = append(want[:len(want)-4], "Accountant Петрова Анна", "VAT none (Без НДС) --no-vat", "Days to pay 10", "Unit on invoices усл.")
	check("after --no-vat")
	if r := runCRM(ctx, t, vars, "company", "set", "--vat", "10"); r.code != 0 || !strings.Contains(r.stdout, "10% included") {
		t.Fatalf("back to VAT: %+v", r)
	}
}

// crm invoice numbers an order's invoice once and in turn through the year, writes
// the PDF, and says what to do without requisites.
func TestInvoiceCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vars := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "data"), "CRM_LOG_LEVEL": "warn"}
	if r := runCRM(ctx, t, vars, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	s, _, closeStore := openBase(t, vars)
	admin := store.Viewer{ManagerID: "test", Role: store.RoleAdmin}
	c := &store.Client{Name: "ООО «Вектор»", Kind: store.KindCompany, Legal: store.Legal{INN: "7736207543", KPP: "770401001"}}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	var orders []string
	for _, amount := range []int64{1250000, 99900} {
		o, err := s.RecordOrder(ctx, admin, store.NewOrder{ClientID: c.ID, What: "Поставка", Amount: amount})
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o.ID)
	}
	closeStore()

	if r := runCRM(ctx, t, vars, "invoice", orders[0]); r.code != 1 || !strings.Contains(r.stderr, "crm company set") {
		t.Fatalf("without requisites: %+v", r)
	}
	if r := runCRM(ctx, t, vars, setRomashka...); r.code != 0 {
		t.Fatalf("set: %+v", r)
	}
	for i, c := range []struct {
		order int
		want  string
	}{{1, "Счёт 1 от 18.11.2026"}, {0, "Счёт 2 от 18.11.2026"}, {1, "Счёт 1 от 18.11.2026"}} {
		path := filepath.Join(dir, "invoice.pdf")
		r := runCRM(ctx, t, vars, "invoice", orders[c.order], "-o", path)
		if r.code != 0 || r.stderr != c.want+": "+path+"\n" {
			t.Fatalf("invoice %d: %+v, want %q", i, r, c.want)
		}
		if pdf, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
			t.Fatalf("invoice %d: %v %.20q", i, err, pdf)
		}
	}
	t.Chdir(dir)
	if r := runCRM(ctx, t, vars, "invoice", "-o", "-", orders[0]); r.code != 0 || !strings.HasPrefix(r.stdout, "%PDF-") {
		t.Fatalf("to standard output: code %d, %q", r.code, r.stderr)
	}
	if r := runCRM(ctx, t, vars, "invoice", orders[0]); r.code != 0 {
		t.Fatalf("default name: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "Счёт 2 от 18.11.2026.pdf")); err != nil {
		t.Fatalf("default name: %v", err)
	}
	if r := runCRM(ctx, t, vars, "invoice", "2026-999"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("no such order: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "invoice"); r.code != 2 {
		t.Fatalf("no order: %+v", r)
	}
}
