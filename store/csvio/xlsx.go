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
	f := excelize.NewFile()
	defer func() {
		if e := f.Close(); err == nil && e != nil {
			err = fmt.Errorf("export clients: %w", e)
		}
	}()
	if err := f.SetSheetName(f.GetSheetName(0), xlsxSheet); err != nil {
		return 0, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: textFormat})
	if err != nil {
		return 0, err
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: textFormat, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(xlsxSheet)
	if err != nil {
		return 0, err
	}
	row, cols := 0, 0
	cells := []any{}
	n, err = exportRows(ctx, s, opts.CustomFields, func(rec []string) error {
		row++
		cells = cells[:0]
		if row == 1 {
			// The stream takes the columns' settings before its first row.
			cols = len(rec)
			if err := sw.SetColStyle(1, cols, text); err != nil {
				return err
			}
			for i, name := range rec {
				if err := sw.SetColWidth(i+1, i+1, float64(max(14, utf8.RuneCountInString(name)+4))); err != nil {
					return err
				}
			}
			if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
				return err
			}
			for _, v := range rec {
				cells = append(cells, excelize.Cell{StyleID: bold, Value: v})
			}
		} else {
			for _, v := range rec {
				if v == "" {
					cells = append(cells, nil) // no cell at all; the column is Text
				} else {
					cells = append(cells, v)
				}
			}
		}
		ref, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return sw.SetRow(ref, cells)
	})
	if err != nil {
		return n, err
	}
	last, err := excelize.CoordinatesToCellName(cols, max(row, 2))
	if err != nil {
		return n, err
	}
	// Set before Flush, the filter goes out with the rest of the sheet's settings.
	if err := f.AutoFilter(xlsxSheet, "A1:"+last, nil); err != nil {
		return n, err
	}
	if err := sw.Flush(); err != nil {
		return n, fmt.Errorf("export clients: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return n, fmt.Errorf("export clients: %w", err)
	}
	return n, nil
}

// ImportXLSX reads clients from the first sheet of an Excel workbook as Import reads
// a CSV: the same columns, rows, matching and report, a row's line being its row
// number. Cells are read as Excel shows them, so a date or a long number typed as
// such (not as text) reads as its display. The workbook is unzipped whole (large
// sheets to temporary files); its rows are read one at a time.
func ImportXLSX(ctx context.Context, s *store.Store, actor string, r io.Reader, opts ImportOptions) (ImportReport, error) {
	im := newImporter(s, actor, opts)
	f, err := excelize.OpenReader(r)
	if err != nil {
		return im.report(fmt.Errorf("%w: not an Excel workbook (.xlsx): %v", store.ErrInvalid, err))
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetList()[0])
	if err != nil {
		return im.report(fmt.Errorf("read the workbook: %w", err))
	}
	defer rows.Close()
	line, width := 0, 0
	return im.report(im.rows(ctx, func() (int, []string, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return line + 1, nil, fmt.Errorf("read the workbook at row %d: %w", line+1, err)
			}
			return 0, nil, io.EOF
		}
		line++
		rec, err := rows.Columns()
		if err != nil {
			return line, nil, fmt.Errorf("read the workbook at row %d: %w", line, err)
		}
		if line == 1 {
			width = len(rec)
		}
		for len(rec) < width { // a row ends at its last value
			rec = append(rec, "")
		}
		return line, rec, nil
	}))
}
