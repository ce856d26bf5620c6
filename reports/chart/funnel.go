package chart

import (
	"image/color"
	"strconv"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/crm-team/crm/reports"
)

const (
	funnelShare = 0.7  // of the width, for the way forward; the rest for the steps apart
	stepShare   = 0.55 // of a step's row, for its bar; the rest for the narrowing to the next
	minStep     = 6    // a step with anyone in it is at least this wide
	stepGap     = 12   // between a name or a figure and its bar
	apartBar    = 40.0 // the height of a bar apart
)

var narrowing = color.Gray{Y: 0xec}

// drawFunnel draws the way forward as a funnel: a bar a step, centred, as wide as
// its count, in the stage's colour, its name on the left and its count on it; the
// conversion written in the narrowing down to the next step. The steps apart (the
// refusals) stand in a column on the right, the note under everything.
func drawFunnel(dc draw.Canvas, f *reports.FunnelChart, st styles) {
	if f.Note != "" {
		dc.Min.Y = drawNote(dc, st.clean(f.Note), st) + 12
	}
	way := dc
	if len(f.Apart) > 0 {
		way.Max.X = dc.Min.X + funnelShare*dc.Size().X
		apart := dc
		apart.Min.X = way.Max.X + 2*stepGap
		drawApart(apart, st.clean(f.ApartTitle), f.Apart, st)
	}
	drawWay(way, f.Steps, st)
}

func drawWay(dc draw.Canvas, steps []reports.FunnelStep, st styles) {
	if len(steps) == 0 {
		return
	}
	names := st.tick
	names.XAlign, names.YAlign = draw.XRight, draw.YCenter
	nameW := vg.Length(0)
	for _, s := range steps {
		nameW = max(nameW, names.Width(st.clean(s.Name)))
	}
	left := dc.Min.X + nameW + stepGap
	cx := (left + dc.Max.X) / 2
	widest := dc.Max.X - left - 2*stepGap - st.value.Width("000") // room for a figure beside the widest
	most := 1
	for _, s := range steps {
		most = max(most, s.Count)
	}
	width := func(n int) vg.Length {
		if n == 0 {
			return 0
		}
		return max(minStep, widest*vg.Length(n)/vg.Length(most))
	}
	row := dc.Size().Y / vg.Length(len(steps))
	barH := stepShare * row
	conv := st.note
	conv.Color = color.Gray{Y: 0x33}
	conv.Font.Size = min(st.tick.Font.Size, (row-barH)*0.7)
	conv.XAlign, conv.YAlign = draw.XCenter, draw.YCenter
	for i, s := range steps {
		top := dc.Max.Y - row*vg.Length(i)
		w := width(s.Count)
		if i+1 < len(steps) {
			next, below := width(steps[i+1].Count), top-row
			dc.FillPolygon(narrowing, []vg.Point{{X: cx - w/2, Y: top - barH}, {X: cx + w/2, Y: top - barH},
				{X: cx + next/2, Y: below}, {X: cx - next/2, Y: below}})
			if s.Next != "" {
				dc.FillText(conv, vg.Point{X: cx, Y: top - (barH+row)/2}, shorten(conv, st.clean(s.Next), dc.Max.X-left))
			}
		}
		dc.FillText(names, vg.Point{X: left - stepGap, Y: top - barH/2}, st.clean(s.Name))
		step(dc, cx-w/2, top-barH, cx+w/2, top, s, st)
	}
}

// drawApart draws the steps apart one under another from the top of dc, each
// named over its bar, the bars to a scale of their own.
func drawApart(dc draw.Canvas, title string, steps []reports.FunnelStep, st styles) {
	y := dc.Max.Y
	if title != "" {
		sty := st.value
		sty.YAlign = draw.YTop
		dc.FillText(sty, vg.Point{X: dc.Min.X, Y: y}, shorten(sty, title, dc.Size().X))
		y -= sty.Height(title) + stepGap
	}
	names := st.tick
	names.Font.Size = st.tick.Font.Size - 2
	names.YAlign = draw.YTop
	widest := dc.Size().X - stepGap - st.value.Width("000")
	most := 1
	for _, s := range steps {
		most = max(most, s.Count)
	}
	for _, s := range steps {
		dc.FillText(names, vg.Point{X: dc.Min.X, Y: y}, shorten(names, st.clean(s.Name), dc.Size().X))
		y -= names.Height("Ag") + names.FontExtents().Descent + 4
		w := vg.Length(0)
		if s.Count > 0 {
			w = max(minStep, widest*vg.Length(s.Count)/vg.Length(most))
		}
		step(dc, dc.Min.X, y-apartBar, dc.Min.X+w, y, s, st)
		y -= apartBar + 1.5*stepGap
	}
}

// step draws a step's bar in its colour, outlined in a darker shade (so that a
// white step shows on the white page), and its count on it, or beside it where the
// bar is too narrow.
func step(dc draw.Canvas, x0, y0, x1, y1 vg.Length, s reports.FunnelStep, st styles) {
	if x1 > x0 {
		dc.FillPolygon(s.Color, rect(x0, y0, x1, y1))
		dc.StrokeLines(draw.LineStyle{Color: shade(s.Color, 0.75), Width: 2}, append(rect(x0, y0, x1, y1), vg.Point{X: x0, Y: y0}))
	}
	label := groupThousands(strconv.Itoa(s.Count))
	sty := st.value
	sty.YAlign = draw.YCenter
	at := vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}
	if sty.Width(label)+2*stepGap <= x1-x0 {
		sty.XAlign = draw.XCenter
		if deep(s.Color) {
			sty.Color = color.White
		}
	} else {
		at.X = x1 + stepGap
	}
	dc.FillText(sty, at, label)
}

// drawNote writes the note in lines at the bottom of dc and returns where it begins.
func drawNote(dc draw.Canvas, note string, st styles) vg.Length {
	sty := st.note
	sty.XAlign = draw.XCenter
	y := dc.Min.Y + sty.FontExtents().Descent
	lines := wrap(sty, note, dc.Size().X)
	for i := len(lines) - 1; i >= 0; i-- {
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: y}, shorten(sty, lines[i], dc.Size().X))
		y += sty.FontExtents().Height
	}
	return y - sty.FontExtents().Descent
}

func shade(c color.RGBA, k float64) color.RGBA {
	return color.RGBA{uint8(float64(c.R) * k), uint8(float64(c.G) * k), uint8(float64(c.B) * k), c.A}
}

// deep says white text reads better than black on c.
func deep(c color.RGBA) bool { return 299*int(c.R)+587*int(c.G)+114*int(c.B) < 140_000 }
