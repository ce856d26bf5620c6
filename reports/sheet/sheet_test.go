package sheet

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/reports"
)

func write(t testing.TB, tables ...reports.Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := XLSX(&buf, tables...); err != nil {
		t.Fatalf("XLSX: %v", err)
	}
	return buf.Bytes()
}

func open(t testing.TB, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the output is not a workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestTwoTablesAllCellKinds(t *testing.T) {
	managers := reports.Table{
		Name:   "Менеджеры",
		Title:  "Активность менеджеров за март",
		Header: []string{"Менеджер", "Звонки", "Встречи", "Доля", "Выручка", "Средний чек"},
		Rows: [][]any{
			{"Иванова Мария", 42, int64(7), reports.Percent(0.25), reports.Money(1234567.891), 3.5},
			{"Пётр Сидоренко", 0, int64(0), reports.Percent(0), reports.Money(-10), 0.0},
		},
	}
	funnel := reports.Table{
		Name:   "Воронка",
		Title:  "Воронка продаж",
		Header: []string{"Стадия", "Клиентов"},
		Rows:   [][]any{{"Белый", 10}, {"Золотой", 3}, {"Платиновый", nil}},
	}
	book := write(t, managers, funnel)
	f := open(t, book)

	if got := f.GetSheetList(); !slices.Equal(got, []string{"Менеджеры", "Воронка"}) {
		t.Fatalf("sheets %q", got)
	}
	const s = "Менеджеры"
	bold := func(cell string) bool {
		id, err := f.GetCellStyle(s, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return st.Font != nil && st.Font.Bold
	}
	format := func(cell string) string {
		id, _ := f.GetCellStyle(s, cell)
		st, _ := f.GetStyle(id)
		if st.CustomNumFmt != nil {
			return *st.CustomNumFmt
		}
		return strconv.Itoa(st.NumFmt)
	}
	raw := func(cell string) string {
		v, err := f.GetCellValue(s, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	numeric := func(cell string) float64 {
		typ, err := f.GetCellType(s, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s has type %v, want a number", cell, typ)
		}
		v, err := strconv.ParseFloat(raw(cell), 64)
		if err != nil {
			t.Errorf("%s holds %q, not a number", cell, raw(cell))
		}
		return v
	}

	if v := raw("A1"); v != managers.Title || !bold("A1") {
		t.Errorf("title %q, bold %v", v, bold("A1"))
	}
	rows, err := f.GetRows(s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[1], managers.Header) {
		t.Errorf("header %q", rows[1])
	}
	for _, c := range []string{"A2", "B2", "F2"} {
		if !bold(c) {
			t.Errorf("header cell %s is not bold", c)
		}
	}
	if v := raw("A3"); v != "Иванова Мария" {
		t.Errorf("A3 = %q", v)
	}
	if typ, _ := f.GetCellType(s, "A3"); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
		t.Errorf("a name is stored as %v, want text", typ)
	}
	for cell, want := range map[string]float64{"B3": 42, "C3": 7, "D3": 0.25, "E3": 1234567.891, "F3": 3.5, "E4": -10} {
		if got := numeric(cell); got != want {
			t.Errorf("%s = %v, want %v", cell, got, want)
		}
	}
	for cell, want := range map[string]string{"E3": "#,##0.00", "E4": "#,##0.00", "D3": "0.0%", "D4": "0.0%"} {
		if got := format(cell); got != want {
			t.Errorf("%s's format is %q, want %q", cell, got, want)
		}
	}
	for cell, want := range map[string]string{"E3": "1,234,567.89", "D3": "25.0%", "E4": "-10.00"} {
		if got, _ := f.GetCellValue(s, cell); got != want {
			t.Errorf("%s shows %q, want %q", cell, got, want)
		}
	}

	panes, err := f.GetPanes(s)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("panes %+v, want frozen under row 2", panes)
	}
	if w, _ := f.GetColWidth(s, "A"); w < float64(len([]rune("Пётр Сидоренко"))) || w > maxColWidth {
		t.Errorf("column A is %v wide", w)
	}

	if rows, _ := f.GetRows("Воронка"); len(rows) != 5 || rows[2][0] != "Белый" || rows[2][1] != "10" || len(rows[4]) != 1 {
		t.Errorf("second sheet %q", rows)
	}

	// Excel needs both the sheet's filter and the workbook's name for it.
	xml := part(t, book, "xl/worksheets/sheet1.xml")
	if !strings.Contains(strings.ReplaceAll(xml, "$", ""), `<autoFilter ref="A2:F4"`) {
		t.Errorf("no autofilter over the header and rows in %s", xml)
	}
	if wb := part(t, book, "xl/workbook.xml"); !strings.Contains(wb, "_xlnm._FilterDatabase") {
		t.Errorf("no filter database name in %s", wb)
	}
}

// part reads one file of the workbook's zip.
func part(t *testing.T, b []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestHeaderOnlyTable(t *testing.T) {
	f := open(t, write(t, reports.Table{Name: "Пусто", Title: "Нет данных", Header: []string{"Клиент", "Сумма"}}))
	rows, err := f.GetRows("Пусто")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !slices.Equal(rows[1], []string{"Клиент", "Сумма"}) {
		t.Errorf("rows %q", rows)
	}
}

func TestNoTitle(t *testing.T) {
	f := open(t, write(t, reports.Table{Name: "x", Header: []string{"a"}, Rows: [][]any{{"b"}}}))
	if rows, _ := f.GetRows("x"); len(rows) != 2 || rows[0][0] != "a" {
		t.Errorf("rows %q", rows)
	}
	if p, _ := f.GetPanes("x"); p.YSplit != 1 {
		t.Errorf("panes %+v", p)
	}
}

func TestNoTables(t *testing.T) {
	var buf bytes.Buffer
	if err := XLSX(&buf); err == nil {
		t.Fatal("no error for no tables")
	}
}

func TestOddValues(t *testing.T) {
	f := open(t, write(t, reports.Table{Name: "x", Header: []string{"a", "b", "c"},
		Rows: [][]any{{math.NaN(), reports.Money(math.Inf(1)), true}}}))
	rows, _ := f.GetRows("x")
	if !slices.Equal(rows[1], []string{"NaN", "+Inf", "true"}) {
		t.Errorf("row %q", rows[1])
	}
}

func TestTabNames(t *testing.T) {
	long := strings.Repeat("Ж", 40)
	tables := []reports.Table{
		{Name: long}, {Name: long}, {Name: "a/b:c?[d]*"}, {Name: "'Итоги'"},
		{Name: ""}, {Name: "итоги"}, {Name: "History"},
	}
	f := open(t, write(t, tables...))
	got := f.GetSheetList()
	want := []string{strings.Repeat("Ж", 31), strings.Repeat("Ж", 27) + " (2)", "a b c d", "Итоги", "Sheet5", "итоги (2)", "History (2)"}
	if !slices.Equal(got, want) {
		t.Errorf("tabs %q\nwant %q", got, want)
	}
	used := map[string]bool{}
	emoji := tabName(strings.Repeat("😀", 20), 1, used)
	if n := len(utf16.Encode([]rune(emoji))); n > maxName {
		t.Errorf("%q is %d UTF-16 units long", emoji, n)
	}
}

func BenchmarkXLSX100kRows(b *testing.B) {
	t := reports.Table{Name: "Клиенты", Title: "Все клиенты", Header: []string{"Клиент", "Заказов", "Выручка", "Доля"}}
	for i := range 100_000 {
		t.Rows = append(t.Rows, []any{"ООО Ромашка " + strconv.Itoa(i), i % 17, reports.Money(float64(i) * 1.5), reports.Percent(float64(i%100) / 100)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := XLSX(io.Discard, t); err != nil {
			b.Fatal(err)
		}
	}
}

// Text that looks like a formula (a lead source typed as "=2+3") is a string cell,
// in the title, the header and the rows: the workbook holds no formula at all.
func TestFormulaLikeTextStaysText(t *testing.T) {
	leads := []string{"=2+3", "+7 916", "-1+2", "@SUM(A1)", "\t=1+1", "=HYPERLINK(\"http://x\")"}
	tb := reports.Table{Name: "Источники", Title: "=1+1", Header: []string{"=Источник", "Клиенты"}}
	for _, v := range leads {
		tb.Rows = append(tb.Rows, []any{v, 1})
	}
	book := write(t, tb)
	if xml := part(t, book, "xl/worksheets/sheet1.xml"); strings.Contains(xml, "<f>") || strings.Contains(xml, "<f ") {
		t.Fatalf("a formula in the sheet: %s", xml)
	}
	f := open(t, book)
	check := func(ref, want string) {
		t.Helper()
		typ, err := f.GetCellType("Источники", ref)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.GetCellValue("Источники", ref)
		if formula, _ := f.GetCellFormula("Источники", ref); formula != "" || typ != excelize.CellTypeInlineString || v != want {
			t.Errorf("%s: type %v, value %q, formula %q; want the string %q", ref, typ, v, formula, want)
		}
	}
	check("A1", "=1+1")
	check("A2", "=Источник")
	for i, v := range leads {
		check("A"+strconv.Itoa(i+3), v)
	}
}
