package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The directory is an in-process index of every client's name, manager and stage: the
// access path for name search and managers' client lists, which would otherwise scan
// the whole collection on the embedded engine.
//
// Every process that searches keeps its own copy and follows the change log
// (changelog.go) that every process changing clients writes. A follower goroutine
// does the catching up, one round at a time: it reads what the log holds after the
// last change applied, reads the clients named there by _id and puts them in. Readers
// never wait for it: a search answers from the entries as they stand, and says so
// when the oldest change not yet in them is more than DirectoryStaleAfter old. A full
// load builds a new set of entries while the old one serves, and swaps it in: at
// start (searches meanwhile find clients by their keys only), after more changes than
// feeding is worth, and every reloadEvery, which catches a change whose writer died
// before logging it.
const (
	reloadEvery = time.Hour
	// maxChangesToFeed is the most changes a round reads; one that names more than a
	// third of the clients reloads instead (reading a client by _id costs about twice
	// its share of a full read).
	maxChangesToFeed = 20000
	feedChunk        = 1000 // clients read and put in at a time, so searches see progress

	// DirectoryStaleAfter is how old the oldest change missing from the directory may
	// be before search results say they may miss it.
	DirectoryStaleAfter = 5 * time.Second
)

// Directory is the in-process client index.
type Directory struct {
	s *Store

	mu      sync.RWMutex // the entries; read-held while a search scans them
	entries entrySet
	gone    map[string]time.Time // clients seen deleted: a creation read later does not bring them back
	loaded  atomic.Bool

	st        sync.Mutex // the follower's state, below
	applied   int64      // the log's number up to which the entries are current
	behind    time.Time  // when the oldest change not applied was written; zero: none known
	loadedAt  time.Time
	running   bool  // the follower runs
	again     bool  // it runs one more round
	rounds    int64 // rounds started
	caught    int64 // the last round that reached the log's end
	failed    int64 // the last round that failed, with err
	err       error
	roundDone chan struct{}      // closed and replaced when a round ends
	reload    *reloadJob         // a reload building in the background
	hook      func(point string) // tests: called at points of a round

	ctx  context.Context // ends at Close
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// reloadJob is a full load running beside the follower.
type reloadJob struct {
	done    chan struct{}
	entries entrySet
	end     int64 // the log's end when the scan began
	err     error
}

func newDirectory(s *Store) *Directory {
	d := &Directory{s: s, entries: newEntrySet(0), gone: map[string]time.Time{}, roundDone: make(chan struct{})}
	d.ctx, d.stop = context.WithCancel(context.Background())
	return d
}

// close stops the follower and waits for it.
func (d *Directory) close() {
	d.stop()
	d.wg.Wait()
}

// DirectoryState says how current the directory is.
type DirectoryState struct {
	Loading bool          // not loaded yet: names are not searched, keys are
	Behind  time.Duration // age of the oldest change not in it yet (0: none known)
	Clients int           // clients in it
}

// Stale says results may miss changes older than DirectoryStaleAfter.
func (st DirectoryState) Stale() bool { return st.Loading || st.Behind > DirectoryStaleAfter }

// DirectoryState tells how current the directory was at the last look.
func (s *Store) DirectoryState() DirectoryState {
	d := s.dir
	d.st.Lock()
	behind := d.behind
	d.st.Unlock()
	d.mu.RLock()
	st := DirectoryState{Loading: !d.loaded.Load(), Clients: len(d.entries.list)}
	d.mu.RUnlock()
	if !behind.IsZero() {
		st.Behind = max(0, s.now().Sub(behind))
	}
	return st
}

// CheckDirectory looks for changes the directory has not applied, as a search does
// (one _id read; a catch-up starts in the background when there are some), and
// tells its state: crm serve's /metrics asks it, so that the lag shows even while
// nobody searches.
func (s *Store) CheckDirectory(ctx context.Context) DirectoryState {
	s.dir.look(ctx)
	return s.DirectoryState()
}

func (d *Directory) put(c *Client) {
	if !d.loaded.Load() {
		return // the load reads it
	}
	e := makeEntry(c, d.s.now())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries.put(e)
}

func (d *Directory) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries.remove(id)
	d.gone[id] = time.Now()
}

// look is an interactive reader's check: it never waits for a catch-up, it starts
// one. With the follower idle it costs one _id read (is there a change after the
// last one applied?). It says whether the directory is loaded; without that, only
// keys can be searched.
func (d *Directory) look(ctx context.Context) bool {
	if !d.loaded.Load() {
		d.kick()
		return false
	}
	d.st.Lock()
	running, applied, due := d.running, d.applied, time.Since(d.loadedAt) > reloadEvery
	d.st.Unlock()
	if running {
		return true
	}
	var c changeDoc
	err := d.s.getByID(ctx, colChanges, changeID(applied+1), &c)
	switch {
	case err == nil:
		d.st.Lock()
		if d.applied == applied && d.behind.IsZero() {
			d.behind = c.At
		}
		d.st.Unlock()
		d.kick()
	case errors.Is(err, ErrNotFound):
		if due {
			d.kick()
		}
	default: // answered from the entries as they stand; the next look tries again
		d.s.log.Warn("read change log", "err", err)
	}
	return true
}

// current is look for readers that need the whole directory: it waits for the first
// load, never for a catch-up.
func (d *Directory) current(ctx context.Context) error {
	if d.look(ctx) {
		return nil
	}
	return d.Sync(ctx)
}

// Sync brings the directory up to date and waits for it: it returns once a round of
// the follower that began after the call reached the log's end (jobs that act on the
// whole base, tests, start-up).
func (d *Directory) Sync(ctx context.Context) error {
	d.st.Lock()
	target := d.rounds + 1
	d.kickLocked()
	for d.caught < target && d.failed < target {
		ch := d.roundDone
		d.st.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-d.ctx.Done():
			return errors.New("client directory: the store is closed")
		}
		d.st.Lock()
	}
	var err error
	if d.caught < target {
		err = d.err
	}
	d.st.Unlock()
	return err
}

func (d *Directory) kick() {
	d.st.Lock()
	d.kickLocked()
	d.st.Unlock()
}

func (d *Directory) kickLocked() {
	d.again = true
	if !d.running && d.ctx.Err() == nil {
		d.running = true
		d.wg.Add(1)
		go d.follow()
	}
}

// follow runs rounds while there is more to read or someone asked for another.
func (d *Directory) follow() {
	defer d.wg.Done()
	for {
		d.st.Lock()
		if !d.again || d.ctx.Err() != nil {
			d.running = false
			d.st.Unlock()
			return
		}
		d.again = false
		d.rounds++
		n := d.rounds
		d.st.Unlock()
		more, err := d.round(d.ctx)
		d.st.Lock()
		switch {
		case err != nil:
			d.failed, d.err = n, err
		case more:
			d.again = true
		default:
			d.caught = n
		}
		close(d.roundDone)
		d.roundDone = make(chan struct{})
		d.st.Unlock()
		if err != nil && d.ctx.Err() == nil {
			d.s.log.Warn("client directory: catching up failed; searches answer from it as it stands", "err", err)
		}
	}
}

func (d *Directory) at(point string) {
	d.st.Lock()
	h := d.hook
	d.st.Unlock()
	if h != nil {
		h(point)
	}
}

// round is one step of catching up; more says the log goes on.
func (d *Directory) round(ctx context.Context) (more bool, err error) {
	if !d.loaded.Load() {
		return true, d.reloadNow(ctx)
	}
	d.swapReloaded()
	d.st.Lock()
	applied := d.applied
	d.st.Unlock()
	run, err := d.s.readChanges(ctx, applied, max(maxChangesToFeed, d.size()))
	if err != nil {
		return false, err
	}
	d.s.noteLogEnd(run.last)
	if len(run.clients) > 0 {
		d.st.Lock()
		d.behind = run.first
		d.st.Unlock()
	}
	d.at("read")
	// A client created in the run comes with its record; any other change is read.
	var ids []string
	made := map[string]*dirRecord{}
	read := map[string]bool{}
	for i, id := range run.clients {
		if _, seen := made[id]; !seen && !read[id] {
			ids = append(ids, id)
		}
		if run.made[i] == nil {
			read[id] = true
		} else {
			made[id] = run.made[i]
		}
	}
	if len(read) > 1000+d.size()/3 {
		return true, d.reloadNow(ctx)
	}
	d.putMade(ids, made, read)
	ids = slices.DeleteFunc(ids, func(id string) bool { return !read[id] })
	for len(ids) > 0 {
		n := min(len(ids), feedChunk)
		if err := d.feed(ctx, ids[:n]); err != nil {
			return false, err
		}
		ids = ids[n:]
	}
	d.st.Lock()
	d.applied = run.last
	if run.end {
		d.behind = time.Time{}
	}
	due := run.end && d.reload == nil && time.Since(d.loadedAt) > reloadEvery
	if due {
		d.startReload()
	}
	d.st.Unlock()
	return !run.end, nil
}

func (d *Directory) size() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.entries.list)
}

// putMade puts in the clients created in a run that nothing else changed, from the
// records their creation logged. One the directory has is left as it is: it was read
// or written here later than it was created; one seen deleted stays out.
func (d *Directory) putMade(ids []string, made map[string]*dirRecord, read map[string]bool) {
	var entries []*dirEntry
	for _, id := range ids {
		if !read[id] {
			entries = append(entries, made[id].entry(id))
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range entries {
		if _, have := d.entries.pos[e.id]; !have && d.gone[e.id].IsZero() {
			d.entries.put(e)
		}
	}
}

// feed reads the clients by _id and puts them in (a client not found was deleted).
func (d *Directory) feed(ctx context.Context, ids []string) error {
	entries := make([]*dirEntry, len(ids))
	at := d.s.now()
	if err := parallel(ctx, len(ids), func(i int) error {
		var c Client
		err := d.s.c(colClients).FindOne(ctx, bson.D{{Key: "_id", Value: ids[i]}}, options.FindOne().SetProjection(dirProjection)).Decode(&c)
		if err == nil {
			entries[i] = makeEntry(&c, at)
		} else if errors.Is(err, mongo.ErrNoDocuments) {
			err = nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("read changed clients: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for i, e := range entries {
		if e == nil {
			d.entries.remove(ids[i])
			d.gone[ids[i]] = now
		} else {
			d.entries.put(e)
		}
	}
	return nil
}

// reloadNow loads every client in the follower (the first load, or after too many
// changes) and swaps the entries in; the next round reads what came after.
func (d *Directory) reloadNow(ctx context.Context) error {
	d.st.Lock()
	from := d.applied
	d.st.Unlock()
	entries, end, err := d.build(ctx, from)
	if err != nil {
		return err
	}
	d.swap(entries, end)
	return nil
}

// startReload builds a new set of entries beside the follower (d.st held); the
// follower swaps it in at the start of a round.
func (d *Directory) startReload() {
	job := &reloadJob{done: make(chan struct{})}
	d.reload = job
	from := d.applied
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(job.done)
		job.entries, job.end, job.err = d.build(d.ctx, from)
		d.kick()
	}()
}

func (d *Directory) swapReloaded() {
	d.st.Lock()
	job := d.reload
	if job == nil {
		d.st.Unlock()
		return
	}
	select {
	case <-job.done:
		d.reload = nil
	default:
		d.st.Unlock()
		return
	}
	d.st.Unlock()
	if job.err != nil {
		d.s.log.Warn("reload client directory", "err", job.err)
		d.st.Lock()
		d.loadedAt = time.Now() // tried: the next one in an hour
		d.st.Unlock()
		return
	}
	d.swap(job.entries, job.end)
}

// swap puts a loaded set of entries in place. Changes after end are read next; a
// change fed to the old set after end is fed again (feeding re-reads the client).
func (d *Directory) swap(entries entrySet, end int64) {
	d.mu.Lock()
	d.entries = entries
	d.loaded.Store(true)
	for id, at := range d.gone {
		if time.Since(at) > 2*reloadEvery { // its creation is out of the log by now
			delete(d.gone, id)
		}
	}
	d.mu.Unlock()
	d.st.Lock()
	d.applied, d.loadedAt = end, time.Now()
	d.st.Unlock()
	d.at("swapped")
}

// dirRecord is what the directory keeps of a client, as the change log carries it for
// clients just created (short keys: an import's batch is one document).
type dirRecord struct {
	Name     string       `json:"n"`
	Manager  string       `json:"m,omitempty"`
	Stage    Stage        `json:"s,omitempty"`
	City     string       `json:"c,omitempty"`
	Industry string       `json:"i,omitempty"`
	Source   string       `json:"l,omitempty"`
	Class    string       `json:"k,omitempty"`
	AtRisk   *time.Time   `json:"r,omitempty"`
	Website  string       `json:"w,omitempty"`
	Emails   []string     `json:"e,omitempty"`
	Created  time.Time    `json:"t"`
	Contacts []dirContact `json:"p,omitempty"`
	// What campaigns read; a record without Mail (an earlier version's) lacks it.
	Mail   bool              `json:"a,omitempty"`
	Tags   []string          `json:"g,omitempty"`
	Custom map[string]string `json:"u,omitempty"`
	Orders int               `json:"o,omitempty"`
}

type dirContact struct {
	ID       string    `json:"id"`
	Name     string    `json:"n"`
	Emails   []string  `json:"e,omitempty"`
	Birthday *Birthday `json:"b,omitempty"`
	Position string    `json:"q,omitempty"`
	Bounced  []string  `json:"z,omitempty"`
	Consent  bool      `json:"y,omitempty"` // given
	Unsub    bool      `json:"x,omitempty"` // unsubscribed since
	Created  time.Time `json:"t"`
}

func recordOf(c *Client) dirRecord {
	r := dirRecord{Name: c.Name, Manager: c.ManagerID, Stage: c.Stage, City: c.City, Industry: c.Industry, Source: c.LeadSource,
		Class: c.Class, AtRisk: c.AtRiskSince, Website: c.Website, Emails: c.Emails, Created: c.CreatedAt,
		Mail: true, Tags: c.Tags, Custom: c.Custom, Orders: c.OrdersCount}
	for _, p := range c.ContactList() {
		r.Contacts = append(r.Contacts, dirContact{ID: p.ID, Name: p.Name, Emails: p.Emails, Birthday: p.Birthday,
			Position: p.Position, Bounced: p.BouncedEmails, Consent: p.Consent.Given, Unsub: p.Consent.UnsubscribedAt != nil,
			Created: p.CreatedAt})
	}
	return r
}

// entry is the directory's entry of the client the record created, current as of
// its creation.
func (r *dirRecord) entry(id string) *dirEntry {
	c := &Client{ID: id, Name: r.Name, ManagerID: r.Manager, Stage: r.Stage, City: r.City, Industry: r.Industry, LeadSource: r.Source,
		Class: r.Class, AtRiskSince: r.AtRisk, Website: r.Website, Emails: r.Emails, CreatedAt: r.Created,
		Tags: r.Tags, Custom: r.Custom, OrdersCount: r.Orders}
	if len(r.Contacts) > 0 {
		c.Contacts = make(map[string]Contact, len(r.Contacts))
		for _, p := range r.Contacts {
			q := Contact{ID: p.ID, Name: p.Name, Emails: p.Emails, Birthday: p.Birthday,
				Position: p.Position, BouncedEmails: p.Bounced, Consent: Consent{Given: p.Consent}, CreatedAt: p.Created}
			if p.Unsub {
				q.Consent.UnsubscribedAt = &r.Created
			}
			c.Contacts[p.ID] = q
		}
	}
	e := makeEntry(c, r.Created)
	if !r.Mail {
		e.mail = ""
	}
	return e
}

var dirProjection = bson.D{{Key: "name", Value: 1}, {Key: "managerId", Value: 1}, {Key: "stage", Value: 1}, {Key: "contacts", Value: 1},
	{Key: "emails", Value: 1}, {Key: "website", Value: 1}, {Key: "city", Value: 1}, {Key: "industry", Value: 1},
	{Key: "leadSource", Value: 1}, {Key: "createdAt", Value: 1}, {Key: "class", Value: 1}, {Key: "atRiskSince", Value: 1},
	{Key: "tags", Value: 1}, {Key: "custom", Value: 1}, {Key: "ordersCount", Value: 1}, {Key: "firstPaidAt", Value: 1},
	{Key: "nextContactAt", Value: 1}}

// build reads every client into a new set of entries. The log's end is found first,
// so every change up to it is in what the scan reads, and changes after it are fed
// afterwards (feeding is idempotent: it re-reads the client).
func (d *Directory) build(ctx context.Context, from int64) (entrySet, int64, error) {
	hint, err := d.s.currentSeq(ctx, changesCounter)
	if err != nil {
		return entrySet{}, 0, fmt.Errorf("read change log: %w", err)
	}
	end, err := d.s.logEndFrom(ctx, max(from, hint, d.s.logEnd.Load()))
	if err != nil {
		return entrySet{}, 0, err
	}
	d.s.noteLogEnd(end)
	entries := newEntrySet(d.size())
	at := d.s.now() // each client is read at this time or later
	cur, err := d.s.c(colClients).Find(ctx, bson.D{}, options.Find().SetBatchSize(2000).SetProjection(dirProjection))
	if err != nil {
		return entrySet{}, 0, fmt.Errorf("load client directory: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var c Client
		if err := cur.Decode(&c); err != nil {
			return entrySet{}, 0, err
		}
		entries.put(makeEntry(&c, at))
	}
	if err := cur.Err(); err != nil {
		return entrySet{}, 0, fmt.Errorf("load client directory: %w", err)
	}
	d.at("built")
	return entries, end, nil
}
