// Package reports computes what a head of sales reads from a phone: the funnel, the
// managers' activity, ABC/XYZ classes and lead sources. Reports read the store's
// report-ready records (the in-process directory, the month documents of stage moves)
// or stream a collection once (the paid orders), never one query per client.
package reports

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// Period is [From, To).
type Period struct{ From, To time.Time }

// Cut narrows a report to the clients of a city, an industry, a lead source or a
// manager; empty fields take every client.
type Cut struct{ City, Industry, LeadSource, ManagerID string }

func (c Cut) takes(fc store.ReportClient) bool {
	return (c.City == "" || strings.EqualFold(c.City, fc.City)) &&
		(c.Industry == "" || strings.EqualFold(c.Industry, fc.Industry)) &&
		(c.LeadSource == "" || strings.EqualFold(c.LeadSource, fc.LeadSource)) &&
		(c.ManagerID == "" || c.ManagerID == fc.ManagerID)
}

// Chain is the funnel's way forward; the red stages are ways out of it.
var Chain = []store.Stage{store.StageWhite, store.StageGrey, store.StageGreen, store.StageYellow, store.StageGreenGold,
	store.StageGold, store.StagePlatinum}

// Funnel is the funnel over a period.
type Funnel struct {
	Period Period
	// Start and End count clients per stage when the period began and when it ended
	// (or now, for a period not over).
	Start, End map[store.Stage]int
	// Conversions are between consecutive stages of Chain over the period.
	Conversions []Conversion
	// InStage is the median time spent in a stage by the clients who left it during
	// the period, and how many left it.
	InStage map[store.Stage]Spent
	// Refusals are the moves to a red stage during the period, by reason, most first.
	Refusals []Refusal
	Moves    int // stage moves during the period
}

// Conversion says how many clients were in a stage during the period and how many of
// them went further along Chain in it.
type Conversion struct {
	From, To           store.Stage
	Entered, Converted int
}

// ConversionFrom is the conversion out of stage st; false for a stage Chain does not
// lead on from.
func (f *Funnel) ConversionFrom(st store.Stage) (Conversion, bool) {
	for _, c := range f.Conversions {
		if c.From == st {
			return c, true
		}
	}
	return Conversion{}, false
}

// Rate is Converted as a share of Entered (0 when nobody entered).
func (c Conversion) Rate() float64 {
	if c.Entered == 0 {
		return 0
	}
	return float64(c.Converted) / float64(c.Entered)
}

// Spent is the median time in a stage and how many stays it is the median of.
type Spent struct {
	Median time.Duration
	N      int
}

// Refusal counts moves to a red stage with one reason.
type Refusal struct {
	Stage  store.Stage
	Reason string
	N      int
}

// FunnelSource is what the funnel reads: *store.Store.
type FunnelSource interface {
	ReportClients(ctx context.Context) ([]store.ReportClient, error)
	StageMoves(ctx context.Context, from, to time.Time) ([]store.StageMove, error)
}

// ComputeFunnel computes the funnel of the clients in cut over p, as of now.
func ComputeFunnel(ctx context.Context, src FunnelSource, p Period, cut Cut, now time.Time) (*Funnel, error) {
	clients, err := src.ReportClients(ctx)
	if err != nil {
		return nil, err
	}
	end := p.To
	if end.After(now) {
		end = now
	}
	moves, err := src.StageMoves(ctx, p.From, now)
	if err != nil {
		return nil, err
	}
	in := map[string]store.ReportClient{}
	for _, c := range clients {
		if cut.takes(c) {
			in[c.ID] = c
		}
	}
	ours := moves[:0] // the cut's moves since the period began, oldest first, in place
	for _, m := range moves {
		if _, ok := in[m.Client]; ok {
			ours = append(ours, m)
		}
	}
	f := &Funnel{Period: p, InStage: map[store.Stage]Spent{}}
	start := stagesAt(in, ours, p.From)
	f.Start, f.End = count(start), count(stagesAt(in, ours, end))

	// The stages each client was in during the period: where it began (at the
	// period's start, or when it was made during it), then where its moves took it.
	reached := map[string][]store.Stage{}
	for id, st := range stagesAt(in, ours, time.Time{}) {
		if in[id].CreatedAt.Before(end) {
			reached[id] = []store.Stage{st}
		}
	}
	spent := map[store.Stage][]time.Duration{}
	refusals := map[Refusal]int{}
	for _, m := range ours {
		if !m.At.Before(end) {
			break
		}
		f.Moves++
		reached[m.Client] = append(reached[m.Client], m.To)
		if !m.Since.IsZero() && m.At.After(m.Since) {
			spent[m.From] = append(spent[m.From], m.At.Sub(m.Since))
		}
		if m.To.Red() {
			refusals[Refusal{Stage: m.To, Reason: normalizeReason(m.Reason)}]++
		}
	}
	for i := 0; i+1 < len(Chain); i++ {
		c := Conversion{From: Chain[i], To: Chain[i+1]}
		for _, stages := range reached {
			at := slices.Index(stages, Chain[i])
			if at < 0 {
				continue
			}
			c.Entered++
			for _, later := range stages[at+1:] {
				if slices.Index(Chain, later) > i {
					c.Converted++
					break
				}
			}
		}
		f.Conversions = append(f.Conversions, c)
	}
	for st, ds := range spent {
		slices.Sort(ds)
		med := ds[len(ds)/2]
		if len(ds)%2 == 0 {
			med = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
		}
		f.InStage[st] = Spent{Median: med, N: len(ds)}
	}
	for r, n := range refusals {
		r.N = n
		f.Refusals = append(f.Refusals, r)
	}
	sort.Slice(f.Refusals, func(i, j int) bool {
		a, b := f.Refusals[i], f.Refusals[j]
		if a.N != b.N {
			return a.N > b.N
		}
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		return a.Reason < b.Reason
	})
	return f, nil
}

// stagesAt is each client's stage at t: its stage now, with the moves made since t
// undone, newest first. Clients made after t are left out; a zero t undoes every move
// given and keeps every client.
func stagesAt(clients map[string]store.ReportClient, moves []store.StageMove, t time.Time) map[string]store.Stage {
	out := make(map[string]store.Stage, len(clients))
	for id, c := range clients {
		if t.IsZero() || c.CreatedAt.Before(t) {
			out[id] = c.Stage
		}
	}
	for i := len(moves) - 1; i >= 0 && !moves[i].At.Before(t); i-- {
		if _, ok := out[moves[i].Client]; ok {
			out[moves[i].Client] = moves[i].From
		}
	}
	return out
}

func count(stages map[string]store.Stage) map[store.Stage]int {
	out := map[store.Stage]int{}
	for _, st := range stages {
		out[st]++
	}
	return out
}

// normalizeReason groups reasons typed differently: case, spaces and a final full stop.
func normalizeReason(r string) string {
	r = strings.Join(strings.Fields(r), " ")
	r = strings.TrimRight(r, ".!")
	if r == "" {
		return "—"
	}
	runes := []rune(strings.ToLower(r))
	runes[0] = []rune(strings.ToUpper(string(runes[0])))[0]
	return string(runes)
}
