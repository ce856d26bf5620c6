// Package invoice makes the "Счёт на оплату" of an order as a PDF in the form
// Russian accounting programs print: the bank details of the seller in a table at the
// top, the seller and the buyer with their requisites, the lines, the totals with VAT
// and the total in words, and the signatures.
//
// The font is Liberation Sans (SIL Open Font License 1.1, which allows embedding it
// in documents and shipping it in programs), from the codeberg.org/go-fonts/liberation
// module (its Go code under BSD-3); fpdf embeds the subset of it that a page uses.
package invoice

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-pdf/fpdf"

	"github.com/crm-team/crm/store"
)

// Party is the buyer: a client's name and requisites as its card keeps them.
type Party struct {
	Name string
	store.Legal
	Phone string
}

// Line is one line of the invoice: Qty units at Price each (kopecks, VAT included).
type Line struct {
	What  string
	Qty   int64
	Unit  string // "шт", "усл."
	Price int64
}

// Sum is what the line costs.
func (l Line) Sum() int64 { return l.Qty * l.Price }

// Data is everything an invoice shows.
type Data struct {
	Number int64
	Date   time.Time // in the company's time zone, as printed
	PayBy  time.Time // zero: no pay-by line
	Seller store.Requisites
	Buyer  Party
	Lines  []Line
}

// Total is what the lines add up to.
func (d *Data) Total() int64 {
	var t int64
	for _, l := range d.Lines {
		t += l.Sum()
	}
	return t
}

// VAT is the VAT the total includes at the seller's rate (0 without VAT).
func (d *Data) VAT() int64 {
	if d.Seller.NoVAT {
		return 0
	}
	return VATIncluded(d.Total(), d.Seller.VAT)
}

func (d *Data) check() error {
	switch {
	case d.Number <= 0:
		return errors.New("an invoice needs a number")
	case d.Date.IsZero():
		return errors.New("an invoice needs a date")
	case strings.TrimSpace(d.Seller.Name) == "":
		return errors.New("an invoice needs the seller's name")
	case strings.TrimSpace(d.Buyer.Name) == "":
		return errors.New("an invoice needs the buyer's name")
	case len(d.Lines) == 0:
		return errors.New("an invoice needs a line")
	}
	for i, l := range d.Lines {
		if l.Qty <= 0 || l.Price < 0 {
			return fmt.Errorf("line %d: the quantity must be positive and the price not negative", i+1)
		}
	}
	return nil
}

var monthsGenitive = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля",
	"августа", "сентября", "октября", "ноября", "декабря"}

// LongDate writes a date as documents do: "3 декабря 2026 г."
func LongDate(t time.Time) string {
	return fmt.Sprintf("%d %s %d г.", t.Day(), monthsGenitive[t.Month()-1], t.Year())
}

// Money writes kopecks as an invoice's columns do: "12 500,00".
func Money(minor int64) string {
	rub := strings.ReplaceAll(store.FormatAmount(minor/100*100), "\u202f", " ")
	k := minor % 100
	if k < 0 {
		k = -k
	}
	return rub + "," + twoDigits(k)
}

// Title is the invoice's heading: "Счёт на оплату № 12 от 3 декабря 2026 г."
func (d *Data) Title() string {
	return "Счёт на оплату № " + strconv.FormatInt(d.Number, 10) + " от " + LongDate(d.Date)
}

// FileName is the name the PDF is sent and saved under.
func (d *Data) FileName() string {
	return "Счёт " + strconv.FormatInt(d.Number, 10) + " от " + d.Date.Format("02.01.2006") + ".pdf"
}

// describe writes a side of the invoice in one line: name, INN, KPP, address, phone.
func describe(name string, l store.Legal, phone string) string {
	parts := []string{strings.TrimSpace(name)}
	if l.INN != "" {
		parts = append(parts, "ИНН "+l.INN)
	}
	if l.KPP != "" {
		parts = append(parts, "КПП "+l.KPP)
	}
	if a := strings.TrimSpace(l.Address); a != "" {
		parts = append(parts, a)
	}
	if p := strings.TrimSpace(phone); p != "" {
		parts = append(parts, "тел.: "+p)
	}
	return strings.Join(parts, ", ")
}

// Page geometry, in millimetres.
const (
	left    = 15.0
	width   = 180.0
	right   = left + width
	bottom  = 297 - 15.0
	font    = "LiberationSans"
	lineH   = 4.2 // a line of 9 pt text
	bodyPt  = 9
	smallPt = 7.5
)

// Render makes the invoice's PDF.
func Render(d Data) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(font, "", liberationsansregular.TTF)
	pdf.AddUTF8FontFromBytes(font, "B", liberationsansbold.TTF)
	pdf.SetMargins(left, 15, 210-right)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCellMargin(1)
	pdf.SetTitle(d.Title(), true)
	pdf.SetAuthor(d.Seller.Name, true)
	pdf.SetCreator("crm", false)
	pdf.SetCreationDate(d.Date)
	pdf.SetModificationDate(d.Date)
	pdf.SetCatalogSort(true)
	pdf.SetLang("ru-RU")
	pdf.AddPage()
	r := &renderer{pdf: pdf, d: &d}
	y := r.bankTable(15)
	y = r.heading(y + 9)
	y = r.parties(y + 4)
	y = r.lines(y + 3)
	y = r.totals(y + 1)
	r.signatures(r.footer(y + 2))
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("invoice PDF: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("invoice PDF: %w", err)
	}
	return buf.Bytes(), nil
}

type renderer struct {
	pdf *fpdf.Fpdf
	d   *Data
}

func (r *renderer) font(style string, pt float64) { r.pdf.SetFont(font, style, pt) }

// text writes s with its baseline at (x, y).
func (r *renderer) text(x, y float64, style string, pt float64, s string) {
	r.font(style, pt)
	r.pdf.Text(x, y, s)
}

// wrap writes s in a box w wide from (x, y) and returns where the text ends.
func (r *renderer) wrap(x, y, w float64, style string, pt float64, s string, h float64) float64 {
	r.font(style, pt)
	r.pdf.SetXY(x, y)
	r.pdf.MultiCell(w, h, s, "", "L", false)
	return r.pdf.GetY()
}

// fit writes s at (x, y) in at most w, smaller when it is too long.
func (r *renderer) fit(x, y, w float64, style string, pt float64, s string) {
	r.font(style, pt)
	for pt > 5 && r.pdf.GetStringWidth(s) > w {
		pt -= 0.5
		r.font(style, pt)
	}
	r.pdf.Text(x, y, s)
}

// line draws from (x1, y1) to (x2, y2) lw thick.
func (r *renderer) line(x1, y1, x2, y2, lw float64) {
	r.pdf.SetLineWidth(lw)
	r.pdf.Line(x1, y1, x2, y2)
}

// bankTable draws the seller's bank details as a payment order needs them; the
// bank's and the payee's cells grow with their names.
func (r *renderer) bankTable(y0 float64) float64 {
	s := r.d.Seller
	const c1, c2 = left + 100, left + 118
	const innH = 5.0
	r.font("", bodyPt)
	tall := func(text string) float64 { return max(13, float64(len(r.pdf.SplitText(text, c1-left)))*lineH+4.5) }
	bankH, payeeH := tall(s.Bank), tall(s.Name)
	yInn, yPayee, yEnd := y0+bankH, y0+bankH+innH, y0+bankH+innH+payeeH
	r.pdf.SetLineWidth(0.2)
	r.pdf.Rect(left, y0, width, yEnd-y0, "D")
	r.line(c1, y0, c1, yEnd, 0.2)
	r.line(c2, y0, c2, yEnd, 0.2)
	r.line(left, yInn, right, yInn, 0.2)
	r.line(left, yPayee, c1, yPayee, 0.2)
	r.line(c1, y0+innH, right, y0+innH, 0.2)
	r.line(left+50, yInn, left+50, yPayee, 0.2)

	r.wrap(left, y0+0.8, c1-left, "", bodyPt, s.Bank, lineH)
	r.text(left+1, yInn-1.3, "", smallPt, "Банк получателя")
	r.text(c1+1, y0+3.7, "", bodyPt, "БИК")
	r.text(c2+1, y0+3.7, "", bodyPt, s.BIK)
	r.text(c1+1, y0+innH+3.7, "", bodyPt, "Сч. №")
	r.text(c2+1, y0+innH+3.7, "", bodyPt, s.CorrAccount)

	r.text(left+1, yInn+3.7, "", bodyPt, "ИНН "+s.INN)
	r.text(left+51, yInn+3.7, "", bodyPt, "КПП "+s.KPP)
	r.text(c1+1, yInn+3.7, "", bodyPt, "Сч. №")
	r.text(c2+1, yInn+3.7, "", bodyPt, s.Account)
	r.wrap(left, yPayee+0.8, c1-left, "", bodyPt, s.Name, lineH)
	r.text(left+1, yEnd-1.3, "", smallPt, "Получатель")
	return yEnd
}

// heading writes the title over a thick rule.
func (r *renderer) heading(y float64) float64 {
	r.fit(left, y, width, "B", 14, r.d.Title())
	r.line(left, y+3, right, y+3, 0.6)
	return y + 3
}

// parties writes the seller and the buyer.
func (r *renderer) parties(y float64) float64 {
	s, b := r.d.Seller, r.d.Buyer
	for _, p := range []struct{ label, text string }{
		{"Поставщик\n(Исполнитель):", describe(s.Name, s.Legal, s.Phone)},
		{"Покупатель\n(Заказчик):", describe(b.Name, b.Legal, b.Phone)},
	} {
		end := max(r.wrap(left, y, 28, "", bodyPt, p.label, lineH), r.wrap(left+29, y, width-29, "B", bodyPt, p.text, lineH))
		y = end + 2.5
	}
	return y
}

// columns of the lines table: №, what, quantity, unit, price, sum.
var columns = [...]struct {
	title string
	w     float64
	align string
}{{"№", 8, "C"}, {"Товары (работы, услуги)", 97, "L"}, {"Кол-во", 16, "R"}, {"Ед.", 12, "L"}, {"Цена", 23.5, "R"}, {"Сумма", 23.5, "R"}}

// lines draws the table of lines, with a new page when one does not fit.
func (r *renderer) lines(y float64) float64 {
	header := func(y float64) float64 {
		r.font("B", bodyPt)
		r.pdf.SetLineWidth(0.2)
		x := left
		for _, c := range columns {
			r.pdf.SetXY(x, y)
			r.pdf.CellFormat(c.w, 6, c.title, "1", 0, "C", false, 0, "")
			x += c.w
		}
		return y + 6
	}
	top := y
	y = header(y)
	for i, l := range r.d.Lines {
		r.font("", bodyPt)
		wrapped := r.pdf.SplitText(l.What, columns[1].w)
		h := float64(max(len(wrapped), 1))*lineH + 1.6
		room := 0.0
		if i == len(r.d.Lines)-1 {
			room = 60 // the totals and signatures follow the last line
		}
		if y+h > bottom-room {
			r.pdf.SetLineWidth(0.5)
			r.pdf.Rect(left, top, width, y-top, "D")
			r.pdf.AddPage()
			top = 15
			y = header(top)
			r.font("", bodyPt)
		}
		cells := []string{strconv.Itoa(i + 1), l.What, strconv.FormatInt(l.Qty, 10), l.Unit, Money(l.Price), Money(l.Sum())}
		x := left
		r.pdf.SetLineWidth(0.2)
		for k, c := range columns {
			r.pdf.Rect(x, y, c.w, h, "D")
			r.pdf.SetXY(x, y+0.8)
			r.pdf.MultiCell(c.w, lineH, cells[k], "", c.align, false)
			x += c.w
		}
		y += h
	}
	r.pdf.SetLineWidth(0.5)
	r.pdf.Rect(left, top, width, y-top, "D")
	return y
}

// totals writes Итого, the VAT and Всего к оплате under the sum column.
func (r *renderer) totals(y float64) float64 {
	total, vat := r.d.Total(), r.d.VAT()
	vatLabel, vatValue := "В том числе НДС "+strconv.Itoa(r.d.Seller.VAT)+"%:", Money(vat)
	if r.d.Seller.NoVAT {
		vatLabel, vatValue = "Без НДС", "-"
	}
	sumW := columns[5].w
	r.font("B", bodyPt)
	for _, row := range [][2]string{{"Итого:", Money(total)}, {vatLabel, vatValue}, {"Всего к оплате:", Money(total)}} {
		r.pdf.SetXY(left, y)
		r.pdf.CellFormat(width-sumW, 5, row[0], "", 0, "R", false, 0, "")
		r.pdf.CellFormat(sumW, 5, row[1], "", 0, "R", false, 0, "")
		y += 5
	}
	return y
}

// footer writes the count and sum of the lines, the total in words and the pay-by
// date, over a thick rule.
func (r *renderer) footer(y float64) float64 {
	total := r.d.Total()
	y = r.wrap(left, y, width, "", bodyPt, fmt.Sprintf("Всего наименований %d, на сумму %s руб.", len(r.d.Lines), Money(total)), lineH)
	y = r.wrap(left, y, width, "B", bodyPt, AmountInWords(total), lineH)
	if !r.d.PayBy.IsZero() {
		y = r.wrap(left, y+3, width, "", bodyPt, "Оплатить не позднее "+LongDate(r.d.PayBy), lineH)
	}
	y = r.wrap(left, y, width, "", bodyPt, "В назначении платежа, пожалуйста, укажите номер и дату счёта.", lineH)
	r.line(left, y+2, right, y+2, 0.6)
	return y + 2
}

// signatures draws the lines the director and the accountant sign on, each with the
// name beside it.
func (r *renderer) signatures(y float64) {
	y += 11
	s := r.d.Seller
	const half = width / 2
	for _, sig := range []struct {
		x     float64
		label string
		name  string
	}{{left, "Руководитель", s.Director}, {left + half, "Бухгалтер", s.Accountant}} {
		r.text(sig.x, y, "B", bodyPt, sig.label)
		x := sig.x + r.pdf.GetStringWidth(sig.label) + 2
		r.line(x, y+0.8, x+30, y+0.8, 0.2)
		r.fit(x+31, y, sig.x+half-x-34, "", bodyPt, initials(sig.name))
		r.font("", 6)
		r.pdf.Text(x+15-r.pdf.GetStringWidth("подпись")/2, y+3.6, "подпись")
	}
}

// initials shortens a full name to how a signature is spelt out: "Иванов Иван
// Иванович" → "Иванов И. И."; a name already short, or with dots, stays.
func initials(name string) string {
	f := strings.Fields(name)
	if len(f) < 2 || len(f) > 3 || strings.Contains(name, ".") {
		return strings.Join(f, " ")
	}
	out := f[0]
	for _, w := range f[1:] {
		out += " " + string([]rune(w)[:1]) + "."
	}
	return out
}
