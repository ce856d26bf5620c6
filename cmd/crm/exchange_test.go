package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/store"
)

// crm export --format xlsx writes the clients as a workbook whose requisites are text
// (INN, KPP and BIK with a leading zero, a 20-digit account, OGRN), to -o only: binary
// is never written to standard output. A -o ending in .xlsx picks the format, and
// crm import reads the workbook back.
func TestExportXLSX(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	dir := t.TempDir()
	in := filepath.Join(dir, "clients.csv")
	if err := os.WriteFile(in, []byte("name;inn;kpp;bik;account;ogrn\n"+
		"=2+3;0123456788;012301001;044525225;40702810900000000001;1027700132195\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCRM(ctx, t, vars, "import", in); r.code != 0 || !strings.Contains(r.stdout, "1 clients created") {
		t.Fatalf("import: %+v", r)
	}
	want := map[string]string{"A2": "=2+3", "C2": "0123456788", "D2": "012301001", "E2": "1027700132195",
		"H2": "044525225", "I2": "40702810900000000001"}
	for _, args := range [][]string{{"--format", "xlsx", "-o", filepath.Join(dir, "a.xlsx")}, {"-o", filepath.Join(dir, "b.xlsx")}} {
		r := runCRM(ctx, t, vars, append([]string{"export"}, args...)...)
		out := args[len(args)-1]
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "1 clients written to "+out) {
			t.Fatalf("%v: %+v", args, r)
		}
		book, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		sheet := book.GetSheetList()[0]
		for ref, v := range want {
			got, _ := book.GetCellValue(sheet, ref)
			typ, _ := book.GetCellType(sheet, ref)
			if got != v || typ != excelize.CellTypeInlineString {
				t.Errorf("%v: %s is %q of type %v, want the text %q", args, ref, got, typ, v)
			}
		}
		_ = book.Close()
	}
	// The workbook imports back into another base: the same clients export the same.
	other := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	if r := runCRM(ctx, t, other, "import", filepath.Join(dir, "a.xlsx")); r.code != 0 || !strings.Contains(r.stdout, "1 clients created") {
		t.Fatalf("import xlsx: %+v", r)
	}
	if a, b := runCRM(ctx, t, vars, "export"), runCRM(ctx, t, other, "export"); a.code != 0 || a.stdout != b.stdout {
		t.Fatalf("exports differ:\n%+v\n%+v", a, b)
	}
	// Without -o: refused before anything is read; a format it does not know, too.
	for _, args := range [][]string{{"--format", "xlsx"}, {"--format", "pdf", "-o", filepath.Join(dir, "c.pdf")}} {
		r := runCRM(ctx, t, vars, append([]string{"export"}, args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "xlsx") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// An explicit csv wins over the file's name.
	csvOut := filepath.Join(dir, "d.xlsx")
	if r := runCRM(ctx, t, vars, "export", "--format", "csv", "-o", csvOut); r.code != 0 {
		t.Fatalf("csv: %+v", r)
	} else if data, _ := os.ReadFile(csvOut); !strings.HasPrefix(string(data), "\uFEFFname;kind;inn;") ||
		!strings.Contains(string(data), "\r\n'=2+3;company;0123456788;") {
		t.Fatalf("csv: %q", data)
	}
}

// crm import says how many letters waiting in /inbox it moved into the new clients'
// histories; crm migrate indexes the queue's senders (once per base).
func TestImportMovesWaitingLetters(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	if r := runCRM(ctx, t, vars, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "unsorted letters indexed by sender: 0") {
		t.Fatalf("migrate: %+v", r)
	}
	s, _, closeStore := openBase(t, vars)
	for _, id := range []string{"1@x", "2@x"} {
		l := &store.Letter{ID: store.LetterID(id, ""), MessageID: id, Subject: "Запрос", From: store.MailAddress{Email: "petr@alfa.ru"}, Date: testNow()}
		if err := s.SetLetterUnsorted(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
	}
	closeStore()
	in := filepath.Join(t.TempDir(), "clients.csv")
	if err := os.WriteFile(in, []byte("name;contact_name;contact_email\nАльфа;Пётр;petr@alfa.ru\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCRM(ctx, t, vars, "import", in); r.code != 0 || !strings.Contains(r.stdout, "2 letters waiting in /inbox moved") {
		t.Fatalf("import: %+v", r)
	}
}
