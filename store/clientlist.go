package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// ClientSort orders a client list.
type ClientSort string

// Orders of a client list. Without one, a search lists by relevance (as the bot
// ranks) and a plain list by name.
const (
	SortRelevance ClientSort = ""
	SortName      ClientSort = "name"
	SortStage     ClientSort = "stage"
	SortCity      ClientSort = "city"
	SortNewest    ClientSort = "newest"
)

// ClientQuery asks for a page of the clients a viewer sees.
type ClientQuery struct {
	Text   string  // a search as the bot takes it: name, phone, e-mail, INN, class:AX
	Stages []Stage // any of them; none: every stage
	// Manager keeps one manager's clients; NoManager ("-") the unassigned ones.
	Manager string
	City    string // in any case
	Sort    ClientSort
	Offset  int
	Limit   int // default 50
}

// ClientRow is a client as a list shows it, from the directory.
type ClientRow struct {
	ID, Name, ManagerID, City, Industry, Class string
	Stage                                      Stage
	AtRisk                                     bool
	CreatedAt                                  time.Time
	sortKey                                    string
}

// ClientPage is one page of a client list, with how many match in all and the
// cities of the clients the viewer sees (the most frequent first), to choose from.
type ClientPage struct {
	Rows   []ClientRow
	Total  int
	Cities []string
	// Loading: the directory is not loaded yet, so a name search found keys only.
	Loading bool
}

// ClientList lists the clients a viewer sees, searched, filtered, sorted and cut to a
// page, from the in-process directory: no database scan, whatever the filter. A
// search finds and ranks as the bot's does (Search).
func (s *Store) ClientList(ctx context.Context, v Viewer, q ClientQuery) (ClientPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var page ClientPage
	var found map[string]int // search rank by client ID
	if text := strings.TrimSpace(q.Text); text != "" {
		hits, err := s.Search(ctx, v, text, math.MaxInt)
		if err != nil {
			return page, err
		}
		found = make(map[string]int, len(hits))
		for i, h := range hits {
			found[h.ClientID] = i
		}
	}
	if !s.dir.look(ctx) {
		page.Loading = true
	}
	city := strings.ToLower(strings.TrimSpace(q.City))
	cities := map[string]int{}
	var rows []ClientRow
	s.dir.mu.RLock()
	each := func(e *dirEntry) {
		m := e.managerID()
		if !v.sees(m) {
			return
		}
		c := e.city.Value()
		if c != "" {
			cities[c]++
		}
		switch {
		case q.Manager == NoManager && m != "",
			q.Manager != "" && q.Manager != NoManager && m != q.Manager,
			city != "" && strings.ToLower(c) != city,
			len(q.Stages) > 0 && !slices.Contains(q.Stages, e.stage.Value()):
			return
		}
		rows = append(rows, ClientRow{ID: e.id, Name: e.name, ManagerID: m, City: c, Industry: e.industry.Value(),
			Class: e.class.Value(), Stage: e.stage.Value(), AtRisk: e.atRisk, CreatedAt: time.UnixMilli(e.created).UTC(), sortKey: e.norm()})
	}
	if found != nil {
		// The cities offered are those of every client the viewer sees, not only the
		// found ones, so a filter can be chosen before or after a search.
		for _, e := range s.dir.entries.list {
			if _, ok := found[e.id]; ok {
				each(e)
			} else if c := e.city.Value(); c != "" && v.sees(e.managerID()) {
				cities[c]++
			}
		}
	} else {
		for _, e := range s.dir.entries.list {
			each(e)
		}
	}
	s.dir.mu.RUnlock()
	if found != nil && page.Loading {
		// Until the directory is loaded a search finds by phone, e-mail and INN only,
		// and those clients are not in it yet: read them.
		for id := range found {
			if c, err := s.Client(ctx, id); err == nil {
				rows = append(rows, rowOf(c))
			}
		}
	}
	sortRows(rows, q.Sort, found)
	page.Total = len(rows)
	start := min(max(q.Offset, 0), len(rows))
	page.Rows = rows[start:min(start+q.Limit, len(rows))]
	page.Cities = topCities(cities, 200)
	return page, nil
}

func rowOf(c *Client) ClientRow {
	return ClientRow{ID: c.ID, Name: c.Name, ManagerID: c.ManagerID, City: c.City, Industry: c.Industry, Class: c.Class,
		Stage: c.Stage, AtRisk: c.AtRiskSince != nil, CreatedAt: c.CreatedAt, sortKey: NormalizeName(c.Name)}
}

func sortRows(rows []ClientRow, by ClientSort, rank map[string]int) {
	stageAt := func(st Stage) int { return slices.Index(Stages, st) }
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		var c int
		switch by {
		case SortStage:
			c = cmp.Compare(stageAt(a.Stage), stageAt(b.Stage))
		case SortCity:
			c = cmp.Compare(strings.ToLower(a.City), strings.ToLower(b.City))
		case SortNewest:
			c = b.CreatedAt.Compare(a.CreatedAt)
		case SortRelevance:
			if rank != nil {
				c = cmp.Compare(rank[a.ID], rank[b.ID])
			}
		}
		if c != 0 {
			return c < 0
		}
		if a.sortKey != b.sortKey {
			return a.sortKey < b.sortKey
		}
		return a.ID < b.ID
	})
}

// topCities names the n most frequent cities, then by name.
func topCities(count map[string]int, n int) []string {
	out := make([]string, 0, len(count))
	for c := range count {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if count[out[i]] != count[out[j]] {
			return count[out[i]] > count[out[j]]
		}
		return out[i] < out[j]
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
