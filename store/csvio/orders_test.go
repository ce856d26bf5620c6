package csvio_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

var moscow = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return loc
}()

// orderBase is a base with the clients the sample files name: Ромашка by INN, Лютик
// by e-mail, ИП Петров by name only.
func orderBase(t *testing.T) (*store.Store, map[string]string) {
	t.Helper()
	s := storetest.New(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, c := range []*store.Client{
		{Name: "ООО «Ромашка»", Legal: store.Legal{INN: "7707083893"}},
		{Name: "ООО Лютик", Emails: []string{"zakaz@lutik.ru"}},
		{Name: "ИП Петров"},
		{Name: "ООО Тёзка"}, {Name: "ООО  тезка"},
	} {
		if err := s.CreateClient(ctx, "t", c); err != nil {
			t.Fatal(err)
		}
		ids[c.Name] = c.ID
	}
	return s, ids
}

func importOrdersFile(t *testing.T, s *store.Store, name string) csvio.OrderReport {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := importOrders(s, name, data)
	if err != nil || rep.Failed > 0 {
		t.Fatalf("%s: %v\n%s", name, err, rep)
	}
	return rep
}

func importOrders(s *store.Store, name string, data []byte) (csvio.OrderReport, error) {
	read := csvio.ImportOrders
	if strings.HasSuffix(name, ".xlsx") {
		read = csvio.ImportOrdersXLSX
	}
	return read(context.Background(), s, "import", bytes.NewReader(data), csvio.OrderImportOptions{Location: moscow})
}

func order(t *testing.T, s *store.Store, id string) *store.Order {
	t.Helper()
	o, err := s.Order(context.Background(), id)
	if err != nil {
		t.Fatalf("order %s: %v", id, err)
	}
	return o
}

// 1C's list of invoices ("Счета на оплату покупателям" put out to a file): Russian
// headings, dates with times in the company's zone, amounts with spaces and kopecks,
// the client by INN, else by its exact name; columns it does not know are named and
// skipped. The same file again creates and changes nothing.
func TestImportOrdersFrom1C(t *testing.T) {
	s, ids := orderBase(t)
	rep := importOrdersFile(t, s, "testdata/orders-1c.csv")
	if rep.Read != 3 || rep.Saved.Created != 3 || strings.Join(rep.Ignored, ",") != "Организация,Ответственный" {
		t.Fatalf("report %+v", rep)
	}
	paid := order(t, s, "ТД00-000101")
	if paid.ClientID != ids["ООО «Ромашка»"] || paid.Amount != 12_500_50 || paid.State != store.OrderPaid || paid.What != "Бумага офисная" ||
		!paid.Date.Equal(time.Date(2026, 11, 3, 14, 5, 0, 0, moscow)) || paid.Due == nil || !paid.Due.Equal(time.Date(2026, 11, 10, 0, 0, 0, 0, moscow)) ||
		len(paid.Payments) != 1 || paid.Payments[0].ID != store.ImportPayment || !paid.Payments[0].Date.Equal(paid.Date) {
		t.Fatalf("paid order %+v", paid)
	}
	if part := order(t, s, "ТД00-000102"); part.State != store.OrderInvoiced || part.PaidSum() != 10_000_00 || part.Owed() != 30_000_00 {
		t.Fatalf("part-paid order %+v", part)
	}
	if byName := order(t, s, "ТД00-000103"); byName.ClientID != ids["ИП Петров"] || byName.State != store.OrderInvoiced || len(byName.Payments) != 0 {
		t.Fatalf("order by name %+v", byName)
	}
	again := importOrdersFile(t, s, "testdata/orders-1c.csv")
	if again.Saved.Created != 0 || again.Saved.Updated != 0 || again.Saved.Unchanged != 3 {
		t.Fatalf("the same file again: %+v", again.Saved)
	}
}

// MoySklad's "Заказы покупателей": its statuses, the Оплачено column deciding what is
// paid, the client by e-mail, numbers with leading zeros kept.
func TestImportOrdersFromMoySklad(t *testing.T) {
	s, ids := orderBase(t)
	importOrdersFile(t, s, "testdata/orders-moysklad.csv")
	want := map[string]struct {
		state store.OrderState
		paid  int64
	}{"00011": {store.OrderPaid, 1500_00}, "00012": {store.OrderInvoiced, 0}, "00013": {store.OrderInvoiced, 0}, "00014": {store.OrderCancelled, 0}}
	for id, w := range want {
		o := order(t, s, id)
		if o.ClientID != ids["ООО Лютик"] || o.State != w.state || o.PaidSum() != w.paid {
			t.Errorf("order %s: %s, paid %d, client %s; want %s, %d", id, o.State, o.PaidSum(), o.ClientID, w.state, w.paid)
		}
	}
	if c, _ := s.Client(context.Background(), ids["ООО Лютик"]); c.Stage != store.StageGold || c.OrdersCount != 1 {
		t.Fatalf("client after a paid order: %s %d", c.Stage, c.OrdersCount)
	}
}

// English headings, and a workbook whose dates and amounts are stored as numbers
// (as Excel keeps what is typed into it), a state word and no paid column.
func TestImportOrdersEnglishWorkbook(t *testing.T) {
	s, ids := orderBase(t)
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	rows := [][]any{
		{"number", "date", "client", "inn", "email", "amount", "currency", "state", "what", "due"},
		{"A-1", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), "", "7707083893", "", 1250.5, "RUB", "paid", "Paper", "2026-10-15"},
		{"A-2", "2026-10-02", "ИП Петров", "", "", "300", "", "invoiced", "", ""},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	rep, err := importOrders(s, "orders.xlsx", buf.Bytes())
	if err != nil || rep.Saved.Created != 2 {
		t.Fatalf("%v\n%s", err, rep)
	}
	a1 := order(t, s, "A-1")
	if a1.ClientID != ids["ООО «Ромашка»"] || a1.Amount != 1250_50 || a1.State != store.OrderPaid ||
		!a1.Date.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, moscow)) {
		t.Fatalf("A-1 %+v", a1)
	}
	if a2 := order(t, s, "A-2"); a2.ClientID != ids["ИП Петров"] || a2.Amount != 300_00 || a2.State != store.OrderInvoiced {
		t.Fatalf("A-2 %+v", a2)
	}
}

// Every bad row is reported with its line and column, and nothing of the file is
// stored, also of its good rows.
func TestImportOrdersWithBadRowsStoresNothing(t *testing.T) {
	s, _ := orderBase(t)
	file := "Номер;Дата;ИНН;E-mail;Контрагент;Сумма;Валюта;Оплачено;Статус\n" +
		"1;03.12.2026;7707083893;;;100;;;\n" + // good
		"2;31.02.2026;7707083893;;;100;;;\n" +
		"3;03.12.2026;7707083893;;;сто;;;\n" +
		"4;03.12.2026;7707083893;;;100;USD;;\n" +
		"5;03.12.2026;7707083893;;;100;;;Потерян\n" +
		"6;03.12.2026;;nobody@nowhere.ru;ООО Нет Такого;100;;;\n" +
		"1;03.12.2026;7707083893;;;100;;;\n" +
		"7;03.12.2026;;;ООО Тезка;100;;;\n" +
		"8;03.12.2026;7707083893;;;100;;150;\n" +
		"9;03.12.2026;7707083893;;;-100;;;\n"
	rep, err := importOrders(s, "bad.csv", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		3:  "Дата: \"31.02.2026\" is not a date",
		4:  "Сумма: \"сто\" is not an amount",
		5:  "Валюта: unknown currency \"USD\"",
		6:  "Статус: \"Потерян\" is not a state",
		7:  "no client found by E-mail nobody@nowhere.ru, Контрагент \"ООО Нет Такого\"",
		8:  "Номер: order 1 is also on line 2",
		9:  "Контрагент: 2 clients are named \"ООО Тезка\"",
		10: "Оплачено: 150 is more than the amount of 100",
		11: "Сумма: the amount \"-100\" is negative",
	}
	if rep.Failed != len(want) || len(rep.Errors) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", rep.Failed, len(want), rep)
	}
	for _, e := range rep.Errors {
		if !strings.Contains(e.Message, want[e.Line]) {
			t.Errorf("line %d: %q, want %q", e.Line, e.Message, want[e.Line])
		}
	}
	if !strings.Contains(rep.String(), "nothing was imported") {
		t.Errorf("report: %s", rep)
	}
	n := 0
	if err := s.EachOrder(context.Background(), func(*store.Order) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d orders stored from a file with bad rows (%v)", n, err)
	}
	// A header without the amount: refused as a whole.
	if _, err := importOrders(s, "h.csv", []byte("Номер;Дата;ИНН\n1;03.12.2026;7707083893\n")); err == nil || !strings.Contains(err.Error(), "amount") {
		t.Fatalf("header without an amount: %v", err)
	}
}

// The accounting system cancels an order it had as paid: the re-import updates it, and
// the client's stage follows the money back.
func TestReimportedCancellationMovesTheStageBack(t *testing.T) {
	s, ids := orderBase(t)
	head := "Номер;Дата;ИНН;Сумма;Оплачено;Статус;Причина отмены\n"
	if rep, err := importOrders(s, "a.csv", []byte(head+"77;01.12.2026;7707083893;5000;5000;Оплачен;\n")); err != nil || rep.Saved.Created != 1 {
		t.Fatalf("%v\n%s", err, rep)
	}
	romashka := ids["ООО «Ромашка»"]
	if c, _ := s.Client(context.Background(), romashka); c.Stage != store.StageGold {
		t.Fatalf("after a paid order: %s", c.Stage)
	}
	rep, err := importOrders(s, "b.csv", []byte(head+"77;01.12.2026;7707083893;5000;;Отменен;возврат товара\n"))
	if err != nil || rep.Saved.Updated != 1 || rep.Saved.Created != 0 {
		t.Fatalf("%v\n%s", err, rep)
	}
	if o := order(t, s, "77"); o.State != store.OrderCancelled || o.CancelReason != "возврат товара" {
		t.Fatalf("order %+v", o)
	}
	if c, _ := s.Client(context.Background(), romashka); c.Stage != store.StageGreenGold || c.OrdersCount != 0 {
		t.Fatalf("after the cancellation: %s %d", c.Stage, c.OrdersCount)
	}
}

// Export writes what import reads: a workbook (INN and numbers as text cells) or a
// CSV imported into another base with the same clients gives the same orders, and
// into the same base changes nothing.
func TestExportedOrdersImportBack(t *testing.T) {
	ctx := context.Background()
	s, _ := orderBase(t)
	importOrdersFile(t, s, "testdata/orders-1c.csv")
	importOrdersFile(t, s, "testdata/orders-moysklad.csv")
	var book, csvFile bytes.Buffer
	if n, err := csvio.ExportOrdersXLSX(ctx, s, &book, moscow); err != nil || n != 7 {
		t.Fatalf("xlsx: %d %v", n, err)
	}
	if n, err := csvio.ExportOrders(ctx, s, &csvFile, moscow, csvio.ExportOptions{}); err != nil || n != 7 {
		t.Fatalf("csv: %d %v", n, err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(book.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetList()[0]
	if h, _ := f.GetRows(sheet); strings.Join(h[0], ";") != "Номер;Дата;Контрагент;ИНН;E-mail;Сумма;Валюта;Оплачено;Дата оплаты;Статус;Содержание;Срок оплаты;Причина отмены" {
		t.Fatalf("header %q", h[0])
	}
	for r := 2; r <= 8; r++ {
		for _, col := range []string{"A", "D"} {
			if typ, _ := f.GetCellType(sheet, col+strconv.Itoa(r)); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeUnset {
				t.Fatalf("%s%d is of type %v, not text", col, r, typ)
			}
		}
		// Amounts are numbers a spreadsheet sums.
		if typ, _ := f.GetCellType(sheet, "F"+strconv.Itoa(r)); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Fatalf("F%d is of type %v, not a number", r, typ)
		}
	}
	var sum, want float64
	for r := 2; r <= 8; r++ {
		v, _ := f.GetCellValue(sheet, "F"+strconv.Itoa(r), excelize.Options{RawCellValue: true})
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("F%d = %q: %v", r, v, err)
		}
		sum += x
	}
	if err := s.EachOrder(ctx, func(o *store.Order) error { want += float64(o.Amount) / 100; return nil }); err != nil {
		t.Fatal(err)
	}
	if math.Abs(sum-want) > 0.001 {
		t.Fatalf("the amounts sum to %.2f, the orders to %.2f", sum, want)
	}
	for name, data := range map[string][]byte{"back.xlsx": book.Bytes(), "back.csv": csvFile.Bytes()} {
		same, err := importOrders(s, name, data)
		if err != nil || same.Saved.Unchanged != 7 {
			t.Fatalf("%s into the same base: %v\n%s", name, err, same)
		}
		other, _ := orderBase(t)
		if rep, err := importOrders(other, name, data); err != nil || rep.Saved.Created != 7 {
			t.Fatalf("%s into another base: %v\n%s", name, err, rep)
		}
		if a, b := orderList(t, s), orderList(t, other); a != b {
			t.Fatalf("%s: orders differ:\n%s\n---\n%s", name, a, b)
		}
	}
}

// orderList prints every order with its client's name, what an import gives.
func orderList(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	err := s.EachOrder(ctx, func(o *store.Order) error {
		c, err := s.Client(ctx, o.ClientID)
		if err != nil {
			return err
		}
		due := ""
		if o.Due != nil {
			due = o.Due.UTC().String()
		}
		lines = append(lines, strings.Join([]string{o.ID, c.Name, o.Date.UTC().String(), store.FormatAmount(o.Amount), store.FormatAmount(o.PaidSum()),
			string(o.State), o.What, due, o.CancelReason}, "|"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
