package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unique"
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
	Class   string // an ABC/XYZ class or pair, as InClass takes it
	AtRisk  bool   // only the clients at risk of going red
	// Industry in any case; Tags: every one of them, in any case; HasTasks: only the
	// clients with an open task.
	Industry string
	Tags     []string
	HasTasks bool
	Sort     ClientSort
	Offset   int
	Limit    int // default 50
}

// ClientRow is a client as a list shows it, from the directory.
type ClientRow struct {
	ID, Name, ManagerID, City, Industry, Class string
	Stage                                      Stage
	AtRisk, HasTasks                           bool
	Tags                                       []string
	CreatedAt                                  time.Time
}

// ClientPage is one page of a client list, with how many match in all and the
// cities and industries of the clients the viewer sees (the most frequent first), to
// choose from.
type ClientPage struct {
	Rows       []ClientRow
	Total      int
	Cities     []string
	Industries []string
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
	hits, page, err := s.listHits(ctx, v, q)
	if err != nil {
		return page, err
	}
	page.Total = len(hits)
	start := min(max(q.Offset, 0), len(hits))
	for _, h := range hits[start : start+min(q.Limit, len(hits)-start)] { // a Limit of MaxInt: every one
		page.Rows = append(page.Rows, h.e.row())
	}
	return page, nil
}

// BoardColumn is a stage's clients on a board: the first of them, and how many.
type BoardColumn struct {
	Stage Stage
	Rows  []ClientRow
	Total int
}

// ClientBoard lists the clients a viewer sees by stage, filtered and sorted as
// ClientList does (q's Offset and Limit aside): each stage of the funnel (of
// q.Stages, when given) with its first n clients and their count. Loading and the
// cities and industries to choose from are as ClientList gives them.
func (s *Store) ClientBoard(ctx context.Context, v Viewer, q ClientQuery, n int) ([]BoardColumn, ClientPage, error) {
	hits, page, err := s.listHits(ctx, v, q)
	if err != nil {
		return nil, page, err
	}
	var cols []BoardColumn
	at := map[Stage]int{}
	for _, st := range Stages {
		if len(q.Stages) == 0 || slices.Contains(q.Stages, st) {
			at[st] = len(cols)
			cols = append(cols, BoardColumn{Stage: st})
		}
	}
	for _, h := range hits {
		i, ok := at[h.e.stage.Value()]
		if !ok {
			continue
		}
		col := &cols[i]
		if col.Total++; len(col.Rows) < n {
			col.Rows = append(col.Rows, h.e.row())
		}
	}
	page.Total = len(hits)
	return cols, page, nil
}

// listHits finds, filters and sorts the clients a viewer sees; the page it gives has
// the cities, the industries and Loading.
func (s *Store) listHits(ctx context.Context, v Viewer, q ClientQuery) ([]listHit, ClientPage, error) {
	var page ClientPage
	var found map[string]int // search rank by client ID
	if text := strings.TrimSpace(q.Text); text != "" {
		results, err := s.Search(ctx, v, text, math.MaxInt)
		if err != nil {
			return nil, page, err
		}
		found = make(map[string]int, len(results))
		for i, r := range results {
			found[r.ClientID] = i
		}
	}
	if !s.dir.look(ctx) {
		page.Loading = true
	}
	city, industry := strings.TrimSpace(q.City), strings.TrimSpace(q.Industry)
	var tags []string
	for _, t := range q.Tags {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	cities, industries := map[unique.Handle[string]]int{}, map[unique.Handle[string]]int{}
	var hits []listHit
	keep := func(e *dirEntry, rank int) {
		m := e.managerID()
		switch {
		case q.Manager == NoManager && m != "",
			q.Manager != "" && q.Manager != NoManager && m != q.Manager,
			city != "" && !strings.EqualFold(e.city.Value(), city),
			len(q.Stages) > 0 && !slices.Contains(q.Stages, e.stage.Value()),
			q.Class != "" && !InClass(e.class.Value(), q.Class),
			q.AtRisk && !e.atRisk,
			industry != "" && !strings.EqualFold(e.industry.Value(), industry),
			q.HasTasks && !e.tasks,
			len(tags) > 0 && !hasTags(e.tags(), tags):
			return
		}
		hits = append(hits, listHit{e: e, rank: rank, key: e.norm()})
	}
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		if !v.sees(e.managerID()) {
			continue
		}
		// The cities offered are those of every client the viewer sees, not only the
		// found ones, so a filter can be chosen before or after a search.
		cities[e.city]++
		industries[e.industry]++
		if found == nil {
			keep(e, 0)
		} else if rank, ok := found[e.id]; ok {
			keep(e, rank)
			delete(found, e.id)
		}
	}
	s.dir.mu.RUnlock()
	// Until the directory is loaded a search finds by phone, e-mail and INN only, and
	// those clients are not in it yet: read them. Entries are never changed once made,
	// so they are sorted and read outside the lock.
	for id, rank := range found {
		if c, err := s.Client(ctx, id); err == nil && v.CanSee(c) {
			keep(makeEntry(c, s.now()), rank)
		}
	}
	sortHits(hits, q.Sort, found != nil || q.Text != "")
	page.Cities, page.Industries = topCities(cities, 200), topCities(industries, 200)
	return hits, page, nil
}

// row is the entry as a list shows it.
func (e *dirEntry) row() ClientRow {
	return ClientRow{ID: e.id, Name: e.name, ManagerID: e.managerID(), City: e.city.Value(),
		Industry: e.industry.Value(), Class: e.class.Value(), Stage: e.stage.Value(), AtRisk: e.atRisk,
		HasTasks: e.tasks, Tags: e.tags(), CreatedAt: time.UnixMilli(e.created).UTC()}
}

// hasTags says whether every one of want is among have, in any case.
func hasTags(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// listHit is a client a list keeps: its entry, its search rank and its sort name.
type listHit struct {
	e    *dirEntry
	rank int
	key  string
}

func sortHits(hits []listHit, by ClientSort, searched bool) {
	index := map[Stage]int{} // a stage's place in the funnel
	for i, st := range Stages {
		index[st] = i
	}
	slices.SortFunc(hits, func(a, b listHit) int {
		var c int
		switch by {
		case SortStage:
			c = cmp.Compare(index[a.e.stage.Value()], index[b.e.stage.Value()])
		case SortCity:
			if a.e.city != b.e.city {
				c = strings.Compare(a.e.city.Value(), b.e.city.Value())
			}
		case SortNewest:
			c = cmp.Compare(b.e.created, a.e.created)
		case SortRelevance:
			if searched {
				c = cmp.Compare(a.rank, b.rank)
			}
		}
		if c != 0 {
			return c
		}
		if c = strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.e.id, b.e.id)
	})
}

// topCities names the n most frequent cities (or industries), then by name.
func topCities(count map[unique.Handle[string]]int, n int) []string {
	type city struct {
		name string
		n    int
	}
	list := make([]city, 0, len(count))
	for c, k := range count {
		if c.Value() != "" {
			list = append(list, city{c.Value(), k})
		}
	}
	slices.SortFunc(list, func(a, b city) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, 0, min(n, len(list)))
	for _, c := range list[:min(n, len(list))] {
		out = append(out, c.name)
	}
	return out
}
