package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// crm import orders takes 1C's file (bad rows named with their lines, and then nothing
// imported), crm export orders writes a workbook, and that workbook imported into a
// base with the same clients gives the same orders.
func TestImportAndExportOrders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.csv")
	if err := os.WriteFile(clients, []byte("name;inn;company_email\nООО «Ромашка»;7707083893;\nООО Лютик;;zakaz@lutik.ru\nИП Петров;;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bases := []map[string]string{{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}, {"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}}
	for _, vars := range bases {
		if r := runCRM(ctx, t, vars, "import", clients); r.code != 0 {
			t.Fatalf("clients: %+v", r)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("Номер;Дата;ИНН;Сумма\n1;03.12.2026;7707083893;100\n2;03.12.2026;7707083893;сто\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCRM(ctx, t, bases[0], "import", "orders", bad); r.code != 1 || !strings.Contains(r.stderr, "bad.csv:3: Сумма: \"сто\" is not an amount") ||
		!strings.Contains(r.stderr, "nothing was imported") {
		t.Fatalf("bad file: %+v", r)
	}
	for _, f := range []string{"../../store/csvio/testdata/orders-1c.csv", "../../store/csvio/testdata/orders-moysklad.csv"} {
		if r := runCRM(ctx, t, bases[0], "import", "orders", f); r.code != 0 || !strings.Contains(r.stdout, "created") {
			t.Fatalf("%s: %+v", f, r)
		}
	}
	if r := runCRM(ctx, t, bases[0], "import", "orders", "../../store/csvio/testdata/orders-1c.csv"); r.stdout != "3 orders read: 0 created, 0 updated, 3 unchanged\n" {
		t.Fatalf("again: %+v", r)
	}
	book := filepath.Join(dir, "orders.xlsx")
	if r := runCRM(ctx, t, bases[0], "export", "orders", book); r.code != 0 || !strings.Contains(r.stderr, "7 orders written to "+book) {
		t.Fatalf("export: %+v", r)
	}
	if r := runCRM(ctx, t, bases[1], "import", "orders", book); r.stdout != "7 orders read: 7 created, 0 updated, 0 unchanged\n" {
		t.Fatalf("import of the export: %+v", r)
	}
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	runCRM(ctx, t, bases[0], "export", "orders", a)
	runCRM(ctx, t, bases[1], "export", "orders", b)
	da, db := sortedLines(t, a), sortedLines(t, b)
	if len(da) < 100 || da != db {
		t.Fatalf("the bases' orders differ:\n%s\n---\n%s", da, db)
	}
}

func sortedLines(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
