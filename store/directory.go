package store

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unique"

	"golang.org/x/sync/errgroup"
)

type dirEntry struct {
	id, name string
	// joined holds the name's search forms separated by \x00, NormalizeName(name) first,
	// then every word with legal forms kept and the transliterations ("romashka" finds
	// "Ромашка"): one Contains rejects most entries at once, and one string is all an
	// entry keeps of them (at 100,000 clients the directory is most of a process's heap).
	joined string
	// Fields that few distinct values fill are interned: one copy of "Москва" for all.
	manager   unique.Handle[string]
	stage     unique.Handle[Stage]
	city      unique.Handle[string] // city, industry, lead source and creation: what funnel reports cut by
	industry  unique.Handle[string]
	source    unique.Handle[string]
	class     unique.Handle[string] // ABC/XYZ, and the at-risk flag: what the nightly job compares with
	created   int64                 // Unix milliseconds, what the database keeps of a time
	firstPaid int64                 // the first order paid in full (Unix ms; 0: none): gold for the lead sources
	atRisk    bool
	tasks     bool // has an open task (the card's copy of them)
	birthdays []dirBirthday
	domains   []string // of the website and every e-mail: letters from unknown senders match by them
	emails    []string // the client's and its contacts' addresses, lower case: whose letter is it
	// mail is what a campaign's segment and letters read of the client, packed
	// (dirsegment.go); "" when unknown (read the client instead). at is when the
	// entry's data was current, by the store's clock (Unix nanoseconds): opt-outs
	// recorded since are read from the client itself.
	mail string
	at   int64
}

// norm is NormalizeName(name): what results sort by.
func (e *dirEntry) norm() string {
	norm, _, _ := strings.Cut(e.joined, "\x00")
	return norm
}

func (e *dirEntry) managerID() string { return e.manager.Value() }

type dirBirthday struct {
	month, day    int8
	contact, name string
}

// entrySet keeps entries in a slice (scanned on every search, faster than a map) with
// an index by client ID for updates.
type entrySet struct {
	list     []*dirEntry
	pos      map[string]int
	byDomain map[string][]string // domain -> client IDs
	byEmail  map[string]string   // address -> client ID
}

func newEntrySet(n int) entrySet {
	return entrySet{list: make([]*dirEntry, 0, n), pos: make(map[string]int, n), byDomain: map[string][]string{},
		byEmail: make(map[string]string, n)}
}

func (s *entrySet) put(e *dirEntry) {
	for _, d := range e.domains {
		s.byDomain[d] = append(s.byDomain[d], e.id)
	}
	for _, em := range e.emails {
		s.byEmail[em] = e.id
	}
	if i, ok := s.pos[e.id]; ok {
		s.unindex(s.list[i], e)
		s.list[i] = e
		return
	}
	s.pos[e.id] = len(s.list)
	s.list = append(s.list, e)
}

// unindex drops an entry's old domains and addresses; put indexes the replacement's
// first (nil when the entry is removed).
func (s *entrySet) unindex(old, replacement *dirEntry) {
	for _, em := range old.emails {
		if s.byEmail[em] == old.id && (replacement == nil || !slices.Contains(replacement.emails, em)) {
			delete(s.byEmail, em)
		}
	}
	for _, d := range old.domains {
		ids := s.byDomain[d]
		for k := len(ids) - 1; k >= 0; k-- {
			if ids[k] == old.id {
				ids = append(ids[:k], ids[k+1:]...)
				break
			}
		}
		if len(ids) == 0 {
			delete(s.byDomain, d)
		} else {
			s.byDomain[d] = ids
		}
	}
}

func (s *entrySet) remove(id string) {
	i, ok := s.pos[id]
	if !ok {
		return
	}
	s.unindex(s.list[i], nil)
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.pos[s.list[i].id] = i
	s.list = s.list[:last]
	delete(s.pos, id)
}

// makeEntry makes a client's entry from its data as of at.
func makeEntry(c *Client, at time.Time) *dirEntry {
	full := normalizeQuery(c.Name)
	norm := NormalizeName(c.Name)
	forms := []string{norm}
	for _, f := range []string{full, transliterate(norm), transliterate(full)} {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	e := &dirEntry{id: c.ID, name: c.Name, joined: strings.Join(forms, "\x00"),
		manager: unique.Make(c.ManagerID), stage: unique.Make(c.Stage), city: unique.Make(c.City), industry: unique.Make(c.Industry),
		source: unique.Make(c.LeadSource), class: unique.Make(c.Class), created: c.CreatedAt.UnixMilli(), atRisk: c.AtRiskSince != nil,
		firstPaid: unixMilliOf(c.FirstPaidAt), tasks: len(c.Tasks) > 0 || c.NextContactAt != nil,
		mail: packMail(c), at: at.UnixNano()}
	addDomain := func(d string) {
		d = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "www.")
		if d != "" && !slices.Contains(e.domains, d) {
			e.domains = append(e.domains, d)
		}
	}
	if c.Website != "" {
		site := c.Website
		if !strings.Contains(site, "://") {
			site = "http://" + site
		}
		if u, err := url.Parse(site); err == nil {
			addDomain(u.Hostname())
		}
	}
	addEmail := func(em string) {
		em = strings.ToLower(strings.TrimSpace(em))
		_, d, _ := strings.Cut(em, "@")
		addDomain(d)
		if !slices.Contains(e.emails, em) {
			e.emails = append(e.emails, em)
		}
	}
	for _, em := range c.Emails {
		addEmail(em)
	}
	for _, p := range c.Contacts {
		for _, em := range p.Emails {
			addEmail(em)
		}
		if p.Birthday != nil {
			e.birthdays = append(e.birthdays, dirBirthday{month: int8(p.Birthday.Month), day: int8(p.Birthday.Day), contact: p.ID, name: p.Name})
		}
	}
	return e
}

// parallel runs fn for 0..n-1 on a few goroutines: look-ups by _id are cheap but each
// is a round trip, and the engine serves reads concurrently.
func parallel(ctx context.Context, n int, fn func(int) error) error {
	var g errgroup.Group
	g.SetLimit(8)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		g.Go(func() error { return fn(i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// Match says how a search result was found, best first.
type Match int

// Match kinds, in ranking order.
const (
	MatchKey      Match = iota // the query is the client's phone, e-mail or INN
	MatchExact                 // the name equals the query
	MatchPrefix                // the name starts with the query
	MatchWord                  // a later word of the name starts with the query
	MatchFragment              // the query appears inside the name
	MatchClass                 // the query asked for an ABC/XYZ class ("class:A")
)

// Result is one search result.
type Result struct {
	ClientID  string
	Name      string
	Stage     Stage
	ManagerID string
	ContactID string // when found by a contact's phone or e-mail
	Match     Match

	sortKey string // the folded name: "ООО «Ромашка»" sorts as "ромашка"
}

// Search finds clients by phone, e-mail or INN (exact keys) and by name fragment, in
// any case and script, ranked and limited to what the viewer may see. Names come from
// the directory as it stands: DirectoryState, asked after, tells whether it was
// loading or behind the change log.
func (s *Store) Search(ctx context.Context, v Viewer, query string, limit int) ([]Result, error) {
	if limit <= 0 {
		limit = 10
	}
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, invalidf("type part of a name, a phone, an e-mail or an INN")
	}
	if want, ok := classQuery(query); ok {
		return s.searchClass(ctx, v, want, limit)
	}
	var out []Result
	seen := map[string]bool{}
	for _, hit := range s.keyHits(ctx, query) {
		if v.CanSee(hit.Client) && !seen[hit.Client.ID] {
			seen[hit.Client.ID] = true
			out = append(out, Result{ClientID: hit.Client.ID, Name: hit.Client.Name, Stage: hit.Client.Stage,
				ManagerID: hit.Client.ManagerID, ContactID: hit.ContactID, Match: MatchKey})
		}
	}
	// Names are searched in the directory as it stands, never waiting for it to catch
	// up (DirectoryState says how far behind it is); until it is loaded, keys only.
	q := normalizeQuery(query)
	if q == "" || !s.dir.look(ctx) {
		return out, nil
	}
	var named []Result
	wordQ := " " + q
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		if !strings.Contains(e.joined, q) || seen[e.id] || !v.sees(e.managerID()) {
			continue
		}
		if m, ok := matchName(e, q, wordQ); ok {
			named = append(named, Result{ClientID: e.id, Name: e.name, Stage: e.stage.Value(), ManagerID: e.managerID(), Match: m, sortKey: e.norm()})
		}
	}
	s.dir.mu.RUnlock()
	sort.Slice(named, func(i, j int) bool {
		if named[i].Match != named[j].Match {
			return named[i].Match < named[j].Match
		}
		if named[i].sortKey != named[j].sortKey {
			return named[i].sortKey < named[j].sortKey
		}
		return named[i].ClientID < named[j].ClientID
	})
	out = append(out, named...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func matchName(e *dirEntry, q, wordQ string) (Match, bool) {
	best, found := MatchFragment, false
	for name := range strings.SplitSeq(e.joined, "\x00") {
		var m Match
		switch {
		case name == q:
			m = MatchExact
		case strings.HasPrefix(name, q):
			m = MatchPrefix
		case strings.Contains(name, wordQ):
			m = MatchWord
		case strings.Contains(name, q):
			m = MatchFragment
		default:
			continue
		}
		if !found || m < best {
			best, found = m, true
		}
	}
	return best, found
}

// keyHits tries the query as each kind of natural key it could be.
func (s *Store) keyHits(ctx context.Context, q string) []*Hit {
	var hits []*Hit
	try := func(h *Hit, err error) {
		if err == nil {
			hits = append(hits, h)
		}
	}
	if strings.Contains(q, "@") {
		try(s.FindByEmail(ctx, q))
		return hits
	}
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-()./", r):
		default:
			return hits // letters: a name
		}
	}
	if digits == 10 || digits == 12 {
		try(s.FindByINN(ctx, q))
	}
	if digits >= 5 {
		try(s.FindByPhone(ctx, q))
	}
	return hits
}

// ManagerClients lists a manager's clients by name (from the directory).
func (s *Store) ManagerClients(ctx context.Context, managerID string, offset, limit int) ([]Result, int, error) {
	if err := s.dir.current(ctx); err != nil {
		return nil, 0, err
	}
	var out []Result
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		if e.managerID() == managerID {
			out = append(out, Result{ClientID: e.id, Name: e.name, Stage: e.stage.Value(), ManagerID: managerID, sortKey: e.norm()})
		}
	}
	s.dir.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].sortKey != out[j].sortKey {
			return out[i].sortKey < out[j].sortKey
		}
		return out[i].ClientID < out[j].ClientID
	})
	total := len(out)
	if offset > total {
		offset = total
	}
	out = out[offset:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, total, nil
}

var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "y",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e",
	'ю': "yu", 'я': "ya",
}

// transliterate writes Cyrillic in Latin letters, so a manager on a phone without a
// Russian keyboard still finds "Ромашка" by "romashka".
func transliterate(s string) string {
	var b strings.Builder
	for _, r := range s {
		if t, ok := translit[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// BirthdayHit is a contact person with a birthday on a given day.
type BirthdayHit struct {
	ClientID, ClientName   string
	ManagerID              string // the client's responsible manager
	ContactID, ContactName string
	Date                   time.Time // the day it falls on, at midnight in the asked location
}

// Birthdays lists the viewer's contacts whose birthdays fall within days days from
// from's date (in from's location), by date. 29 February falls on 28 February in
// other years.
func (s *Store) Birthdays(ctx context.Context, v Viewer, from time.Time, days int) ([]BirthdayHit, error) {
	if err := s.dir.current(ctx); err != nil {
		return nil, err
	}
	type md struct{ m, d int8 }
	want := map[md]time.Time{}
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	for i := range days {
		day := start.AddDate(0, 0, i)
		want[md{int8(day.Month()), int8(day.Day())}] = day
		if day.Month() == time.February && day.Day() == 28 && !isLeap(day.Year()) {
			want[md{2, 29}] = day
		}
	}
	var out []BirthdayHit
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		if len(e.birthdays) == 0 || !v.sees(e.managerID()) {
			continue
		}
		for _, b := range e.birthdays {
			if day, ok := want[md{b.month, b.day}]; ok {
				out = append(out, BirthdayHit{ClientID: e.id, ClientName: e.name, ManagerID: e.managerID(), ContactID: b.contact, ContactName: b.name, Date: day})
			}
		}
	}
	s.dir.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.Before(out[j].Date)
		}
		return out[i].ClientName < out[j].ClientName
	})
	return out, nil
}

func isLeap(year int) bool { return year%4 == 0 && (year%100 != 0 || year%400 == 0) }

// ManagersOf tells each known client's responsible manager ("" when unassigned),
// from the directory.
func (s *Store) ManagersOf(ctx context.Context, clientIDs []string) (map[string]string, error) {
	if err := s.dir.current(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(clientIDs))
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	for _, id := range clientIDs {
		if i, ok := s.dir.entries.pos[id]; ok {
			out[id] = s.dir.entries.list[i].managerID()
		}
	}
	return out, nil
}

// OwnersOfEmails tells, for each address (lower case), the client that lists it as its
// own or a contact's; addresses nobody lists are left out. The directory answers, after
// one freshness check for them all.
func (s *Store) OwnersOfEmails(ctx context.Context, emails []string) (map[string]string, error) {
	if err := s.dir.Sync(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(emails))
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	for _, em := range emails {
		if id, ok := s.dir.entries.byEmail[strings.ToLower(em)]; ok {
			out[em] = id
		}
	}
	return out, nil
}

// ClientsByDomains lists, per domain (lower case, without "www."), the clients whose
// website or e-mail addresses are on it; domains of nobody's are left out. The mail
// matcher asks it only for company domains.
func (s *Store) ClientsByDomains(ctx context.Context, domains []string) (map[string][]string, error) {
	if err := s.dir.Sync(ctx); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	for _, d := range domains {
		if ids := s.dir.entries.byDomain[strings.ToLower(d)]; len(ids) > 0 {
			out[d] = slices.Clone(ids)
		}
	}
	return out, nil
}

func unixMilliOf(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMilli()
}
