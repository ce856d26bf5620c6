package reports

import (
	"image/color"
	"slices"
)

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

// Chart is a bar chart: one group of bars per label, one bar per series; or, with
// Funnel set, a funnel (Labels and Series are then not drawn).
type Chart struct {
	Title  string   // with the period, after its last ", "
	Labels []string // along the category axis, in order
	Series []Series
	Unit   string // the value axis's name, e.g. "clients" or "₽"
	Funnel *FunnelChart
}

// Series is one bar per label; Values line up with the chart's Labels.
type Series struct {
	Name   string
	Values []float64
}

// FunnelChart is the way forward drawn as a funnel, one step under another, and the
// ways out of it beside it.
type FunnelChart struct {
	Steps      []FunnelStep // top to bottom
	Apart      []FunnelStep // the red stages
	ApartTitle string
	Note       string // what the counts and the texts between the steps are
}

// FunnelStep is one stage of a funnel chart.
type FunnelStep struct {
	Name  string
	Count int
	Color color.RGBA // the stage's colour in the methodology
	Next  string     // written between this step and the next: the conversion
}

// Empty says the chart has nothing to draw: no labels, or every value zero.
func (c Chart) Empty() bool {
	if c.Funnel != nil {
		for _, s := range append(slices.Clone(c.Funnel.Steps), c.Funnel.Apart...) {
			if s.Count != 0 {
				return false
			}
		}
		return true
	}
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}
