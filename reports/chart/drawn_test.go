package chart

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

func words(t *testing.T, lang string) reports.Words {
	t.Helper()
	w, err := reports.LoadWords(lang)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// whole reads a drawn figure ("1 250", "0.5"); ok is false for a text that is no
// figure.
func figure(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, " ", ""), 64)
	return v, err == nil
}

// A manager with one or two calls got an axis of 0.2, 0.4 …: a count axis steps by
// whole numbers, whatever the largest count.
func TestCountAxisStepsByWholeNumbers(t *testing.T) {
	for hi := 1.0; hi <= 120; hi++ {
		for _, lo := range []float64{0, -hi / 2} {
			from, to, ticks := valueTicks(lo, hi*(1+headroom), true)
			if from > lo || to < hi || len(ticks) < 2 {
				t.Fatalf("%v..%v: axis %v..%v with %d ticks", lo, hi, from, to, len(ticks))
			}
			for _, tk := range ticks {
				if tk.Value != math.Trunc(tk.Value) || strings.Contains(tk.Label, ".") {
					t.Fatalf("%v..%v: a tick at %v (%q)", lo, hi, tk.Value, tk.Label)
				}
			}
		}
	}

	// And on the picture: the managers' chart of a quiet week.
	r := record(t, reports.Chart{Title: "Работа менеджеров", Labels: []string{"Анна", "Борис", "Вера"}, Unit: "штук",
		Series: []reports.Series{{Name: "Звонки", Values: []float64{1, 2, 0}}, {Name: "Встречи", Values: []float64{0, 1, 1}}}})
	var axis []float64
	for _, tx := range r.texts {
		v, ok := figure(tx.s)
		if !ok {
			continue
		}
		if v != math.Trunc(v) {
			t.Errorf("%q is drawn on a chart of counts", tx.s)
		}
		if tx.x+tx.w < r.one(t, "Анна").x { // left of the first name: the axis
			axis = append(axis, v)
		}
	}
	if len(axis) < 3 || axis[0] != 0 || axis[1] != 1 {
		t.Errorf("the count axis reads %v, want 0, 1, 2 …", axis)
	}
}

// A series of zeros (the funnel's old "at the start") pushed every bar off its
// name: bars stand centred on their names with their figures on them.
func TestBarsCentredOnTheirNamesWithTheirFigures(t *testing.T) {
	r := record(t, reports.Chart{Title: "Звонки", Labels: []string{"Анна", "Борис", "Вера"},
		Series: []reports.Series{{Name: "Заказы", Values: []float64{0, 0, 0}}, {Name: "Звонки", Values: []float64{3, 12, 1}}}})
	if got := r.text("Заказы"); len(got) != 0 {
		t.Errorf("a series of zeros is in the legend")
	}
	bars := r.bars(palette(1))
	if len(bars) != 3 {
		t.Fatalf("%d bars of calls drawn, want 3", len(bars))
	}
	for i, name := range []string{"Анна", "Борис", "Вера"} {
		bar, label := bars[i], r.one(t, name)
		if !near(bar.cx(), label.cx(), 1) {
			t.Errorf("%s: the bar's middle is at %v, the name's at %v", name, bar.cx(), label.cx())
		}
		fig := r.one(t, []string{"3", "12", "1"}[i])
		if !near(fig.cx(), bar.cx(), 1) || fig.y < bar.max.Y || fig.y > bar.max.Y+10 {
			t.Errorf("%s: figure %q at (%v, %v), the bar's top middle at (%v, %v)", name, fig.s, fig.cx(), fig.y, bar.cx(), bar.max.Y)
		}
	}

	// Two series: the group is centred on the name.
	r = record(t, reports.Chart{Labels: []string{"Анна", "Борис"},
		Series: []reports.Series{{Name: "Звонки", Values: []float64{3, 12}}, {Name: "Встречи", Values: []float64{2, 5}}}})
	calls, meetings := r.bars(palette(0)), r.bars(palette(1))
	for i, name := range []string{"Анна", "Борис"} {
		mid := (calls[i].min.X + meetings[i].max.X) / 2
		if label := r.one(t, name); !near(mid, label.cx(), 1) {
			t.Errorf("%s: the group's middle is at %v, the name's at %v", name, mid, label.cx())
		}
	}
}

// teamOf is Anna with 3 calls and the clients without a manager with work of their
// own: notes only, or letters.
func teamOf(noManager reports.Work) *reports.Team {
	t := &reports.Team{Period: november, Previous: reports.Previous(november), Managers: []reports.ManagerWork{
		{ManagerID: "m1", Name: "Анна", Now: reports.Work{Calls: 3}},
		{ManagerID: store.NoManager, Now: noManager},
	}}
	t.Total.Now = reports.Work{Calls: 3 + noManager.Calls, Notes: noManager.Notes, MailOut: noManager.MailOut}
	return t
}

func TestNoManagerColumnOnlyWithFigures(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		none := map[string]string{"ru": "(без менеджера)", "en": "(no manager)"}[lang]
		w := words(t, lang)

		r := record(t, teamOf(reports.Work{Notes: 4}).Layout(w).Chart)
		if got := r.text(none); len(got) != 0 {
			t.Errorf("%s: %q has a column of zeros", lang, none)
		}
		if anna, bars := r.one(t, "Анна"), r.bars(palette(0)); len(bars) != 1 || !near(bars[0].cx(), anna.cx(), 1) {
			t.Errorf("%s: Anna's calls are not one bar on her name (%v): %v", lang, anna, bars)
		}

		r = record(t, teamOf(reports.Work{Notes: 4, MailOut: 2}).Layout(w).Chart)
		label := r.one(t, none)
		var letters []drawnFill
		for i, s := range teamOf(reports.Work{}).Layout(w).Chart.Series {
			if s.Name == map[string]string{"ru": "Писем отправлено", "en": "Letters out"}[lang] {
				letters = r.bars(palette(i))
			}
		}
		anna := r.one(t, "Анна")
		if len(letters) != 1 || math.Abs(float64(letters[0].cx()-label.cx())) > math.Abs(float64(letters[0].cx()-anna.cx())) {
			t.Errorf("%s: the letters without a manager are not drawn over %q: %v", lang, none, letters)
		}
	}
}

func TestTitleCarriesThePeriod(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		w := words(t, lang)
		period := strings.Join(strings.Fields(w.Period(november)), " ")
		for name, c := range map[string]reports.Chart{
			"funnel":   sampleFunnel(1).Layout(w).Chart,
			"managers": sampleTeam(true, false).Layout(w).Chart,
			"sources":  reports.SourcesLayout(sampleSources(), november, w).Chart,
			"abc":      reports.ClassesLayout([]reports.ClientClass{{ClientID: "a", ABC: "A", XYZ: "X", Revenue: 1}}, nil, november, w).Chart,
		} {
			r := record(t, c)
			var top []string
			for _, tx := range r.texts {
				if tx.y > Height-110 {
					top = append(top, tx.s)
				}
			}
			if got := strings.Join(top, " "); !strings.Contains(got, period) {
				t.Errorf("%s %s: the title reads %q, without %q", lang, name, got, period)
			}
		}
	}

	// A title too long for a line goes on two, the period whole on the second.
	r := record(t, reports.Chart{Title: "Новые клиенты и первые заказы по источникам, 01.11.2026 – 30.11.2026",
		Labels: []string{"Сайт"}, Series: []reports.Series{{Name: "Новые", Values: []float64{4}}}})
	first, second := r.one(t, "Новые клиенты и первые заказы по источникам"), r.one(t, "01.11.2026 – 30.11.2026")
	if second.y >= first.y || second.x < 0 || second.x+second.w > Width {
		t.Errorf("the title's lines: %+v, %+v", first, second)
	}
}

func TestFunnelDrawnAsAFunnel(t *testing.T) {
	for _, lang := range []string{"ru", "en"} {
		w := words(t, lang)
		f := sampleFunnel(1)
		f.Conversions[5].Entered, f.Conversions[5].Converted = 0, 0 // nobody in gold: nothing to say
		r := record(t, f.Layout(w).Chart)
		// Hand answers from sampleFunnel: 52 of 140 is 37%, 26 of 80 32.5%, rounded half
		// to even by %.0f; 12 of 40 30%; 7 of 22 31.8%; 4 of 12 33.3%.
		went := map[string][]string{
			"ru": {"↓ 37%: 52 из 140 перешли дальше", "↓ 32%: 26 из 80 перешли дальше", "↓ 30%: 12 из 40 перешли дальше",
				"↓ 32%: 7 из 22 перешли дальше", "↓ 33%: 4 из 12 перешли дальше"},
			"en": {"↓ 37%: 52 of 140 went on", "↓ 32%: 26 of 80 went on", "↓ 30%: 12 of 40 went on",
				"↓ 32%: 7 of 22 went on", "↓ 33%: 4 of 12 went on"},
		}[lang]
		counts := []int{120, 64, 31, 18, 9, 14, 3}
		names := map[string][]string{
			"ru": {"Белый", "Серый", "Зелёный", "Жёлтый", "Зелёно-золотой", "Золотой", "Платиновый"},
			"en": {"White", "Grey", "Green", "Yellow", "Green-gold", "Gold", "Platinum"},
		}[lang]
		colours := []struct{ r, g, b uint8 }{{0xff, 0xff, 0xff}, {0x9e, 0x9e, 0x9e}, {0x43, 0xa0, 0x47},
			{0xfd, 0xd8, 0x35}, {0xaf, 0xb4, 0x2b}, {0xd4, 0xa0, 0x17}, {0xb8, 0xc6, 0xd1}}
		var steps []drawnFill
		for i, name := range names {
			label := r.one(t, name)
			c := colours[i]
			bar := r.filled(rgb(c.r, c.g, c.b))
			if len(bar) != 1 {
				t.Fatalf("%s: %s is filled %d times in its colour", lang, name, len(bar))
			}
			step := bar[0]
			if !near(step.cy(), label.y+label.w*0+9, 12) || step.min.X < label.x+label.w {
				t.Errorf("%s: %s's bar %v is not on its name's row, right of it (%v, %v)", lang, name, step, label.x, label.y)
			}
			if i > 0 {
				prev := steps[i-1]
				if step.max.Y >= prev.min.Y {
					t.Errorf("%s: %s is not under %s", lang, name, names[i-1])
				}
				if !near(step.cx(), prev.cx(), 1) {
					t.Errorf("%s: %s is not centred under %s", lang, name, names[i-1])
				}
				// The widths are to scale (each at least minStep wide).
				want := float64(prev.w()) * float64(counts[i]) / float64(counts[i-1])
				if got := float64(step.w()); math.Abs(got-max(want, minStep)) > 1 {
					t.Errorf("%s: %s is %v wide against %v for %s, want %v", lang, name, got, prev.w(), names[i-1], want)
				}
			}
			n := r.one(t, strconv.Itoa(counts[i]))
			if n.y < step.min.Y || n.y > step.max.Y || n.x < step.min.X {
				t.Errorf("%s: the count of %s is at (%v, %v), off its bar %v", lang, name, n.x, n.y, step)
			}
			steps = append(steps, step)
		}
		for i, text := range went {
			tx := r.one(t, text)
			if tx.y >= steps[i].min.Y || tx.y <= steps[i+1].max.Y || !near(tx.cx(), steps[i].cx(), 1) {
				t.Errorf("%s: %q is not written between %s and %s", lang, text, names[i], names[i+1])
			}
		}
		if got := r.text(map[string]string{"ru": "↓ 0%: 0 из 0 перешли дальше", "en": "↓ 0%: 0 of 0 went on"}[lang]); len(got) != 0 {
			t.Errorf("%s: a conversion of nobody is written", lang)
		}
		for _, old := range []string{"на начало", "at start"} {
			if len(r.text(old)) != 0 {
				t.Errorf("%s: %q is drawn", lang, old)
			}
		}
		// The refusals stand apart, right of the way forward, in their order, with
		// their counts.
		right := vg.Length(0)
		for _, s := range steps {
			right = max(right, s.max.X)
		}
		red := map[string][]string{"ru": {"Красно-зелёный", "Красно-золотой", "Красно-платиновый"},
			"en": {"Red-green", "Red-gold", "Red-platinum"}}[lang]
		above := vg.Length(Height)
		for i, name := range red {
			label := r.one(t, name)
			if label.x <= right || label.y >= above {
				t.Errorf("%s: %s at (%v, %v) is not apart from the funnel (right of %v) under the one before", lang, name, label.x, label.y, right)
			}
			above = label.y
			if n := r.text(strconv.Itoa([]int{11, 4, 1}[i])); len(n) != 1 || n[0].x <= right || n[0].y >= label.y {
				t.Errorf("%s: the count of %s is not drawn under it: %v", lang, name, n)
			}
		}
	}
}

func TestFunnelNothingOrNegative(t *testing.T) {
	empty := reports.Chart{Funnel: &reports.FunnelChart{Steps: []reports.FunnelStep{{Name: "Белый"}}}}
	if err := PNG(new(strings.Builder), empty); err != ErrNoData {
		t.Errorf("an empty funnel: %v, want ErrNoData", err)
	}
	negative := reports.Chart{Funnel: &reports.FunnelChart{Steps: []reports.FunnelStep{{Name: "Белый", Count: 2}, {Name: "Серый", Count: -1}}}}
	if err := PNG(new(strings.Builder), negative); err == nil || err == ErrNoData {
		t.Errorf("a negative count: %v, want an error", err)
	}
}
