package chart

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/crm-team/crm/reports"
)

const alphabet = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"

// funnel is a 12-category, 3-series chart with long Russian names.
func funnel() reports.Chart {
	labels := []string{"Белый", "Серый", "Зелёный", "Жёлтый", "Зелёно-золотой", "Золотой",
		"Платиновый", "Красно-зелёный", "Красно-золотой", "Красно-платиновый",
		"Квалифицированные лиды по рекомендациям партнёров", "Прочие"}
	return reports.Chart{
		Title:  "Воронка продаж по менеджерам",
		Labels: labels,
		Unit:   "клиенты",
		Series: []reports.Series{
			{Name: "Иванов", Values: []float64{12, 30, 25, 8, 4, 60, 3, 2, 1, 5, 7, 0}},
			{Name: "Петрова", Values: []float64{10, 20, 15, 6, 14, 40, 13, 12, 11, 15, 17, 1}},
			{Name: "Сидоренко-Кузнецова", Values: []float64{2, 3, 5, 8, 4, 6, 3, 2, 1, 5, 7, 2}},
		},
	}
}

func render(t testing.TB, c reports.Chart) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := PNG(&buf, c); err != nil {
		t.Fatalf("PNG: %v", err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("the output is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), Width, Height)
	}
	return img
}

// count tells how many pixels in r satisfy ok.
func count(img image.Image, r image.Rectangle, ok func(color.RGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ok(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)) {
				n++
			}
		}
	}
	return n
}

func dark(c color.RGBA) bool { return c.R < 100 && c.G < 100 && c.B < 100 }

func TestPNGSize(t *testing.T) {
	render(t, reports.Chart{Title: "Выручка", Labels: []string{"Январь", "Февраль"}, Unit: "₽",
		Series: []reports.Series{{Name: "Выручка", Values: []float64{1250000, 980000.5}}}})
}

func TestPNGManyCyrillicLabelsThreeSeries(t *testing.T) {
	img := render(t, funnel())
	for i := range 3 {
		want := color.RGBAModel.Convert(palette(i)).(color.RGBA)
		if n := count(img, img.Bounds(), func(c color.RGBA) bool { return c == want }); n < 500 {
			t.Errorf("series %d's colour covers %d pixels: its bars or swatch are missing", i, n)
		}
	}
}

func TestPNGNegativeValuesAndManyCategories(t *testing.T) {
	var c reports.Chart
	c.Series = []reports.Series{{Name: "План"}, {Name: "Факт"}}
	for i := range 30 {
		c.Labels = append(c.Labels, "Константинопольский филиал")
		c.Series[0].Values = append(c.Series[0].Values, float64(i*i-200))
		c.Series[1].Values = append(c.Series[1].Values, 0.5)
	}
	render(t, c)
}

func TestPNGNoData(t *testing.T) {
	for name, c := range map[string]reports.Chart{
		"nothing":   {},
		"no labels": {Title: "Пусто", Series: []reports.Series{{Name: "a"}}},
		"all zero": {Labels: []string{"a", "b"},
			Series: []reports.Series{{Name: "a", Values: []float64{0, 0}}}},
	} {
		var buf bytes.Buffer
		if err := PNG(&buf, c); !errors.Is(err, ErrNoData) {
			t.Errorf("%s: err = %v, want ErrNoData", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes, want none", name, buf.Len())
		}
	}
}

func TestPNGMismatchedSeriesWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	err := PNG(&buf, reports.Chart{Labels: []string{"a", "b"},
		Series: []reports.Series{{Name: "a", Values: []float64{1}}}})
	if err == nil || errors.Is(err, ErrNoData) || buf.Len() != 0 {
		t.Fatalf("err = %v, %d bytes written; want a plain error and nothing written", err, buf.Len())
	}
}

// A font without Cyrillic draws every Russian letter as its .notdef glyph
// (blank or a box) and the chart still "renders". So each letter is drawn
// with each of the chart's styles and must differ from .notdef and leave ink.
func TestCyrillicDrawnWithRealGlyphs(t *testing.T) {
	st := newStyles()
	var buf sfnt.Buffer
	if i, _ := st.face.GlyphIndex(&buf, '\uE000'); i != 0 {
		t.Fatalf("U+E000 is in the font; pick another character for .notdef")
	}
	for name, sty := range map[string]text.Style{"title": st.title, "subtitle": st.subtitle, "legend": st.legend,
		"axis": st.axis, "tick": st.tick, "value": st.value, "note": st.note} {
		notdef := letter(sty, "\uE000")
		for _, r := range alphabet + "↓–«»" {
			img := letter(sty, string(r))
			if bytes.Equal(img.Pix, notdef.Pix) {
				t.Errorf("%s: %q is drawn as .notdef", name, r)
			}
			if count(img, img.Bounds(), dark) == 0 {
				t.Errorf("%s: %q leaves no ink", name, r)
			}
		}
		cyr, lat := sty.Width("Воронка"), sty.Width("Voronka")
		if cyr < lat/2 || cyr > lat*2 {
			t.Errorf("%s: \"Воронка\" is %v wide against %v for \"Voronka\"", name, cyr, lat)
		}
	}

	// And in the picture itself: a Cyrillic title inks the middle of the title
	// band, where without a title (and with one series, no legend) there is
	// only the light grid and the bars.
	c := funnel()
	c.Series = c.Series[:1]
	c.Title = "Воронка"
	titled := render(t, c)
	c.Title = ""
	plain := render(t, c)
	band := image.Rect(Width/2-200, 0, Width/2+200, 50)
	if n, m := count(titled, band, dark), count(plain, band, dark); n < 500 || m != 0 {
		t.Errorf("title band: %d dark pixels with the title, %d without", n, m)
	}
}

func letter(sty text.Style, s string) *image.RGBA {
	cnv := vgimg.NewWith(vgimg.UseWH(80, 80), vgimg.UseDPI(dpi))
	dc := draw.New(cnv)
	dc.FillText(sty, vg.Point{X: 10, Y: 20}, s)
	return cnv.Image().(*image.RGBA)
}

func TestClean(t *testing.T) {
	st := newStyles()
	for in, want := range map[string]string{
		"₽":                "руб.",
		"тыс. ₽":           "тыс. руб.",
		"Горячий 🔥 клиент": "Горячий клиент",
		"две\nстроки":      "две строки",
	} {
		if got := st.clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValueTicks(t *testing.T) {
	lo, hi, ticks := valueTicks(-120, 2100000, true)
	if lo > -120 || hi < 2100000 {
		t.Errorf("range %v..%v does not cover the data", lo, hi)
	}
	var labels []string
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, "|"); got != "-500 000|0|500 000|1 000 000|1 500 000|2 000 000|2 500 000" {
		t.Errorf("labels %s", got)
	}
	if _, _, ticks := valueTicks(0, 0.37, false); ticks[1].Label != "0.1" {
		t.Errorf("fractional step labelled %q", ticks[1].Label)
	}
}

func TestShorten(t *testing.T) {
	sty := newStyles().tick
	long := "Квалифицированные лиды по рекомендациям партнёров"
	got := shorten(sty, long, 200)
	if !strings.HasSuffix(got, "…") || sty.Width(got) > 200 {
		t.Errorf("shorten = %q, %v wide", got, sty.Width(got))
	}
	if got := shorten(sty, "Белый", 200); got != "Белый" {
		t.Errorf("a short name was changed to %q", got)
	}
}

func BenchmarkPNG(b *testing.B) {
	c := funnel()
	for b.Loop() {
		if err := PNG(io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
}
