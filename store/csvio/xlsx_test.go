package csvio_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

// The workbook export keeps requisites as Excel would destroy them in a CSV: INN, KPP
// and BIK with a leading zero, 20-digit accounts, OGRN and phones are text cells
// holding exactly those strings, a formula-like name is a string, and the columns
// are the CSV's. (QA named INN 0123456789, whose control digit is wrong: the store
// refuses it; 0123456788 is valid.)
func TestExportXLSXKeepsRequisitesAsText(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "=2+3 ООО Ноль", Legal: store.Legal{INN: "0123456788", KPP: "012301001", OGRN: "1027700132195",
		BIK: "044525225", Account: "40702810900000000001", CorrAccount: "30101810400000000225"},
		Phones: []string{"+78432000000"}, Custom: map[string]string{"код": "007"},
		Contacts: map[string]store.Contact{"x1": {Name: "Анна", Phones: []string{"+4930123456"}}}}
	if err := s.CreateClient(ctx, "m1", c); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := csvio.ExportXLSX(ctx, s, &buf, csvio.ExportOptions{})
	if err != nil || n != 1 {
		t.Fatalf("export: %d, %v", n, err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %q, %v", rows, err)
	}
	var csvBuf bytes.Buffer
	if _, err := csvio.Export(ctx, s, &csvBuf, csvio.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	header, _, _ := bytes.Cut(bytes.TrimPrefix(csvBuf.Bytes(), []byte("\uFEFF")), []byte("\r\n"))
	if got := bytes.Join(toBytes(rows[0]), []byte(";")); !bytes.Equal(got, header) {
		t.Fatalf("header\n%s\nwant the CSV's\n%s", got, header)
	}
	want := map[string]string{"name": "=2+3 ООО Ноль", "inn": "0123456788", "kpp": "012301001", "bik": "044525225",
		"account": "40702810900000000001", "corr_account": "30101810400000000225", "ogrn": "1027700132195",
		"company_phone": "8 (843) 200-00-00", "contact_phone": "+49 30 123456", "custom:код": "007"}
	for col, v := range want {
		i := slices.Index(rows[0], col)
		ref, _ := excelize.CoordinatesToCellName(i+1, 2)
		got, _ := f.GetCellValue(sheet, ref)
		typ, _ := f.GetCellType(sheet, ref)
		formula, _ := f.GetCellFormula(sheet, ref)
		style, _ := f.GetCellStyle(sheet, ref)
		st, _ := f.GetStyle(style)
		if got != v || formula != "" || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) || st == nil || st.NumFmt != 49 {
			t.Errorf("%s (%s): %q, type %v, formula %q, style %+v; want the text %q in a Text cell", col, ref, got, typ, formula, st, v)
		}
	}
}

func toBytes(list []string) [][]byte {
	out := make([][]byte, len(list))
	for i, v := range list {
		out[i] = []byte(v)
	}
	return out
}

// A workbook typed by hand imports as a CSV does: rows shorter than the header are
// fine, a blank row is skipped, and errors name the row number.
func TestImportXLSXReportsRowNumbers(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetList()[0]
	for ref, v := range map[string]any{"A1": "Название", "B1": "ИНН", "C1": "Город",
		"A2": "ООО Ромашка", "B2": "7707083893",
		"A4": "ООО Бета", "B4": "7707083894", "C4": "Казань",
		"A5": "ООО Гамма", "D5": "лишнее"} {
		if err := f.SetCellValue(sheet, ref, v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	s := storetest.New(t)
	rep, err := csvio.ImportXLSX(context.Background(), s, "m1", &buf, csvio.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 3, 1, 0, 2)
	checkErrors(t, rep, map[int]string{4: "wrong control digit", 5: "column 4, which has no header"})
	if c := clients(t, s)["ООО Ромашка"]; c == nil || c.Legal.INN != "7707083893" {
		t.Fatalf("Ромашка: %+v", c)
	}
	if _, err := csvio.ImportXLSX(context.Background(), s, "m1", bytes.NewReader([]byte("name;inn\n")), csvio.ImportOptions{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a CSV given as a workbook: %v", err)
	}
}
