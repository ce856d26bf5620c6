// Package reports computes what a head of sales reads from a phone: the funnel, the
// managers' activity, ABC/XYZ classes and lead sources. Reports read the store's
// report-ready records, never one query per client: the in-process client directory,
// and each company day's stage moves (streamed a few days at a time), activity and
// revenue.
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

// Refusal counts moves to a red stage with one reason: a quick reason by its code
// (Reason is then empty: the layout names it in the reader's language), or a reason
// in words.
type Refusal struct {
	Stage  store.Stage
	Code   store.RefusalCode
	Reason string
	N      int
}

// FunnelSource is what the funnel reads: *store.Store.
type FunnelSource interface {
	ReportClients(ctx context.Context) ([]store.ReportClient, error)
	EachStageMove(ctx context.Context, from, to time.Time, fn func(store.StageMove) error) error
}

// funnelClient is what one pass over the moves learns of a client of the cut. The
// state is kept in a slice by the client's position, not in maps by ID: at 100,000
// clients maps of them were tens of megabytes of a report's peak memory.
type funnelClient struct {
	moved, movedAfterEnd bool
	first, atEnd         store.Stage // before its first move of the period, and at the period's end
	entered, converted   uint16      // bits by position in Chain: stages reached, and those left forward
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
	pos := map[string]int32{}
	ours := clients[:0] // the cut's clients, in place
	for _, c := range clients {
		if cut.takes(c) {
			pos[c.ID] = int32(len(ours))
			ours = append(ours, c)
		}
	}
	state := make([]funnelClient, len(ours))
	// A client's stages during the period are where it began (at the period's start,
	// or when it was made during it), then where its moves took it.
	reach := func(st *funnelClient, stage store.Stage) {
		at := slices.Index(Chain, stage)
		if at < 0 {
			return
		}
		for i := range at {
			if st.entered&(1<<i) != 0 {
				st.converted |= 1 << i
			}
		}
		st.entered |= 1 << at
	}
	f := &Funnel{Period: p, InStage: map[store.Stage]Spent{}}
	spent := map[store.Stage][]time.Duration{}
	refusals := map[Refusal]int{}
	// The moves since the period began, oldest first: a client's stage at a time is
	// the stage its first move after that time left, or its stage now.
	err = src.EachStageMove(ctx, p.From, now, func(m store.StageMove) error {
		i, ok := pos[m.Client]
		if !ok {
			return nil
		}
		st := &state[i]
		if !st.moved {
			st.moved, st.first = true, m.From
			if ours[i].CreatedAt.Before(end) {
				reach(st, m.From)
			}
		}
		if !m.At.Before(end) {
			if !st.movedAfterEnd {
				st.movedAfterEnd, st.atEnd = true, m.From
			}
			return nil
		}
		f.Moves++
		reach(st, m.To)
		if !m.Since.IsZero() && m.At.After(m.Since) {
			spent[m.From] = append(spent[m.From], m.At.Sub(m.Since))
		}
		if m.To.Red() {
			r := Refusal{Stage: m.To, Code: m.Code}
			if m.Code == "" {
				r.Reason = normalizeReason(m.Reason)
			}
			refusals[r]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.Start, f.End = map[store.Stage]int{}, map[store.Stage]int{}
	for i, c := range ours {
		st := &state[i]
		if !st.moved {
			st.first = c.Stage
			if c.CreatedAt.Before(end) {
				reach(st, c.Stage)
			}
		}
		if !st.movedAfterEnd {
			st.atEnd = c.Stage
		}
		if c.CreatedAt.Before(p.From) {
			f.Start[st.first]++
		}
		if c.CreatedAt.Before(end) {
			f.End[st.atEnd]++
		}
	}
	for i := 0; i+1 < len(Chain); i++ {
		c := Conversion{From: Chain[i], To: Chain[i+1]}
		for k := range state {
			if state[k].entered&(1<<i) != 0 {
				c.Entered++
				if state[k].converted&(1<<i) != 0 {
					c.Converted++
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
	sortRefusals(f.Refusals)
	return f, nil
}

// sortRefusals puts the most frequent first.
func sortRefusals(rs []Refusal) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.N != b.N {
			return a.N > b.N
		}
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Reason < b.Reason
	})
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
