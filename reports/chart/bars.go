package chart

import (
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/crm-team/crm/reports"
)

const (
	minFlatSize  = 18  // names smaller than this are slanted instead
	maxLines     = 3   // a name across takes at most this many lines
	minTickSize  = 16  // below this a slanted name is unreadable anyway
	maxSlanted   = 280 // a slanted name longer than this eats the bars' height
	minValueSize = 14  // a bar's figure smaller than this is left out
	yAxisGuess   = 150 // the value axis's width, to judge the room per category
	groupWidth   = 0.8 // share of a category's room taken by its bars
	barGap       = 0.06
	legendSwatch = 0.75 // swatch side as a share of the legend's font size
	headroom     = 0.1  // share of the value range left above the bars for their figures
)

// shown is a series that is drawn, with its place among the chart's series, which
// picks its colour: a series of zeros is left out (a legend entry with no bars, and
// a gap in each group that pushes the bars off their names), the others keep theirs.
type shown struct {
	reports.Series
	at int
}

// drawBars draws a grouped bar chart on dc: the legend, then the plot.
func drawBars(dc draw.Canvas, c reports.Chart, st styles) {
	var series []shown
	for i, s := range c.Series {
		if slices.ContainsFunc(s.Values, func(v float64) bool { return v != 0 }) {
			series = append(series, shown{s, i})
		}
	}
	if len(series) > 1 {
		dc.Max.Y = drawLegend(dc, dc.Max.Y, series, st) - 8
	}
	newPlot(c, series, st, dc.Size().X).Draw(dc)
}

// newPlot sets up the bars and both axes; width is the room for the whole plot.
func newPlot(c reports.Chart, series []shown, st styles, width vg.Length) *plot.Plot {
	p := plot.New()
	p.TextHandler = st.tick.Handler
	p.Legend.TextStyle = st.legend
	p.BackgroundColor = color.White

	p.X.Min, p.X.Max = -0.5, float64(len(c.Labels))-0.5
	p.X.Padding = 0
	p.X.Tick.Length = 6 // also keeps the names off the axis line
	p.X.Tick.Width = 1
	p.X.Label.TextStyle = st.axis
	p.X.Tick.Label, p.X.Tick.Marker = categoryTicks(c.Labels, st, width-yAxisGuess)

	lo, hi, whole := 0.0, 0.0, true
	for _, s := range series {
		for _, v := range s.Values {
			lo, hi = min(lo, v), max(hi, v)
			whole = whole && v == math.Trunc(v)
		}
	}
	span := hi - lo
	if hi > 0 {
		hi += headroom * span
	}
	if lo < 0 {
		lo -= headroom * span
	}
	var ticks plot.ConstantTicks
	p.Y.Min, p.Y.Max, ticks = valueTicks(lo, hi, whole)
	p.Y.Padding = 0
	p.Y.Tick.Marker = ticks
	p.Y.Tick.Label = st.tick
	p.Y.Tick.Label.XAlign, p.Y.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.Y.Label.Text = st.clean(c.Unit)
	p.Y.Label.TextStyle = st.axis
	p.Y.Label.TextStyle.XAlign = draw.XCenter
	p.Y.Label.Padding = 8

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = color.Gray{Y: 220}
	grid.Horizontal.Width = 1
	grid.Horizontal.Dashes = nil
	p.Add(grid, bars{series: series, value: st.value})
	return p
}

// categoryTicks names the categories centred under their bars: across, on up to
// three lines, at the largest size that fits every name in its room; failing that,
// slanted with their ends at the bars, and shortened with an ellipsis where still
// too long, so that ten and more long Russian words stay apart and legible.
func categoryTicks(labels []string, st styles, room vg.Length) (text.Style, plot.ConstantTicks) {
	sty := st.tick
	n := vg.Length(len(labels))
	slot := 0.92 * room / n
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = st.clean(l)
	}
	ticks := make(plot.ConstantTicks, len(labels))
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	for ; sty.Font.Size >= minFlatSize; sty.Font.Size -= 2 {
		wrapped := make([][]string, len(names))
		most := 0
		for i, name := range names {
			wrapped[i] = wrap(sty, name, slot)
			if len(wrapped[i]) > maxLines || slices.ContainsFunc(wrapped[i], func(l string) bool { return sty.Width(l) > slot }) {
				wrapped = nil
				break
			}
			most = max(most, len(wrapped[i]))
		}
		if wrapped == nil {
			continue
		}
		for i, lines := range wrapped {
			// As many lines each (blank ones under), or plot puts their first lines
			// at heights of their own.
			for len(lines) < most {
				lines = append(lines, " ")
			}
			ticks[i] = plot.Tick{Value: float64(i), Label: strings.Join(lines, "\n")}
		}
		return sty, ticks
	}
	// Slanted at 45°, neighbours are room/n·sin45° apart across the text.
	sty = st.tick
	sty.Font.Size = max(minTickSize, min(sty.Font.Size, (room-0.7*maxSlanted)/n*0.7/1.2))
	sty.Rotation = math.Pi / 4
	sty.XAlign, sty.YAlign = draw.XRight, draw.YTop
	for i, name := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: shorten(sty, name, maxSlanted)}
	}
	return sty, ticks
}

// wrap breaks s into lines no wider than width where it can: at spaces, and after
// a hyphen. A piece wider than width is a line of its own.
func wrap(sty text.Style, s string, width vg.Length) []string {
	var pieces []string
	for rest := s; rest != ""; {
		i := strings.IndexAny(rest, " -")
		if i < 0 {
			pieces = append(pieces, rest)
			break
		}
		pieces, rest = append(pieces, rest[:i+1]), rest[i+1:]
	}
	var lines []string
	line := ""
	for _, p := range pieces {
		if line != "" && sty.Width(strings.TrimSpace(line+p)) > width {
			lines, line = append(lines, strings.TrimSpace(line)), ""
		}
		line += p
	}
	if line = strings.TrimSpace(line); line != "" {
		lines = append(lines, line)
	}
	return lines
}

// valueTicks picks about five round steps covering lo..hi and labels them with
// grouped thousands, so that 1250000 reads as "1 250 000". Whole figures (counts)
// step by whole numbers: there is no half a call.
func valueTicks(lo, hi float64, whole bool) (float64, float64, plot.ConstantTicks) {
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if s := m * mag; s >= raw && (!whole || s == math.Trunc(s)) {
			step = s
			break
		}
	}
	prec := 0
	for prec < 6 && math.Abs(step*math.Pow10(prec)-math.Round(step*math.Pow10(prec))) > 1e-9 {
		prec++
	}
	first, last := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	var ticks plot.ConstantTicks
	for k := first; k <= last; k++ {
		v := k * step
		ticks = append(ticks, plot.Tick{Value: v, Label: groupThousands(strconv.FormatFloat(v, 'f', prec, 64))})
	}
	return first * step, last * step, ticks
}

// drawLegend lays out one swatch and name per series in centred rows under y,
// wrapping when a row is full, and returns where the rows end.
func drawLegend(dc draw.Canvas, y vg.Length, series []shown, st styles) vg.Length {
	sty := st.legend
	swatch := sty.Font.Size * legendSwatch
	gap, spacing := sty.Font.Size*0.35, sty.Font.Size*1.2
	lineH := sty.Height("Ag") + sty.FontExtents().Descent + 6
	type entry struct {
		at   int
		name string
		w    vg.Length
	}
	var rows [][]entry
	var rowW []vg.Length
	maxName := dc.Size().X - swatch - gap
	for _, s := range series {
		name := shorten(sty, st.clean(s.Name), maxName)
		w := swatch + gap + sty.Width(name)
		if n := len(rows); n == 0 || rowW[n-1]+spacing+w > dc.Size().X {
			rows, rowW = append(rows, nil), append(rowW, -spacing)
		}
		n := len(rows) - 1
		rows[n] = append(rows[n], entry{s.at, name, w})
		rowW[n] += spacing + w
	}
	for r, row := range rows {
		y -= lineH
		x := dc.Center().X - rowW[r]/2
		for _, e := range row {
			base := y + sty.FontExtents().Descent
			dc.FillPolygon(palette(e.at), rect(x, base, x+swatch, base+swatch))
			dc.FillText(sty, vg.Point{X: x + swatch + gap, Y: base}, e.name)
			x += e.w + spacing
		}
	}
	return y
}

// bars draws one group per category, one bar per series, from zero, each with its
// figure over it where the figure fits the bar's room.
type bars struct {
	series []shown
	value  text.Style
}

func (b bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	w := groupWidth / float64(len(b.series))
	room := trX(w) - trX(0)
	// One size for every figure: the largest that fits the widest in its bar's room.
	sty := b.value
	sty.XAlign = draw.XCenter
	for _, s := range b.series {
		for _, v := range s.Values {
			for sty.Font.Size > minValueSize && sty.Width(number(v)) > room {
				sty.Font.Size--
			}
		}
	}
	for j, s := range b.series {
		for i, v := range s.Values {
			left := float64(i) - groupWidth/2 + float64(j)*w // the bar's room
			x0, x1 := trX(left+w*barGap/2), trX(left+w*(1-barGap/2))
			c.FillPolygon(palette(s.at), rect(x0, trY(0), x1, trY(v)))
			if label := number(v); sty.Width(label) <= room {
				// Over the end of the bar; under it for a negative figure.
				at := vg.Point{X: (x0 + x1) / 2, Y: trY(v) + 4}
				sty.YAlign = draw.YBottom
				if v < 0 {
					at.Y, sty.YAlign = trY(v)-4, draw.YTop
				}
				c.FillText(sty, at, label)
			}
		}
	}
	if p.Y.Min < 0 {
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: 1}, c.Min.X, trY(0), c.Max.X, trY(0))
	}
}

// number writes a figure with grouped thousands and at most two decimals.
func number(v float64) string {
	return groupThousands(strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64))
}
