package invoice

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

var msk = time.FixedZone("MSK", 3*3600)

func sample() Data {
	return Data{
		Number: 12,
		Date:   time.Date(2026, 12, 3, 10, 0, 0, 0, msk),
		PayBy:  time.Date(2026, 12, 8, 0, 0, 0, 0, msk),
		Seller: store.Requisites{
			Name: "ООО «Ромашка»",
			Legal: store.Legal{INN: "7701234567", KPP: "770101001", Address: "125009, г. Москва, ул. Тверская, д. 7, офис 12",
				Bank: "ПАО СБЕРБАНК г. Москва", BIK: "044525225", Account: "40702810938000012345", CorrAccount: "30101810400000000225"},
			Phone: "+7 495 123-45-67", Director: "Иванов И. И.", Accountant: "Петрова А. А.", VAT: 20, PayDays: 5,
		},
		Buyer: Party{Name: "ООО «Вектор»", Legal: store.Legal{INN: "5408123456", KPP: "540801001",
			Address: "630099, г. Новосибирск, Красный проспект, д. 1"}},
		Lines: []Line{{What: "Поставка оборудования по договору № 45 от 1 ноября 2026 г.", Qty: 1, Unit: "шт", Price: 1250000}},
	}
}

// keep saves a PDF under INVOICE_SAMPLE_DIR when it is set, to look at it (pdftoppm
// -png turns it into pictures).
func keep(t *testing.T, name string, pdf []byte) {
	t.Helper()
	if dir := os.Getenv("INVOICE_SAMPLE_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pdfText is the text of a PDF as pdftotext reads it, spaces made plain.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (Debian's poppler-utils; .ci/run installs it)")
	}
	path := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(string(out))), " ")
}

// The PDF carries what a buyer's accountant pays by: the number and date, both
// sides' INN and bank details, the totals, the VAT and the total in words.
func TestRenderText(t *testing.T) {
	d := sample()
	pdf, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	keep(t, "sample.pdf", pdf)
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Счёт на оплату № 12 от 3 декабря 2026 г.",
		"Банк получателя", "ПАО СБЕРБАНК г. Москва", "БИК 044525225", "30101810400000000225", "40702810938000012345",
		"ИНН 7701234567", "КПП 770101001", "Получатель",
		"Поставщик", "(Исполнитель):", "Покупатель", "(Заказчик):", "ООО «Вектор», ИНН 5408123456, КПП 540801001",
		"Товары (работы, услуги)", "Кол-во", "Ед.", "Цена", "Сумма",
		"Поставка оборудования", "12 500,00",
		"Итого: 12 500,00", "В том числе НДС 20%: 2 083,33", "Всего к оплате: 12 500,00",
		"Всего наименований 1, на сумму 12 500,00 руб.",
		"Двенадцать тысяч пятьсот рублей 00 копеек",
		"Оплатить не позднее 8 декабря 2026 г.",
		"Руководитель", "Иванов И. И.", "Бухгалтер", "Петрова А. А.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}

// A seller without VAT says so instead of a VAT line.
func TestRenderNoVAT(t *testing.T) {
	d := sample()
	d.Seller.NoVAT = true
	d.Lines = []Line{{What: "Консультация", Qty: 2, Unit: "усл.", Price: 100050}}
	pdf, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Без НДС", "Итого: 2 001,00", "Две тысячи один рубль 00 копеек", "на сумму 2 001,00 руб.", "2 усл. 1 000,50 2 001,00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "В том числе НДС") {
		t.Errorf("VAT on an invoice without VAT:\n%s", text)
	}
}

// An invoice that cannot be made is refused with the reason.
func TestRenderRefusesIncomplete(t *testing.T) {
	for name, spoil := range map[string]func(*Data){
		"no number": func(d *Data) { d.Number = 0 },
		"no seller": func(d *Data) { d.Seller.Name = " " },
		"no buyer":  func(d *Data) { d.Buyer.Name = "" },
		"no lines":  func(d *Data) { d.Lines = nil },
		"zero qty":  func(d *Data) { d.Lines[0].Qty = 0 },
	} {
		d := sample()
		spoil(&d)
		if _, err := Render(d); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestLongDateAndMoney(t *testing.T) {
	if got := LongDate(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)); got != "31 января 2027 г." {
		t.Errorf("LongDate: %q", got)
	}
	for minor, want := range map[int64]string{0: "0,00", 5: "0,05", 1250000: "12 500,00", 123456789: "1 234 567,89", 100: "1,00"} {
		if got := Money(minor); got != want {
			t.Errorf("Money(%d) = %q, want %q", minor, got, want)
		}
	}
}

// A long line wraps inside its cell, a private buyer has no KPP, a long bank name
// wraps inside the bank table: the page still reads (INVOICE_SAMPLE_DIR to look).
func TestRenderLongLines(t *testing.T) {
	d := sample()
	d.Seller.Bank = "ФИЛИАЛ «ЦЕНТРАЛЬНЫЙ» ПУБЛИЧНОГО АКЦИОНЕРНОГО ОБЩЕСТВА «БАНК ОЧЕНЬ ДЛИННОЕ НАЗВАНИЕ» г. Новосибирск"
	d.Seller.Name = "Индивидуальный предприниматель Константинопольский Александр Владимирович"
	d.Seller.KPP, d.Seller.NoVAT = "", true
	d.Seller.Director = "Константинопольский Александр Владимирович"
	d.Buyer = Party{Name: "Сидоров Пётр Петрович"}
	d.Lines = []Line{
		{What: "Разработка и внедрение системы учёта клиентов: анализ требований, проектирование, настройка, обучение сотрудников заказчика и сопровождение в течение трёх месяцев", Qty: 1, Unit: "усл.", Price: 123456789},
		{What: "Лицензия", Qty: 12, Unit: "шт", Price: 99999},
	}
	pdf, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "long.pdf", pdf)
	text := pdfText(t, pdf)
	for _, want := range []string{"Всего наименований 2, на сумму 1 246 567,77 руб.", "Один миллион двести сорок шесть тысяч пятьсот шестьдесят семь рублей 77 копеек", "Сидоров Пётр Петрович"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}

func TestInitials(t *testing.T) {
	for name, want := range map[string]string{
		"Иванов Иван Иванович": "Иванов И. И.", "Петрова Анна": "Петрова А.", "Иванов И. И.": "Иванов И. И.",
		"Иванов": "Иванов", "": "", "  Ёлкин  Юрий Ильич ": "Ёлкин Ю. И.",
	} {
		if got := initials(name); got != want {
			t.Errorf("initials(%q) = %q, want %q", name, got, want)
		}
	}
}

// Lines past a page go on the next one, under the table's heading again, and the
// totals follow them.
func TestRenderManyLines(t *testing.T) {
	d := sample()
	d.Lines = nil
	for range 45 {
		d.Lines = append(d.Lines, Line{What: "Лицензия на одно рабочее место", Qty: 1, Unit: "шт", Price: 10000})
	}
	pdf, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "many.pdf", pdf)
	text := pdfText(t, pdf)
	if n := strings.Count(text, "Товары (работы, услуги)"); n != 2 {
		t.Errorf("the table's heading %d times, want 2 (a page each):\n%s", n, text)
	}
	for _, want := range []string{"45 Лицензия", "Всего наименований 45, на сумму 4 500,00 руб.", "Четыре тысячи пятьсот рублей 00 копеек"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}
