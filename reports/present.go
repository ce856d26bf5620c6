package reports

import (
	"image/color"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/crm-team/crm/store"
)

// Layout is a report ready for its reader: a title, the key figures (a line each, for
// a chat message), a chart and the full tables.
type Layout struct {
	Title   string // with the period
	Summary []string
	Chart   Chart
	Tables  []Table
	Empty   bool // the period has nothing to show: say Words.NoData, draw nothing
}

func (w Words) title(key string, p Period) string { return w.get(key) + ", " + w.Period(p) }

// Layout lays out the funnel.
func (f *Funnel) Layout(w Words) Layout {
	l := Layout{Title: w.title("funnel.title", f.Period)}
	l.Chart = Chart{Title: w.title("funnel.chart", f.Period), Unit: w.get("unit.clients"), Funnel: f.chart(w)}
	stages := Table{Name: w.get("funnel.stages"), Title: l.Title, Header: []string{w.get("col.stage"), w.get("col.at_start"), w.get("col.at_end"),
		w.get("col.goes_on_to"), w.get("col.entered"), w.get("col.went_on"), w.get("col.conversion"), w.get("col.median_days"), w.get("col.left")}}
	for _, st := range store.Stages {
		row := []any{w.stage(st), f.Start[st], f.End[st], "", "", "", "", "", ""}
		if c, ok := f.ConversionFrom(st); ok {
			row[3], row[4], row[5] = w.stage(c.To), c.Entered, c.Converted
			if c.Entered > 0 {
				row[6] = Percent(c.Rate())
			}
		}
		if sp, ok := f.InStage[st]; ok {
			row[7], row[8] = roundTo(sp.Median.Hours()/24, 1), sp.N
		}
		stages.Rows = append(stages.Rows, row)
	}
	refusals := Table{Name: w.get("funnel.refusals"), Title: w.get("funnel.refusals") + ", " + w.Period(f.Period),
		Header: []string{w.get("col.stage"), w.get("col.reason"), w.get("col.clients")}}
	named := f.namedRefusals(w)
	for _, r := range named {
		refusals.Rows = append(refusals.Rows, []any{w.stage(r.Stage), r.Reason, r.N})
	}
	l.Tables = []Table{stages, refusals}
	l.Summary = append(l.Summary, w.get("funnel.moves", "n", strconv.Itoa(f.Moves)))
	for _, c := range f.Conversions {
		if c.Entered > 0 {
			l.Summary = append(l.Summary, w.get("funnel.conversion", "from", w.stage(c.From), "to", w.stage(c.To),
				"converted", strconv.Itoa(c.Converted), "entered", strconv.Itoa(c.Entered), "rate", pct(c.Rate())))
		}
	}
	if len(named) > 0 {
		l.Summary = append(l.Summary, w.get("funnel.top_refusal", "reason", named[0].Reason, "n", strconv.Itoa(named[0].N)))
	}
	l.Empty = true
	for _, st := range store.Stages {
		if f.Start[st] != 0 || f.End[st] != 0 {
			l.Empty = false
		}
	}
	return l
}

// stageColors are the methodology's colours of the stages, as a picture shows them:
// deep enough to stand out on white, white itself drawn with an outline.
var stageColors = map[store.Stage]color.RGBA{
	store.StageWhite:       {0xff, 0xff, 0xff, 0xff},
	store.StageGrey:        {0x9e, 0x9e, 0x9e, 0xff},
	store.StageGreen:       {0x43, 0xa0, 0x47, 0xff},
	store.StageYellow:      {0xfd, 0xd8, 0x35, 0xff},
	store.StageGreenGold:   {0xaf, 0xb4, 0x2b, 0xff},
	store.StageGold:        {0xd4, 0xa0, 0x17, 0xff},
	store.StagePlatinum:    {0xb8, 0xc6, 0xd1, 0xff},
	store.StageRedGreen:    {0xef, 0x53, 0x50, 0xff},
	store.StageRedGold:     {0xd3, 0x2f, 0x2f, 0xff},
	store.StageRedPlatinum: {0x9a, 0x1b, 0x1b, 0xff},
}

// chart draws the funnel as one: the clients in each stage of Chain at the period's
// end, with how many went on from it during the period written under it; the red
// stages apart.
func (f *Funnel) chart(w Words) *FunnelChart {
	fc := &FunnelChart{ApartTitle: w.get("funnel.refusals"), Note: w.get("funnel.note")}
	for _, st := range store.Stages {
		step := FunnelStep{Name: w.stage(st), Count: f.End[st], Color: stageColors[st]}
		if st.Red() {
			fc.Apart = append(fc.Apart, step)
			continue
		}
		if c, ok := f.ConversionFrom(st); ok && c.Entered > 0 {
			step.Next = w.get("funnel.went_on", "rate", pct(c.Rate()),
				"converted", groupThousands(int64(c.Converted)), "entered", groupThousands(int64(c.Entered)))
		}
		fc.Steps = append(fc.Steps, step)
	}
	return fc
}

// namedRefusals are the refusals with their reasons in words: a quick reason named in
// w's language, and counted together with the same words typed (in any case).
func (f *Funnel) namedRefusals(w Words) []Refusal {
	type key struct {
		stage  store.Stage
		reason string
	}
	var out []Refusal
	at := map[key]int{}
	for _, r := range f.Refusals {
		coded := r.Code != ""
		if coded {
			r.Code, r.Reason = "", w.get("refusal."+string(r.Code))
		}
		k := key{r.Stage, strings.ToLower(r.Reason)}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		out[i].N += r.N
		if coded {
			out[i].Reason = r.Reason // the label's own spelling
		}
	}
	sortRefusals(out)
	return out
}

// workColumn is one of a manager's figures: its heading's key and how it is read.
type workColumn struct {
	key string
	of  func(Work) int64
}

// workColumns are the managers' table's figures, in order.
var workColumns = []workColumn{
	{"col.calls", func(w Work) int64 { return w.Calls }},
	{"col.meetings", func(w Work) int64 { return w.Meetings }},
	{"col.notes", func(w Work) int64 { return w.Notes }},
	{"col.mail_in", func(w Work) int64 { return w.MailIn }},
	{"col.mail_out", func(w Work) int64 { return w.MailOut }},
	{"col.replies_on_time", func(w Work) int64 { return w.RepliesOnTime }},
	{"col.replies_late", func(w Work) int64 { return w.RepliesLate }},
	{"col.tasks_done", func(w Work) int64 { return w.TasksDone }},
	{"col.tasks_overdue", func(w Work) int64 { return w.TasksOverdue }},
	{"col.forward", func(w Work) int64 { return w.MovesForward }},
	{"col.back", func(w Work) int64 { return w.MovesBack }},
	{"col.new_clients", func(w Work) int64 { return w.NewClients }},
	{"col.orders", func(w Work) int64 { return w.Orders }},
	{"col.revenue", func(w Work) int64 { return w.Revenue }},
}

// Layout lays out the managers' activity.
func (t *Team) Layout(w Words) Layout {
	l := Layout{Title: w.title("managers.title", t.Period)}
	outcomes := map[string]bool{}
	for _, m := range t.Managers {
		for k := range m.Now.CallsByOutcome {
			outcomes[k] = true
		}
		for k := range m.Before.CallsByOutcome {
			outcomes[k] = true
		}
	}
	outcomeKeys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		outcomeKeys = append(outcomeKeys, k)
	}
	sort.Strings(outcomeKeys)
	header := []string{w.get("col.manager")}
	for _, c := range workColumns {
		header = append(header, w.get(c.key))
	}
	for _, k := range outcomeKeys {
		header = append(header, w.get("col.calls_outcome", "outcome", w.get("outcome."+k)))
	}
	lines := func(name string, p Period, of func(ManagerWork) Work) Table {
		tb := Table{Name: name, Title: name + ", " + w.Period(p), Header: header}
		shown := t.Managers
		if len(t.Managers) > 1 {
			shown = append(slices.Clone(t.Managers), ManagerWork{Name: w.get("team"), Now: t.Total.Now, Before: t.Total.Before})
		}
		for _, m := range shown {
			row := []any{w.managerName(m)}
			work := of(m)
			for _, c := range workColumns {
				if c.key == "col.revenue" {
					row = append(row, money(c.of(work)))
				} else {
					row = append(row, c.of(work))
				}
			}
			for _, k := range outcomeKeys {
				row = append(row, work.CallsByOutcome[k])
			}
			tb.Rows = append(tb.Rows, row)
		}
		return tb
	}
	now := lines(w.get("managers.now"), t.Period, func(m ManagerWork) Work { return m.Now })
	before := lines(w.get("managers.before"), t.Previous, func(m ManagerWork) Work { return m.Before })
	compare := Table{Name: w.get("managers.compare"), Title: w.get("managers.compare") + ": " + w.Period(t.Period) + " / " + w.Period(t.Previous),
		Header: []string{w.get("col.metric"), w.get("col.now"), w.get("col.previous"), w.get("col.change")}}
	for _, c := range workColumns {
		a, b := c.of(t.Total.Now), c.of(t.Total.Before)
		if c.key == "col.revenue" {
			compare.Rows = append(compare.Rows, []any{w.get(c.key), money(a), money(b), w.change(a, b)})
		} else {
			compare.Rows = append(compare.Rows, []any{w.get(c.key), a, b, w.change(a, b)})
		}
	}
	l.Tables = []Table{now, compare, before}

	l.Chart = Chart{Title: w.title("managers.chart", t.Period), Unit: w.get("unit.count")}
	var charted []workColumn
	for _, c := range workColumns {
		if slices.Contains([]string{"col.calls", "col.meetings", "col.mail_out", "col.orders"}, c.key) {
			charted = append(charted, c)
		}
	}
	for _, c := range charted {
		l.Chart.Series = append(l.Chart.Series, Series{Name: w.get(c.key)})
	}
	for _, m := range t.Managers {
		if m.ManagerID == store.NoManager && !slices.ContainsFunc(charted, func(c workColumn) bool { return c.of(m.Now) != 0 }) {
			continue // its figures are elsewhere (notes, letters in): an empty column says nothing
		}
		l.Chart.Labels = append(l.Chart.Labels, w.managerName(m))
		for i, c := range charted {
			l.Chart.Series[i].Values = append(l.Chart.Series[i].Values, float64(c.of(m.Now)))
		}
	}
	total, prev := t.Total.Now, t.Total.Before
	for _, f := range []struct {
		key       string
		now, then int64
		show      string
	}{
		{"col.calls", total.Calls, prev.Calls, strconv.FormatInt(total.Calls, 10)},
		{"col.meetings", total.Meetings, prev.Meetings, strconv.FormatInt(total.Meetings, 10)},
		{"col.orders", total.Orders, prev.Orders, strconv.FormatInt(total.Orders, 10)},
		// The column's name carries the currency; the sum says it already.
		{"managers.revenue", total.Revenue, prev.Revenue, w.money(total.Revenue)},
		{"col.new_clients", total.NewClients, prev.NewClients, strconv.FormatInt(total.NewClients, 10)},
	} {
		l.Summary = append(l.Summary, w.get("managers.figure", "what", w.get(f.key), "now", f.show, "change", w.change(f.now, f.then)))
	}
	if answered := total.RepliesOnTime + total.RepliesLate; answered > 0 {
		l.Summary = append(l.Summary, w.get("managers.replies", "rate", pct(float64(total.RepliesOnTime)/float64(answered)),
			"n", strconv.FormatInt(total.RepliesOnTime, 10), "total", strconv.FormatInt(answered, 10)))
	}
	l.Empty = true
	for _, c := range workColumns {
		if c.of(total) != 0 {
			l.Empty = false
		}
	}
	return l
}

func (w Words) managerName(m ManagerWork) string {
	if m.ManagerID == store.NoManager {
		return w.get("manager.none")
	}
	return m.Name
}

// SourcesLayout lays out the lead sources of p.
func SourcesLayout(rows []SourceRow, p Period, w Words) Layout {
	l := Layout{Title: w.title("sources.title", p)}
	tb := Table{Name: w.get("sources.title"), Title: l.Title,
		Header: []string{w.get("col.source"), w.get("col.new_clients"), w.get("col.to_gold"), w.get("col.orders"), w.get("col.revenue")}}
	l.Chart = Chart{Title: w.title("sources.chart", p), Unit: w.get("unit.clients"),
		Series: []Series{{Name: w.get("col.new_clients")}, {Name: w.get("col.to_gold")}}}
	var newClients, gold int
	for _, r := range rows {
		src := r.Source
		if src == "" {
			src = w.get("source.none")
		}
		tb.Rows = append(tb.Rows, []any{src, r.NewClients, r.ToGold, r.PaidOrders, money(r.Revenue)})
		l.Chart.Labels = append(l.Chart.Labels, src)
		l.Chart.Series[0].Values = append(l.Chart.Series[0].Values, float64(r.NewClients))
		l.Chart.Series[1].Values = append(l.Chart.Series[1].Values, float64(r.ToGold))
		newClients += r.NewClients
		gold += r.ToGold
	}
	l.Tables = []Table{tb}
	if len(rows) > 0 && rows[0].Revenue > 0 {
		src := rows[0].Source
		if src == "" {
			src = w.get("source.none")
		}
		l.Summary = append(l.Summary, w.get("sources.top", "source", src, "revenue", w.money(rows[0].Revenue)))
	}
	l.Summary = append(l.Summary, w.get("sources.total", "n", strconv.Itoa(newClients), "gold", strconv.Itoa(gold)))
	l.Empty = len(rows) == 0
	return l
}

// ClassesLayout lays out the ABC/XYZ classes of p; names are the clients' names by ID.
func ClassesLayout(classes []ClientClass, names map[string]string, p Period, w Words) Layout {
	l := Layout{Title: w.title("abc.title", p)}
	grid := Table{Name: w.get("abc.grid"), Title: l.Title,
		Header: []string{w.get("col.class"), w.get("col.clients"), w.get("col.revenue"), w.get("col.share")}}
	all := Table{Name: w.get("abc.clients"), Title: l.Title, Header: []string{w.get("col.client"), w.get("col.revenue"), w.get("col.share"),
		w.get("col.abc"), w.get("col.variation"), w.get("col.xyz")}}
	type cell struct {
		n       int
		revenue int64
	}
	cells := map[string]*cell{}
	var total int64
	for _, c := range classes {
		k := c.ABC + c.XYZ
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		cells[k].n++
		cells[k].revenue += c.Revenue
		total += c.Revenue
		name := names[c.ClientID]
		if name == "" {
			name = c.ClientID
		}
		all.Rows = append(all.Rows, []any{name, money(c.Revenue), Percent(c.Share), c.ABC, Percent(c.Variation), c.XYZ})
	}
	l.Chart = Chart{Title: w.title("abc.chart", p), Unit: w.get("unit.clients"), Labels: []string{"A", "B", "C"}}
	for _, x := range []string{"X", "Y", "Z"} {
		s := Series{Name: x}
		for _, a := range []string{"A", "B", "C"} {
			n, revenue := 0, int64(0)
			if c := cells[a+x]; c != nil {
				n, revenue = c.n, c.revenue
			}
			s.Values = append(s.Values, float64(n))
			share := 0.0
			if total > 0 {
				share = float64(revenue) / float64(total)
			}
			grid.Rows = append(grid.Rows, []any{a + x, n, money(revenue), Percent(share)})
		}
		l.Chart.Series = append(l.Chart.Series, s)
	}
	sort.SliceStable(grid.Rows, func(i, j int) bool { return grid.Rows[i][0].(string) < grid.Rows[j][0].(string) })
	for _, a := range []string{"A", "B", "C"} {
		n, revenue := 0, int64(0)
		for _, x := range []string{"X", "Y", "Z"} {
			if c := cells[a+x]; c != nil {
				n += c.n
				revenue += c.revenue
			}
		}
		if n > 0 {
			l.Summary = append(l.Summary, w.get("abc.class", "class", a, "n", strconv.Itoa(n), "share", pct(float64(revenue)/float64(total))))
		}
	}
	l.Tables = []Table{grid, all}
	l.Empty = len(classes) == 0
	return l
}

func roundTo(v float64, places int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	return p
}
