package chart

import (
	"image/color"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crm-team/crm/reports"
)

// A picture cannot be read back into words, so the tests draw a chart on a canvas
// that also notes each text and each filled shape where it lands on the page (in
// pixels from the bottom left, as the chart's code measures them).

// drawnText is a line of text: where its baseline begins, how wide it is.
type drawnText struct {
	s       string
	x, y, w vg.Length
	rotated bool
}

// cx is the middle of the text, across.
func (t drawnText) cx() vg.Length { return t.x + t.w/2 }

// drawnFill is a filled shape's colour and bounds.
type drawnFill struct {
	c        color.RGBA
	min, max vg.Point
}

func (f drawnFill) cx() vg.Length { return (f.min.X + f.max.X) / 2 }
func (f drawnFill) cy() vg.Length { return (f.min.Y + f.max.Y) / 2 }
func (f drawnFill) w() vg.Length  { return f.max.X - f.min.X }

// affine maps (x, y) to (a·x + c·y + e, b·x + d·y + f).
type affine struct{ a, b, c, d, e, f float64 }

func (m affine) then(n affine) affine { // n applied first
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

func (m affine) apply(p vg.Point) vg.Point {
	x, y := float64(p.X), float64(p.Y)
	return vg.Point{X: vg.Length(m.a*x + m.c*y + m.e), Y: vg.Length(m.b*x + m.d*y + m.f)}
}

type recorder struct {
	*vgimg.Canvas
	m     affine
	col   color.RGBA
	stack []struct {
		m   affine
		col color.RGBA
	}
	texts []drawnText
	fills []drawnFill
}

func (r *recorder) SetColor(c color.Color) {
	if c == nil {
		c = color.Black
	}
	r.col = color.RGBAModel.Convert(c).(color.RGBA)
	r.Canvas.SetColor(c)
}

func (r *recorder) Rotate(rad float64) {
	s, c := math.Sincos(rad)
	r.m = r.m.then(affine{a: c, b: s, c: -s, d: c})
	r.Canvas.Rotate(rad)
}

func (r *recorder) Translate(p vg.Point) {
	r.m = r.m.then(affine{a: 1, d: 1, e: float64(p.X), f: float64(p.Y)})
	r.Canvas.Translate(p)
}

func (r *recorder) Scale(x, y float64) {
	r.m = r.m.then(affine{a: x, d: y})
	r.Canvas.Scale(x, y)
}

func (r *recorder) Push() {
	r.stack = append(r.stack, struct {
		m   affine
		col color.RGBA
	}{r.m, r.col})
	r.Canvas.Push()
}

func (r *recorder) Pop() {
	top := r.stack[len(r.stack)-1]
	r.stack, r.m, r.col = r.stack[:len(r.stack)-1], top.m, top.col
	r.Canvas.Pop()
}

func (r *recorder) Fill(p vg.Path) {
	f := drawnFill{c: r.col, min: vg.Point{X: math.MaxFloat32, Y: math.MaxFloat32}, max: vg.Point{X: -math.MaxFloat32, Y: -math.MaxFloat32}}
	for _, comp := range p {
		if comp.Type == vg.MoveComp || comp.Type == vg.LineComp {
			q := r.m.apply(comp.Pos)
			f.min = vg.Point{X: min(f.min.X, q.X), Y: min(f.min.Y, q.Y)}
			f.max = vg.Point{X: max(f.max.X, q.X), Y: max(f.max.Y, q.Y)}
		}
	}
	r.fills = append(r.fills, f)
	r.Canvas.Fill(p)
}

func (r *recorder) FillString(f font.Face, p vg.Point, s string) {
	q := r.m.apply(p)
	r.texts = append(r.texts, drawnText{s: s, x: q.X, y: q.Y, w: f.Width(s), rotated: r.m.b != 0})
	r.Canvas.FillString(f, p, s)
}

// record draws c as PNG would and returns what was drawn.
func record(t *testing.T, c reports.Chart) *recorder {
	t.Helper()
	if err := check(c); err != nil {
		t.Fatalf("check: %v", err)
	}
	r := &recorder{Canvas: vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(dpi)), m: affine{a: 1, d: 1}}
	drawChart(draw.New(r), c, newStyles())
	return r
}

// text is every line drawn that reads s.
func (r *recorder) text(s string) []drawnText {
	var out []drawnText
	for _, t := range r.texts {
		if t.s == s {
			out = append(out, t)
		}
	}
	return out
}

// one is the one line drawn that reads s.
func (r *recorder) one(t *testing.T, s string) drawnText {
	t.Helper()
	got := r.text(s)
	if len(got) != 1 {
		t.Fatalf("%q is drawn %d times, want once; drawn: %s", s, len(got), r.all())
	}
	return got[0]
}

func (r *recorder) all() string {
	var b strings.Builder
	for _, t := range r.texts {
		b.WriteString("|" + t.s)
	}
	return b.String()
}

// filled is every shape filled with c, short of the page's background.
func (r *recorder) filled(c color.Color) []drawnFill {
	want := color.RGBAModel.Convert(c).(color.RGBA)
	var out []drawnFill
	for _, f := range r.fills {
		if f.c == want && f.w() > 0 && f.max.Y > f.min.Y && f.w() < Width-2*margin-2 { // not a background
			out = append(out, f)
		}
	}
	return out
}

// bars are the shapes filled with c that stand on the same line as the lowest of
// them: a series' bars, not its legend swatch.
func (r *recorder) bars(c color.Color) []drawnFill {
	all := r.filled(c)
	base := vg.Length(math.MaxFloat32)
	for _, f := range all {
		base = min(base, f.min.Y)
	}
	var out []drawnFill
	for _, f := range all {
		if math.Abs(float64(f.min.Y-base)) < 0.5 {
			out = append(out, f)
		}
	}
	return out
}

func near(a, b vg.Length, by float64) bool { return math.Abs(float64(a-b)) <= by }

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 0xff} }
