package reports

// A report reaches its reader in several forms: a table in a terminal, CSV, a
// spreadsheet, a chart picture in the chat. Each report lays itself out once as
// Tables and a Chart; the renderers (reports/chart, reports/sheet, the CLI's table
// and CSV) know nothing of any particular report.

// Table is a report's figures laid out in rows.
type Table struct {
	Name   string   // short, fits a spreadsheet tab (31 characters at most)
	Title  string   // a line above the table
	Header []string // column names
	// Rows hold string, int, int64 or float64 cells; Money and Percent mark numbers
	// that a spreadsheet should show as such.
	Rows [][]any
}

// Money is an amount in major units (roubles), shown with two decimals.
type Money float64

// Percent is a share shown as a percentage: 0.25 is 25%.
type Percent float64

// Chart is a bar chart: one group of bars per label, one bar per series.
type Chart struct {
	Title  string
	Labels []string // along the category axis, in order
	Series []Series
	Unit   string // the value axis's name, e.g. "clients" or "₽"
}

// Series is one bar per label; Values line up with the chart's Labels.
type Series struct {
	Name   string
	Values []float64
}

// Empty says the chart has nothing to draw: no labels, or every value zero.
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}
