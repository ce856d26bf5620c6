package chart

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

// november is the period of the samples.
var november = reports.Period{
	From: time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC),
	To:   time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC),
}

// sampleFunnel is a year-old base: many white clients, some gold, a few platinum,
// some refusals; scale multiplies every count.
func sampleFunnel(scale int) *reports.Funnel {
	return funnelOf(scale, map[store.Stage]int{store.StageWhite: 120, store.StageGrey: 64, store.StageGreen: 31,
		store.StageYellow: 18, store.StageGreenGold: 9, store.StageGold: 14, store.StagePlatinum: 3,
		store.StageRedGreen: 11, store.StageRedGold: 4, store.StageRedPlatinum: 1},
		[]int{140, 80, 40, 22, 12, 15}, []int{52, 26, 12, 7, 4, 1})
}

// newTeamFunnel is a new team's first month: a handful of clients, none gold yet.
func newTeamFunnel() *reports.Funnel {
	return funnelOf(1, map[store.Stage]int{store.StageWhite: 5, store.StageGrey: 3, store.StageGreen: 2,
		store.StageYellow: 1, store.StageGreenGold: 1, store.StageRedGreen: 1},
		[]int{6, 4, 2, 1, 1, 0}, []int{3, 2, 1, 1, 0, 0})
}

// funnelOf is a November funnel with end counts, and entered and went on along Chain.
func funnelOf(scale int, end map[store.Stage]int, entered, went []int) *reports.Funnel {
	f := &reports.Funnel{Period: november, Start: map[store.Stage]int{}, End: map[store.Stage]int{},
		InStage: map[store.Stage]reports.Spent{}}
	for st, n := range end {
		f.End[st] = n * scale
		f.Start[st] = n * scale * 9 / 10
	}
	for i := 0; i+1 < len(reports.Chain); i++ {
		f.Conversions = append(f.Conversions, reports.Conversion{From: reports.Chain[i], To: reports.Chain[i+1],
			Entered: entered[i] * scale, Converted: went[i] * scale})
	}
	return f
}

// sampleTeam is four managers and the clients without one; calls are counted in units
// when small, and in hundreds for a large team.
func sampleTeam(small bool, noManager bool) *reports.Team {
	t := &reports.Team{Period: november, Previous: reports.Previous(november)}
	names := []string{"Анна Кузнецова", "Борис Петров", "Виктория Сидоренко-Ковалёва", "Григорий Ли"}
	calls := []int64{412, 388, 157, 240}
	meet := []int64{31, 22, 9, 17}
	out := []int64{120, 95, 44, 60}
	orders := []int64{12, 7, 3, 5}
	if small {
		calls, meet, out, orders = []int64{3, 1, 5, 2}, []int64{1, 0, 2, 0}, []int64{2, 1, 0, 4}, []int64{0, 0, 0, 0}
	}
	for i, n := range names {
		m := reports.ManagerWork{ManagerID: n, Name: n, Now: reports.Work{Calls: calls[i], Meetings: meet[i], MailOut: out[i], Orders: orders[i]}}
		t.Managers = append(t.Managers, m)
	}
	none := reports.ManagerWork{ManagerID: store.NoManager, Now: reports.Work{Notes: 2}}
	if noManager {
		none.Now.MailOut = 7
	}
	t.Managers = append(t.Managers, none)
	for _, m := range t.Managers {
		t.Total.Now.Calls += m.Now.Calls
		t.Total.Now.Meetings += m.Now.Meetings
		t.Total.Now.MailOut += m.Now.MailOut
		t.Total.Now.Orders += m.Now.Orders
		t.Total.Now.Notes += m.Now.Notes
	}
	return t
}

func sampleSources() []reports.SourceRow {
	return []reports.SourceRow{
		{Source: "Выставка «Стройка-2026»", NewClients: 48, ToGold: 6, Revenue: 184500000},
		{Source: "Сайт", NewClients: 120, ToGold: 9, Revenue: 96000000},
		{Source: "Рекомендация", NewClients: 14, ToGold: 5, Revenue: 75000000},
		{Source: "Холодный звонок", NewClients: 33, ToGold: 1, Revenue: 12000000},
		{Source: "", NewClients: 5, ToGold: 0},
	}
}

// TestWriteSamples draws every report's chart with realistic figures into
// $CHART_SAMPLES, to be looked at; without it, it does nothing.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("CHART_SAMPLES")
	if dir == "" {
		t.Skip("CHART_SAMPLES is not set")
	}
	for _, lang := range []string{"ru", "en"} {
		w, err := reports.LoadWords(lang)
		if err != nil {
			t.Fatal(err)
		}
		charts := map[string]reports.Chart{
			"funnel":         sampleFunnel(1).Layout(w).Chart,
			"funnel-large":   sampleFunnel(40).Layout(w).Chart,
			"funnel-small":   newTeamFunnel().Layout(w).Chart,
			"managers":       sampleTeam(false, true).Layout(w).Chart,
			"managers-small": sampleTeam(true, false).Layout(w).Chart,
			"many":           funnel(),
			"sources":        reports.SourcesLayout(sampleSources(), november, w).Chart,
			"abc": reports.ClassesLayout([]reports.ClientClass{{ClientID: "a", ABC: "A", XYZ: "X", Revenue: 100},
				{ClientID: "b", ABC: "A", XYZ: "Y", Revenue: 80}, {ClientID: "c", ABC: "B", XYZ: "X", Revenue: 20},
				{ClientID: "d", ABC: "C", XYZ: "Z", Revenue: 5}, {ClientID: "e", ABC: "C", XYZ: "Z", Revenue: 3}},
				nil, november, w).Chart,
		}
		for name, c := range charts {
			var buf bytes.Buffer
			if err := PNG(&buf, c); err != nil {
				t.Fatalf("%s %s: %v", name, lang, err)
			}
			writeFile(t, filepath.Join(dir, name+"-"+lang+".png"), buf.Bytes())
			// As a chat on a phone shows it: about 400 points wide.
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			small := image.NewRGBA(image.Rect(0, 0, 400, 400*Height/Width))
			xdraw.CatmullRom.Scale(small, small.Bounds(), img, img.Bounds(), xdraw.Src, nil)
			buf.Reset()
			if err := png.Encode(&buf, small); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "phone", name+"-"+lang+".png"), buf.Bytes())
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
