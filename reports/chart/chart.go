// Package chart draws a report's reports.Chart as a PNG picture for the chat.
//
// The picture is meant to be read on a phone at a glance: its text is large, the
// period is in the title, figures are written on their bars, count axes step by
// whole numbers, long category names are wrapped, slanted or shortened rather than
// overlapped, the funnel is drawn as a funnel in the stages' colours, and a chart
// with nothing to show is refused (ErrNoData) instead of drawn empty.
package chart

import (
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	stdfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
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
	subtitleSize = 32 // the period, when the title takes two lines
	legendSize   = 28
	axisSize     = 28
	tickSize     = 26
	valueSize    = 26 // a figure written on its bar or step
	noteSize     = 22
)

// PNG draws c, a bar chart or a funnel, Width x Height pixels. Nothing is written
// unless the whole picture was drawn.
func PNG(w io.Writer, c reports.Chart) error {
	if err := check(c); err != nil {
		return err
	}
	cnv := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(dpi))
	drawChart(draw.New(cnv), c, newStyles())
	return png.Encode(w, cnv.Image())
}

// check refuses a chart that has nothing to draw or figures that do not line up.
func check(c reports.Chart) error {
	if c.Funnel == nil && len(c.Labels) == 0 || c.Empty() {
		return ErrNoData
	}
	if c.Funnel != nil {
		for _, s := range append(slices.Clone(c.Funnel.Steps), c.Funnel.Apart...) {
			if s.Count < 0 {
				return fmt.Errorf("chart: step %q has a negative count", s.Name)
			}
		}
		return nil
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
	return nil
}

// drawChart lays the chart out on dc: the title, then the funnel or the legend
// and the bars.
func drawChart(dc draw.Canvas, c reports.Chart, st styles) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc = draw.Crop(dc, margin, -margin, margin/2, -margin/2)
	dc.Max.Y = drawTitle(dc, st.clean(c.Title), st) - 8
	if c.Funnel != nil {
		drawFunnel(dc, c.Funnel, st)
		return
	}
	drawBars(dc, c, st)
}

// drawTitle writes the title at the top of dc, on two lines when one is too narrow
// (the period, after the last ", ", on the second), and returns where it ends.
func drawTitle(dc draw.Canvas, title string, st styles) vg.Length {
	top := dc.Max.Y
	if title == "" {
		return top
	}
	sty := st.title
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	lines := []string{title}
	if i := strings.LastIndex(title, ", "); sty.Width(title) > dc.Size().X && i > 0 {
		lines = []string{title[:i], title[i+2:]}
	}
	for _, line := range lines {
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: top}, shorten(sty, line, dc.Size().X))
		top -= sty.Height(line) + sty.FontExtents().Descent + 4
		sty = st.subtitle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	}
	return top
}

// styles are one chart's text styles. The fonts are looked up in a cache of
// their own, built per call, so that plot's package-level defaults (a serif
// font, a shared cache) never decide what the chart looks like.
type styles struct {
	title, subtitle, legend, axis, tick, value, note text.Style
	face                                             *sfnt.Font // to learn which characters it has
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
	note := st(noteSize, stdfont.WeightNormal)
	note.Color = color.Gray{Y: 0x55}
	return styles{
		face:     h.Fonts.Lookup(tick.Font, tick.Font.Size).Face,
		title:    st(titleSize, stdfont.WeightBold),
		subtitle: st(subtitleSize, stdfont.WeightNormal),
		legend:   st(legendSize, stdfont.WeightNormal),
		axis:     st(axisSize, stdfont.WeightNormal),
		tick:     tick,
		value:    st(valueSize, stdfont.WeightBold),
		note:     note,
	}
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
