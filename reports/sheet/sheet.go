// Package sheet writes a report's reports.Tables as an Excel workbook, one
// worksheet per table, with numbers kept as numbers so the reader can sum,
// sort and filter them.
package sheet

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/reports"
)

const (
	maxName     = 31 // Excel refuses longer tab names
	minColWidth = 6  // in characters of the default font
	maxColWidth = 60 // a long note wraps the view rather than widens it
)

// Excel's formats: Money as 1,234.50 and Percent as 25.0% (the reader's Excel
// shows its own separators).
const (
	moneyFormat   = "#,##0.00"
	percentFormat = "0.0%"
)

// XLSX writes tables as a workbook to w. Rows are streamed to the sheet (and to
// temporary files past 16 MB) so a table of 100k rows costs little memory
// beyond the table itself.
func XLSX(w io.Writer, tables ...reports.Table) (err error) {
	if len(tables) == 0 {
		return errors.New("sheet: no tables to write")
	}
	f := excelize.NewFile()
	defer func() {
		if e := f.Close(); err == nil {
			err = e
		}
	}()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	used := map[string]bool{"history": true} // Excel reserves "History"
	for i, t := range tables {
		name := tabName(t.Name, i+1, used)
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			return fmt.Errorf("sheet: tab %q: %w", name, err)
		}
		if err := writeTable(f, name, t, st); err != nil {
			return fmt.Errorf("sheet: tab %q: %w", name, err)
		}
	}
	_, err = f.WriteTo(w)
	return err
}

type styles struct {
	title, header, money, percent int
}

func newStyles(f *excelize.File) (styles, error) {
	var st styles
	var err error
	add := func(s *excelize.Style) int {
		id, e := f.NewStyle(s)
		err = errors.Join(err, e)
		return id
	}
	money, percent := moneyFormat, percentFormat
	st.title = add(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}})
	st.header = add(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7ECF3"}},
		Border: []excelize.Border{{Type: "bottom", Color: "8A9BB3", Style: 1}},
	})
	st.money = add(&excelize.Style{CustomNumFmt: &money})
	st.percent = add(&excelize.Style{CustomNumFmt: &percent})
	return st, err
}

// writeTable streams one table to its sheet. The stream writer needs widths
// and panes before the first row, so the widths come from a pass over the rows.
func writeTable(f *excelize.File, name string, t reports.Table, st styles) error {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for col, w := range widths(t) {
		if err := sw.SetColWidth(col+1, col+1, w); err != nil {
			return err
		}
	}
	headerRow := 1
	if t.Title != "" {
		headerRow = 2
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: headerRow, TopLeftCell: cellName(1, headerRow+1), ActivePane: "bottomLeft",
	}); err != nil {
		return err
	}
	if t.Title != "" {
		if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: t.Title}}); err != nil {
			return err
		}
	}
	row := headerRow
	header := make([]any, len(t.Header))
	for i, h := range t.Header {
		header[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow(cellName(1, row), header); err != nil {
		return err
	}
	cols := len(t.Header)
	cells := make([]any, 0, cols)
	for _, r := range t.Rows {
		row++
		cells = cells[:0]
		for _, v := range r {
			cells = append(cells, cell(v, st))
		}
		cols = max(cols, len(r))
		if err := sw.SetRow(cellName(1, row), cells); err != nil {
			return err
		}
	}
	if cols > 0 {
		// Set before Flush, it goes out with the rest of the sheet's settings.
		ref := cellName(1, headerRow) + ":" + cellName(cols, max(row, headerRow+1))
		if err := f.AutoFilter(name, ref, nil); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cell gives a value its spreadsheet form: numbers stay numbers, Money and
// Percent get their formats. Excel has no NaN or infinity, so those are text.
func cell(v any, st styles) any {
	num := func(x float64, style int) any {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return excelize.Cell{StyleID: style, Value: x}
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string, int, int64:
		return x
	case float64:
		return num(x, 0)
	case reports.Money:
		return num(float64(x), st.money)
	case reports.Percent:
		return num(float64(x), st.percent)
	}
	return fmt.Sprint(v) // as the terminal and CSV show it
}

// widths sizes each column to its longest cell, header included, in
// characters, within minColWidth..maxColWidth.
func widths(t reports.Table) []float64 {
	var chars []int
	see := func(col, n int) {
		for len(chars) <= col {
			chars = append(chars, 0)
		}
		chars[col] = max(chars[col], n)
	}
	for i, h := range t.Header {
		see(i, utf8.RuneCountInString(h)+2) // bold and the filter button
	}
	var buf [32]byte
	for _, r := range t.Rows {
		for i, v := range r {
			switch x := v.(type) {
			case nil:
			case string:
				see(i, utf8.RuneCountInString(x))
			case int:
				see(i, len(strconv.AppendInt(buf[:0], int64(x), 10)))
			case int64:
				see(i, len(strconv.AppendInt(buf[:0], x, 10)))
			case float64:
				see(i, len(strconv.AppendFloat(buf[:0], x, 'g', -1, 64)))
			case reports.Money:
				n := len(strconv.AppendFloat(buf[:0], math.Abs(float64(x)), 'f', 0, 64))
				see(i, n+(n-1)/3+4) // group separators, sign, ".00"
			case reports.Percent:
				see(i, len(strconv.AppendFloat(buf[:0], 100*float64(x), 'f', 1, 64))+1)
			default:
				see(i, utf8.RuneCountInString(fmt.Sprint(v)))
			}
		}
	}
	w := make([]float64, len(chars))
	for i, n := range chars {
		w[i] = float64(min(max(n+1, minColWidth), maxColWidth))
	}
	return w
}

// tabName makes a report's table name a valid, unique tab name: without the
// characters Excel forbids, at most 31 long, not blank, unlike any before it
// ignoring case, as Excel compares them.
func tabName(name string, n int, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, name)
	name = strings.Trim(strings.Join(strings.Fields(name), " "), "' ")
	if name == "" {
		name = "Sheet" + strconv.Itoa(n)
	}
	base := name
	for k := 2; ; k++ {
		name = truncate(name, maxName)
		if !used[strings.ToLower(name)] {
			used[strings.ToLower(name)] = true
			return name
		}
		suffix := " (" + strconv.Itoa(k) + ")"
		name = truncate(base, maxName-len(suffix)) + suffix
	}
}

// truncate cuts s to n UTF-16 units, the measure Excel applies to tab names.
func truncate(s string, n int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n {
			return strings.TrimRight(s[:i], "' ")
		}
	}
	return s
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}
