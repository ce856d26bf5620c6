package csvio

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"
)

// Writer writes CSV the way Excel reads it: UTF-8 with a byte order mark, the
// separator of the reader's locale, CRLF line ends, and every value that Excel would
// run as a formula guarded (see Guard). Every CSV the product writes goes through it.
type Writer struct {
	bw  *bufio.Writer
	cw  *csv.Writer
	rec []string
}

// NewWriter starts a CSV on w: comma separates values (0 means ';', Excel in the
// Russian locale); bom puts the UTF-8 byte order mark first (Excel needs it to read
// Cyrillic). Nothing reaches w before Flush, or before 64 KB are written.
func NewWriter(w io.Writer, comma rune, bom bool) *Writer {
	if comma == 0 {
		comma = ';'
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if bom {
		_, _ = bw.Write(utf8BOM) // an error sticks to bw and comes back from Flush
	}
	cw := csv.NewWriter(bw)
	cw.Comma = comma
	cw.UseCRLF = true
	return &Writer{bw: bw, cw: cw}
}

// Write writes one row, every value guarded; a nil row is a blank line.
func (w *Writer) Write(rec []string) error {
	w.rec = w.rec[:0]
	for _, v := range rec {
		w.rec = append(w.rec, Guard(v))
	}
	return w.cw.Write(w.rec)
}

// Flush writes out what is buffered and reports the first error of any write.
func (w *Writer) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return err
	}
	return w.bw.Flush()
}

// Guard keeps Excel from reading a value as a formula: a leading apostrophe before
// = + - @, a tab or a carriage return (the leads OWASP lists), and before an
// apostrophe, so that one is kept too. Import removes it.
func Guard(v string) string {
	if v != "" && strings.IndexByte(guarded, v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// guarded are the first characters Guard puts an apostrophe before.
const guarded = "=+-@\t\r'"
