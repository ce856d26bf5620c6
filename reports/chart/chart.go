// Package chart draws a report's reports.Chart as a PNG picture for the chat.
//
// The picture is meant to be read on a phone, so its text is large, long
// category names are slanted and shortened rather than overlapped, and a chart
// with nothing to show is refused (ErrNoData) instead of drawn empty.
package chart

import (
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	stdfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crm-team/crm/reports"
)

// The picture's size in pixels: 3:2 fills a phone held sideways and stays
// legible when the chat shrinks it to the screen's width.
const (
	Width  = 1200
	Height = 800
)

// ErrNoData says the chart has nothing to draw; the caller says so in words.
var ErrNoData = errors.New("chart: no data")

// At 72 dpi a point is a pixel, so every length below is in pixels.
const dpi = 72

const (
	margin       = 24
	titleSize    = 40
	legendSize   = 28
	axisSize     = 28
	tickSize     = 26
	minTickSize  = 16  // below this a slanted name is unreadable anyway
	maxSlanted   = 280 // a slanted name longer than this eats the bars' height
	yAxisGuess   = 150 // the value axis's width, to judge the room per category
	groupWidth   = 0.8 // share of a category's room taken by its bars
	barGap       = 0.06
	legendSwatch = 0.75 // swatch side as a share of the legend's font size
)

// PNG draws c as a grouped bar chart, Width x Height pixels. Nothing is written
// unless the whole picture was drawn.
func PNG(w io.Writer, c reports.Chart) error {
	if len(c.Labels) == 0 || c.Empty() {
		return ErrNoData
	}
	for _, s := range c.Series {
		if len(s.Values) != len(c.Labels) {
			return fmt.Errorf("chart: series %q has %d values for %d labels", s.Name, len(s.Values), len(c.Labels))
		}
		for _, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("chart: series %q has a value that is not a number", s.Name)
			}
		}
	}

	cnv := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(dpi))
	dc := draw.New(cnv)
	layout(draw.Crop(dc, margin, -margin, margin/2, -margin/2), c, newStyles())
	return png.Encode(w, cnv.Image())
}

// styles are one chart's text styles. The fonts are looked up in a cache of
// their own, built per call, so that plot's package-level defaults (a serif
// font, a shared cache) never decide what the chart looks like.
type styles struct {
	title, legend, axis, tick text.Style
	face                      *sfnt.Font // to learn which characters it has
}

func newStyles() styles {
	var sans font.Collection
	for _, f := range liberation.Collection() {
		if f.Font.Variant == "Sans" {
			sans = append(sans, f)
		}
	}
	h := text.Plain{Fonts: font.NewCache(sans)}
	st := func(size vg.Length, weight stdfont.Weight) text.Style {
		return text.Style{
			Color:   color.Black,
			Font:    font.Font{Typeface: "Liberation", Variant: "Sans", Weight: weight, Size: size},
			XAlign:  draw.XLeft,
			YAlign:  draw.YBottom,
			Handler: h,
		}
	}
	tick := st(tickSize, stdfont.WeightNormal)
	return styles{
		face:   h.Fonts.Lookup(tick.Font, tick.Font.Size).Face,
		title:  st(titleSize, stdfont.WeightBold),
		legend: st(legendSize, stdfont.WeightNormal),
		axis:   st(axisSize, stdfont.WeightNormal),
		tick:   tick,
	}
}

// layout lays the chart out on dc: the title, the legend under it, the plot below.
func layout(dc draw.Canvas, c reports.Chart, st styles) {
	top := dc.Max.Y
	if t := st.clean(c.Title); t != "" {
		sty := st.title
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: top}, shorten(sty, t, dc.Size().X))
		top -= sty.Height(t) + sty.FontExtents().Descent + 8
	}
	if len(c.Series) > 1 {
		top = drawLegend(dc, top, c.Series, st) - 8
	}
	dc.Max.Y = top
	newPlot(c, st, dc.Size().X).Draw(dc)
}

// newPlot sets up the bars and both axes; width is the room for the whole plot.
func newPlot(c reports.Chart, st styles, width vg.Length) *plot.Plot {
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

	lo, hi := 0.0, 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	var ticks plot.ConstantTicks
	p.Y.Min, p.Y.Max, ticks = valueTicks(lo, hi)
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
	p.Add(grid, bars{series: c.Series})
	return p
}

// categoryTicks names the categories under their bars. Names that do not fit
// side by side are slanted, and shortened with an ellipsis where still too
// long, so that ten and more long Russian words stay apart and legible.
func categoryTicks(labels []string, st styles, room vg.Length) (text.Style, plot.ConstantTicks) {
	sty := st.tick
	n := vg.Length(len(labels))
	names := make([]string, len(labels))
	flat := true
	for i, l := range labels {
		names[i] = st.clean(l)
		if sty.Width(names[i]) > 0.92*room/n {
			flat = false
		}
	}
	if flat {
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	} else {
		// Slanted at 45°, neighbours are room/n·sin45° apart across the text.
		slot := (room - 0.7*maxSlanted) / n
		sty.Font.Size = max(minTickSize, min(sty.Font.Size, slot*0.7/1.2))
		sty.Rotation = -math.Pi / 4
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	}
	ticks := make(plot.ConstantTicks, len(labels))
	for i, name := range names {
		limit := vg.Length(maxSlanted)
		if flat {
			limit = room / n
		}
		ticks[i] = plot.Tick{Value: float64(i), Label: shorten(sty, name, limit)}
	}
	return sty, ticks
}

// valueTicks picks about five round steps covering lo..hi and labels them with
// grouped thousands, so that 1250000 reads as "1 250 000".
func valueTicks(lo, hi float64) (float64, float64, plot.ConstantTicks) {
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
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

// groupThousands puts a space between each three digits of the integer part.
func groupThousands(num string) string {
	sign := ""
	if strings.HasPrefix(num, "-") {
		sign, num = "-", num[1:]
	}
	intPart, frac, _ := strings.Cut(num, ".")
	var b strings.Builder
	for i, d := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(d)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if sign != "" && strings.Trim(num, "0.") == "" {
		sign = "" // rounding left "-0"
	}
	return sign + b.String()
}

// drawLegend lays out one swatch and name per series in centred rows under y,
// wrapping when a row is full, and returns where the rows end.
func drawLegend(dc draw.Canvas, y vg.Length, series []reports.Series, st styles) vg.Length {
	sty := st.legend
	swatch := sty.Font.Size * legendSwatch
	gap, spacing := sty.Font.Size*0.35, sty.Font.Size*1.2
	lineH := sty.Height("Ag") + sty.FontExtents().Descent + 6
	type entry struct {
		i    int
		name string
		w    vg.Length
	}
	var rows [][]entry
	var rowW []vg.Length
	maxName := dc.Size().X - swatch - gap
	for i, s := range series {
		name := shorten(sty, st.clean(s.Name), maxName)
		w := swatch + gap + sty.Width(name)
		if n := len(rows); n == 0 || rowW[n-1]+spacing+w > dc.Size().X {
			rows, rowW = append(rows, nil), append(rowW, -spacing)
		}
		n := len(rows) - 1
		rows[n] = append(rows[n], entry{i, name, w})
		rowW[n] += spacing + w
	}
	for r, row := range rows {
		y -= lineH
		x := dc.Center().X - rowW[r]/2
		for _, e := range row {
			base := y + sty.FontExtents().Descent
			dc.FillPolygon(palette(e.i), rect(x, base, x+swatch, base+swatch))
			dc.FillText(sty, vg.Point{X: x + swatch + gap, Y: base}, e.name)
			x += e.w + spacing
		}
	}
	return y
}

// bars draws one group per category, one bar per series, from zero.
type bars struct {
	series []reports.Series
}

func (b bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := float64(len(b.series))
	w := groupWidth / n
	for j, s := range b.series {
		for i, v := range s.Values {
			x0 := float64(i) - groupWidth/2 + float64(j)*w + w*barGap/2
			x1 := x0 + w*(1-barGap)
			c.FillPolygon(palette(j), rect(trX(x0), trY(0), trX(x1), trY(v)))
		}
	}
	if p.Y.Min < 0 {
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: 1}, c.Min.X, trY(0), c.Max.X, trY(0))
	}
}

func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// palette is Tableau 10: ten hues told apart also by most colour-blind readers.
func palette(i int) color.Color {
	return [...]color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff},
		{0x76, 0xb7, 0xb2, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff},
		{0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
		{0xba, 0xb0, 0xac, 0xff},
	}[i%10]
}

// clean makes s one line (plot would draw each line apart) of characters the
// font has. The font lacks the rouble sign, the usual unit, so it is spelt
// out; other missing characters (emoji in a name) would be drawn as nothing and
// mislead the width measures, so they are left out.
func (st styles) clean(s string) string {
	var b strings.Builder
	var buf sfnt.Buffer
	for _, r := range s {
		if i, err := st.face.GlyphIndex(&buf, r); err == nil && i != 0 || unicode.IsSpace(r) {
			b.WriteRune(r)
		} else if r == '₽' {
			b.WriteString("руб.")
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// shorten cuts s to fit width, ending it with an ellipsis.
func shorten(sty text.Style, s string, width vg.Length) string {
	if sty.Width(s) <= width {
		return s
	}
	for s != "" {
		_, size := utf8.DecodeLastRuneInString(s)
		s = strings.TrimRight(s[:len(s)-size], " ")
		if sty.Width(s+"…") <= width {
			break
		}
	}
	return s + "…"
}
