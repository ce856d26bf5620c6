package csvio

import (
	"context"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/store"
)

// xlsxSheet names the workbook export's one sheet.
const xlsxSheet = "clients"

// textFormat is Excel's built-in number format "@" (Text).
const textFormat = 49

// ExportXLSX writes every client as an Excel workbook of one sheet: the columns and
// rows of Export, every cell text in a column formatted as Text. So INN, KPP and BIK
// keep their leading zeros, 20-digit accounts, OGRN and phones stay as written (a
// CSV opened in Excel turns them into numbers), and a value starting with = is text,
// not a formula, with no apostrophe needed. Rows are streamed (to temporary files past
// 16 MB). It returns the number of clients written. Excel cuts a value past 32,767
// characters; so does this.
func ExportXLSX(ctx context.Context, s *store.Store, w io.Writer, opts ExportOptions) (n int, err error) {
	xw, err := NewXLSXWriter(xlsxSheet)
	if err != nil {
		return 0, fmt.Errorf("export clients: %w", err)
	}
	defer func() {
		if e := xw.Close(); err == nil && e != nil {
			err = fmt.Errorf("export clients: %w", e)
		}
	}()
	if n, err = exportRows(ctx, s, opts.CustomFields, xw.Write); err != nil {
		return n, err
	}
	if err := xw.Finish(w); err != nil {
		return n, fmt.Errorf("export clients: %w", err)
	}
	return n, nil
}

// XLSXWriter writes a table as an Excel workbook of one sheet, row by row: the first
// row is the header, bold, frozen and filtered; every cell is text in a column
// formatted as Text, so numbers keep their leading zeros and a value starting with =
// is text, not a formula. Rows are streamed (to temporary files past 16 MB). Every
// workbook the product writes of rows goes through it.
type XLSXWriter struct {
	f          *excelize.File
	sw         *excelize.StreamWriter
	sheet      string
	text, bold int
	row, cols  int
	cells      []any
	amount     int          // the style of amounts
	amounts    map[int]bool // columns of amounts, written as numbers
}

// SetAmounts makes the columns (0-based) amounts: their values, written as
// store.FormatAmount does, go into the sheet as numbers with two decimals, so that a
// spreadsheet sums them.
func (x *XLSXWriter) SetAmounts(cols ...int) error {
	if x.amount == 0 {
		id, err := x.f.NewStyle(&excelize.Style{NumFmt: amountFormat})
		if err != nil {
			return err
		}
		x.amount = id
	}
	if x.amounts == nil {
		x.amounts = map[int]bool{}
	}
	for _, c := range cols {
		x.amounts[c] = true
	}
	return nil
}

// amountFormat is Excel's built-in "#,##0.00", shown with the reader's separators.
const amountFormat = 4

// NewXLSXWriter starts a workbook whose one sheet is named sheet; Close frees it.
func NewXLSXWriter(sheet string) (*XLSXWriter, error) {
	x := &XLSXWriter{f: excelize.NewFile(), sheet: sheet}
	err := x.f.SetSheetName(x.f.GetSheetName(0), sheet)
	if err == nil {
		x.text, err = x.f.NewStyle(&excelize.Style{NumFmt: textFormat})
	}
	if err == nil {
		x.bold, err = x.f.NewStyle(&excelize.Style{NumFmt: textFormat, Font: &excelize.Font{Bold: true}})
	}
	if err == nil {
		x.sw, err = x.f.NewStreamWriter(sheet)
	}
	if err != nil {
		_ = x.f.Close()
		return nil, err
	}
	return x, nil
}

// Write writes a row, the header first; rec may be reused after it returns.
func (x *XLSXWriter) Write(rec []string) error {
	x.row++
	x.cells = x.cells[:0]
	if x.row == 1 {
		// The stream takes the columns' settings before its first row.
		x.cols = len(rec)
		if err := x.sw.SetColStyle(1, x.cols, x.text); err != nil {
			return err
		}
		for i, name := range rec {
			if err := x.sw.SetColWidth(i+1, i+1, float64(max(14, utf8.RuneCountInString(name)+4))); err != nil {
				return err
			}
		}
		if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		for _, v := range rec {
			x.cells = append(x.cells, excelize.Cell{StyleID: x.bold, Value: v})
		}
	} else {
		for i, v := range rec {
			switch {
			case v == "":
				x.cells = append(x.cells, nil) // no cell at all; the column is Text
			case x.amounts[i]:
				minor, err := store.ParseAmount(v)
				if err != nil {
					return fmt.Errorf("column %d: %w", i+1, err)
				}
				x.cells = append(x.cells, excelize.Cell{StyleID: x.amount, Value: float64(minor) / 100})
			default:
				x.cells = append(x.cells, v)
			}
		}
	}
	ref, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sw.SetRow(ref, x.cells)
}

// Finish ends the sheet and writes the workbook to w.
func (x *XLSXWriter) Finish(w io.Writer) error {
	last, err := excelize.CoordinatesToCellName(max(x.cols, 1), max(x.row, 2))
	if err != nil {
		return err
	}
	// Set before Flush, the filter goes out with the rest of the sheet's settings.
	if err := x.f.AutoFilter(x.sheet, "A1:"+last, nil); err != nil {
		return err
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	_, err = x.f.WriteTo(w)
	return err
}

// Close frees the workbook's temporary files.
func (x *XLSXWriter) Close() error { return x.f.Close() }

// ImportXLSX reads clients from the first sheet of an Excel workbook as Import reads
// a CSV: the same columns, rows, matching and report, a row's line being its row
// number. Cells are read as Excel shows them, so a date or a long number typed as
// such (not as text) reads as its display. The workbook is unzipped whole (large
// sheets to temporary files); its rows are read one at a time.
func ImportXLSX(ctx context.Context, s *store.Store, actor string, r io.Reader, opts ImportOptions) (ImportReport, error) {
	im := newImporter(s, actor, opts)
	next, closeBook, err := openXLSX(r, false)
	if err != nil {
		return im.report(err)
	}
	defer closeBook()
	return im.report(im.rows(ctx, next))
}

// openXLSX reads the rows of a workbook's first sheet, a row's line being its row
// number; every row is as wide as the header (a row ends at its last value). Cells
// read as Excel shows them, or raw: a number or date stored as such as its value.
func openXLSX(r io.Reader, raw bool) (rowFunc, func(), error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not an Excel workbook (.xlsx): %v", store.ErrInvalid, err)
	}
	rows, err := f.Rows(f.GetSheetList()[0])
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("read the workbook: %w", err)
	}
	closeBook := func() {
		_ = rows.Close()
		_ = f.Close()
	}
	line, width := 0, 0
	return func() (int, []string, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return line + 1, nil, fmt.Errorf("read the workbook at row %d: %w", line+1, err)
			}
			return 0, nil, io.EOF
		}
		line++
		rec, err := rows.Columns(excelize.Options{RawCellValue: raw})
		if err != nil {
			return line, nil, fmt.Errorf("read the workbook at row %d: %w", line, err)
		}
		if line == 1 {
			width = len(rec)
		}
		for len(rec) < width {
			rec = append(rec, "")
		}
		return line, rec, nil
	}, closeBook, nil
}
