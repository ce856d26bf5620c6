package mail

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
	"golang.org/x/sync/errgroup"

	"github.com/crm-team/crm/store"
)

// LetterNotice tells a manager that a client wrote.
type LetterNotice struct {
	ManagerID  string
	ClientID   string
	ClientName string
	LetterID   string
	From       string
	Subject    string
	Preview    string
}

// Notifier reaches managers; cmd/crm wires it to the bot.
type Notifier interface {
	LetterArrived(ctx context.Context, n LetterNotice) error
}

// IngestOptions tune an Ingester.
type IngestOptions struct {
	// OwnDomains are the company's own: its addresses are never clients.
	OwnDomains []string
	// MaxAttachment is the largest attachment kept in the database (default
	// store.DefaultFileLimit).
	MaxAttachment int64
	Notifier      Notifier
	Logger        *slog.Logger
	// ReplySLA is how much working time (by Calendar) a client's letter may wait for
	// an answer before its manager is alerted; 0 turns reply-time control off.
	ReplySLA time.Duration
	Calendar store.WorkCalendar
	// ClocksStarted is called after reply clocks were started, so that a ReplyWatch
	// in the same process arms its timer for them (ReplyWatch.Wake); may be nil.
	ClocksStarted func()
	// Now is the clock; tests set it.
	Now func() time.Time
	// Metrics counts the letters stored, by the mailbox they were read from; nil:
	// nothing (only LettersStored is called).
	Metrics Metrics
}

// Ingester stores letters and puts each in the right clients' timelines, once.
//
// Write order, so that a crash anywhere loses nothing and duplicates nothing:
// attachments (by derived _id), bounce marks and queue entries (idempotent), a record
// of the timeline entries each letter needs, the letter itself; then, in bulk for
// many batches, the timeline entries (each carrying the letter's ID) and last the
// records' removal. A letter already stored is skipped; records left by a stopped run
// are taken up at the first batch, and entries it made are found among the client's
// newest ones.
type Ingester struct {
	// mu lets one batch at a time through: two mailboxes delivering the same letter
	// at once would otherwise both link it. SQLite serialises the writes anyway.
	mu     sync.Mutex
	st     *store.Store
	opts   IngestOptions
	own    map[string]bool
	public map[string]bool
	log    *slog.Logger
	crash  func(step string) error // tests stop a batch half-way with it

	recovered bool      // a stopped run's unfinished links are taken up
	waiting   []waiting // stored letters whose timeline entries are still to be made
	since     time.Time // when the first of them was stored
}

// NewIngester builds an Ingester.
func NewIngester(st *store.Store, opts IngestOptions) *Ingester {
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = store.DefaultFileLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	set := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, d := range list {
			m[strings.ToLower(strings.TrimPrefix(d, "@"))] = true
		}
		return m
	}
	return &Ingester{st: st, opts: opts, own: set(opts.OwnDomains), public: set(store.PublicMailDomains()), log: opts.Logger}
}

// pending is one letter on its way through a batch.
type pending struct {
	f       Fetched
	parsed  *Letter
	letter  *store.Letter
	files   []*store.File
	addrs   []string // counterparts; none for a bounce
	clients []string
}

// Letters wait for their timeline entries until linkBatch of them wait or the first
// has waited linkDelay: entries are made per client, so a bulk read of a mailbox
// writes each timeline a few times instead of once per letter, while a long first
// reading still fills the histories as it goes.
const (
	linkBatch = 5000
	linkDelay = 10 * time.Second
)

// waiting is a stored letter whose timeline entries are still to be made.
type waiting struct {
	link store.PendingLink
	// suspect: a run that stopped half-way may have made some of its entries.
	suspect bool
	// notice is sent once the entries are there; nil for none.
	notice *LetterNotice
}

// Store is the pollers' Sink: it returns nil once every letter of the batch is stored
// with a record of the timeline entries it needs. The entries are made in bulk: when
// linkBatch letters wait or the first has waited linkDelay, and when a poller hands
// over an empty batch (it has read everything there is for now).
func (in *Ingester) Store(ctx context.Context, batch []Fetched) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.recovered {
		if err := in.recover(ctx); err != nil {
			return err
		}
		in.recovered = true
	}
	if len(batch) == 0 {
		return in.flush(ctx)
	}
	if len(in.waiting) == 0 {
		in.since = in.opts.Now()
	}
	if err := in.store(ctx, batch); err != nil {
		return err
	}
	if len(in.waiting) >= linkBatch || (len(in.waiting) > 0 && in.opts.Now().Sub(in.since) >= linkDelay) {
		return in.flush(ctx)
	}
	return nil
}

func (in *Ingester) store(ctx context.Context, batch []Fetched) error {
	ps := make([]*pending, len(batch))
	if err := each(ctx, len(batch), func(i int) error {
		ps[i] = in.prepare(batch[i])
		return nil
	}); err != nil {
		return err
	}
	// Letters stored before were handled whole (their links are recorded first).
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.letter.ID
	}
	known, err := in.st.LettersExist(ctx, ids)
	if err != nil {
		return err
	}
	var todo []*pending
	seen := map[string]bool{}
	for _, p := range ps {
		if !known[p.letter.ID] && !seen[p.letter.ID] {
			seen[p.letter.ID] = true // the same letter twice in a batch (INBOX and Sent)
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := in.match(ctx, todo); err != nil {
		return err
	}
	var files []*store.File
	for _, p := range todo {
		files = append(files, p.files...)
	}
	if err := in.st.SaveFiles(ctx, files); err != nil {
		return err
	}
	var links []store.PendingLink
	var linked []*pending
	for _, p := range todo {
		if len(p.clients) > 0 {
			links = append(links, store.PendingLink{LetterID: p.letter.ID, Clients: p.clients, Entry: store.LetterInteraction(p.letter)})
			linked = append(linked, p)
		}
	}
	retried, err := in.st.BeginLinks(ctx, links)
	if err != nil {
		return err
	}
	if err := in.replyClocks(ctx, todo); err != nil {
		return err
	}
	letters := make([]*store.Letter, len(todo))
	for i, p := range todo {
		letters[i] = p.letter
	}
	if _, err := in.st.SaveLetters(ctx, letters); err != nil {
		return err
	}
	in.count(todo)
	for i, p := range linked {
		w := waiting{link: links[i], suspect: retried[p.letter.ID]}
		if !p.letter.Outgoing && !w.suspect && in.fresh(p.letter) {
			w.notice = &LetterNotice{LetterID: p.letter.ID, From: p.letter.From.Email, Subject: p.letter.Subject, Preview: p.letter.Preview}
		}
		in.waiting = append(in.waiting, w)
	}
	return nil
}

// count tells Metrics of letters stored, by mailbox.
func (in *Ingester) count(stored []*pending) {
	type tally struct{ stored, unsorted int }
	by := map[string]*tally{}
	var order []string
	for _, p := range stored {
		t := by[p.f.Account]
		if t == nil {
			t = &tally{}
			by[p.f.Account] = t
			order = append(order, p.f.Account)
		}
		t.stored++
		if p.letter.Unsorted {
			t.unsorted++
		}
	}
	for _, mailbox := range order {
		in.opts.Metrics.LettersStored(mailbox, by[mailbox].stored, by[mailbox].unsorted)
	}
}

// fresh tells a letter written in the last days.
func (in *Ingester) fresh(l *store.Letter) bool {
	return in.opts.Now().Sub(in.written(l)) < store.FreshLetter
}

// written is when a letter was written: its Date, unless missing or in the future.
func (in *Ingester) written(l *store.Letter) time.Time { return l.Written(in.opts.Now()) }

// replyClocks starts the reply clock of each fresh letter from outside the company to
// a client, and stops those of the letters a fresh letter from the company answers
// (named in In-Reply-To and References, and the earlier ones of its conversation), at
// the answer's own time and with who wrote it.
func (in *Ingester) replyClocks(ctx context.Context, todo []*pending) error {
	if in.opts.ReplySLA <= 0 {
		return nil
	}
	var waits []store.AwaitedReply
	var answered []store.Answer
	threads := map[string][]store.Answer{}
	var team map[string]string // address -> manager, read once a batch when needed
	for _, p := range todo {
		l := p.letter
		if !in.fresh(l) {
			continue
		}
		if l.Outgoing {
			if team == nil {
				var err error
				if team, err = in.teamAddresses(ctx); err != nil {
					return err
				}
			}
			a := store.Answer{At: in.written(l), By: l.From.Email}
			if id := team[strings.ToLower(l.From.Email)]; id != "" {
				a.By = id
			}
			var named []string
			for _, ref := range append([]string{l.InReplyTo}, l.References...) {
				if ref != "" {
					named = appendNew(named, store.LetterID(ref, ""))
				}
			}
			for _, id := range named {
				a.LetterID = id
				answered = append(answered, a)
			}
			threads[l.ThreadID] = append(threads[l.ThreadID], a)
			continue
		}
		if len(p.clients) == 0 || in.ownAddress(l.From.Email) {
			continue // a colleague's letter (a forward, a copy) awaits no answer
		}
		received := in.written(l)
		waits = append(waits, store.NewAwaitedReply(l, p.clients, received, received, in.opts.ReplySLA, in.opts.Calendar))
	}
	if err := in.st.AwaitReplies(ctx, waits); err != nil {
		return err
	}
	if len(waits) > 0 && in.opts.ClocksStarted != nil {
		in.opts.ClocksStarted()
	}
	if err := in.st.AnswerReplies(ctx, answered); err != nil {
		return err
	}
	// An answer also covers the client's earlier letters of the conversation, even
	// those it does not name.
	return in.st.AnswerThreads(ctx, threads)
}

// teamAddresses maps the managers' e-mail addresses (lower case) to their IDs.
func (in *Ingester) teamAddresses(ctx context.Context) (map[string]string, error) {
	team, err := in.st.Managers(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(team))
	for _, m := range team {
		if m.Email != "" {
			out[strings.ToLower(strings.TrimSpace(m.Email))] = m.ID
		}
	}
	return out, nil
}

// recover takes up the links a stopped run recorded and did not finish. A record
// whose letter was never stored is dropped: the poller reads that letter again.
func (in *Ingester) recover(ctx context.Context) error {
	links, err := in.st.PendingLinks(ctx)
	if err != nil || len(links) == 0 {
		return err
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.LetterID
	}
	stored, err := in.st.LettersExist(ctx, ids)
	if err != nil {
		return err
	}
	var orphans []string
	for _, l := range links {
		if !stored[l.LetterID] {
			orphans = append(orphans, l.LetterID)
			continue
		}
		in.waiting = append(in.waiting, waiting{link: l, suspect: true})
	}
	in.log.Info("mail: taking up letters a stopped run left unlinked", "letters", len(in.waiting))
	return in.st.EndLinks(ctx, orphans)
}

// flush makes the waiting timeline entries, then drops their records and tells the
// managers. After a failure every waiting letter is suspect: some entries were made.
func (in *Ingester) flush(ctx context.Context) error {
	if len(in.waiting) == 0 {
		return nil
	}
	err := in.link(ctx, in.waiting)
	if err == nil && in.crash != nil {
		err = in.crash("linked")
	}
	ids := make([]string, len(in.waiting))
	for i, w := range in.waiting {
		ids[i] = w.link.LetterID
	}
	if err == nil {
		err = in.st.EndLinks(ctx, ids)
	}
	if err != nil {
		for i := range in.waiting {
			in.waiting[i].suspect = true
		}
		return err
	}
	for _, w := range in.waiting {
		in.notify(ctx, w)
	}
	in.waiting = nil
	return nil
}

// prepare parses a raw letter into what will be stored.
func (in *Ingester) prepare(f Fetched) *pending {
	l := Parse(f.Raw, ParseOptions{MaxAttachment: in.opts.MaxAttachment})
	sl := &store.Letter{
		ID: store.LetterID(l.MessageID, l.Hash), MessageID: l.MessageID, InReplyTo: l.InReplyTo, References: l.References,
		Subject: l.Subject, From: storeAddr(l.From), Date: l.Date, Text: l.Text, HTML: l.HTML, Preview: l.Preview,
		Outgoing: f.Sent, Mailbox: f.Account, Folder: f.Folder, UID: f.UID, Problems: l.Problems,
	}
	for _, a := range l.To {
		sl.To = append(sl.To, storeAddr(a))
	}
	for _, a := range l.Cc {
		sl.Cc = append(sl.Cc, storeAddr(a))
	}
	sl.ThreadID = store.ThreadID(sl.ID, l.InReplyTo, l.References)
	p := &pending{f: f, parsed: l, letter: sl}
	for i, a := range l.Attachments {
		fileID := sl.ID + "/" + strconv.Itoa(i)
		sl.Attachments = append(sl.Attachments, store.LetterAttachment{Name: a.Name, MIME: a.MIME, Size: a.Size, FileID: fileID, NotStored: a.NotStored})
		p.files = append(p.files, &store.File{ID: fileID, LetterID: sl.ID, Name: a.Name, MIME: a.MIME, Size: a.Size,
			Kind: "attachment", Data: a.Content, NotStored: a.NotStored, By: "mail"})
	}
	return p
}

func storeAddr(a Address) store.MailAddress { return store.MailAddress{Name: a.Name, Email: a.Email} }

// match finds the clients each letter belongs to: by address, then by company domain
// (a subdomain's letter by its own, else the domain above it: spb.client.ru, then
// client.ru). A bounce goes to no timeline (see bounce); a letter nobody matches goes
// to the unsorted queue.
func (in *Ingester) match(ctx context.Context, todo []*pending) error {
	// Every address of the batch, and the company domains for letters no address matches.
	var addrs, domains []string
	outgoing := map[string][]string{} // a report may come in the batch of the letter it returns
	for _, p := range todo {
		if p.letter.Outgoing {
			outgoing[p.letter.ID] = p.letter.Recipients()
		}
		if p.parsed.Bounce == nil {
			p.addrs = in.counterparts(p)
		}
		addrs = append(addrs, p.addrs...)
		for _, a := range p.addrs {
			for _, d := range in.companyDomains(a) {
				domains = appendNew(domains, d)
			}
		}
	}
	owners, err := in.st.OwnersOfEmails(ctx, addrs)
	if err != nil {
		return err
	}
	byDomain, err := in.st.ClientsByDomains(ctx, domains)
	if err != nil {
		return err
	}
	for _, p := range todo {
		if p.parsed.Bounce != nil {
			if err := in.bounce(ctx, p, outgoing); err != nil {
				return err
			}
			continue
		}
		if err := in.matchOne(ctx, p, owners, byDomain); err != nil {
			return err
		}
	}
	return nil
}

func (in *Ingester) matchOne(ctx context.Context, p *pending, owners map[string]string, byDomain map[string][]string) error {
	for _, a := range p.addrs {
		if id := owners[a]; id != "" {
			p.clients = appendNew(p.clients, id)
		}
	}
	if len(p.clients) == 0 {
		for _, a := range p.addrs {
			for _, d := range in.companyDomains(a) {
				if ids := byDomain[d]; len(ids) > 0 {
					for _, id := range ids {
						p.clients = appendNew(p.clients, id)
					}
					break // the closest domain a client has
				}
			}
		}
	}
	p.letter.Clients = p.clients
	p.letter.Linked = p.clients
	if len(p.clients) > 0 {
		return nil
	}
	return in.queue(ctx, p)
}

// domainChain is an address's domain and those above it up to the one registered
// under a public suffix (spb.client.ru, client.ru; never ru or co.uk), by the public
// suffix list.
func domainChain(addr string) []string {
	_, d, ok := strings.Cut(addr, "@")
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if !ok || d == "" {
		return nil
	}
	chain := []string{d}
	top, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return chain // a public suffix itself, or a name without dots
	}
	for d != top && strings.HasSuffix(d, "."+top) {
		_, d, _ = strings.Cut(d, ".")
		chain = append(chain, d)
	}
	return chain
}

// companyDomains are the domains a client could be found by from an address: its
// domain chain, none for a public mail service (gmail.com, corp.mail.ru).
func (in *Ingester) companyDomains(addr string) []string {
	chain := domainChain(addr)
	if slices.ContainsFunc(chain, func(d string) bool { return in.public[d] }) {
		return nil
	}
	return chain
}

// ownAddress tells an address of the company's: on one of its domains or below one.
func (in *Ingester) ownAddress(addr string) bool {
	return slices.ContainsFunc(domainChain(addr), func(d string) bool { return in.own[d] })
}

// bounce marks the addresses a delivery report says failed, where the letter it
// returns is one the CRM sent to them: a campaign letter or greeting it recorded, or
// a letter from a Sent folder. Anyone can send the mailbox a report naming any
// address, so a report about no such letter marks nothing and waits in the unsorted
// queue as a bounce of unknown origin. A delay reported about the CRM's letter needs
// nothing done.
func (in *Ingester) bounce(ctx context.Context, p *pending, outgoing map[string][]string) error {
	b := p.parsed.Bounce
	var sentTo []string
	if b.Original != "" {
		if sentTo = outgoing[store.LetterID(b.Original, "")]; sentTo == nil {
			var err error
			if sentTo, err = in.st.SentTo(ctx, b.Original); err != nil {
				return err
			}
		}
	}
	ours := len(sentTo) > 0 && len(b.Recipients) == 0
	for _, addr := range b.Recipients {
		if !slices.Contains(sentTo, addr) {
			continue
		}
		ours = true
		if _, err := in.st.MarkBounced(ctx, addr); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if ours {
		return nil
	}
	p.letter.UnknownBounce = true
	return in.queue(ctx, p)
}

// queue puts a letter in the unsorted queue, unless it is outgoing or its sender is
// ignored.
func (in *Ingester) queue(ctx context.Context, p *pending) error {
	ignored, err := in.st.SenderIgnored(ctx, p.letter.From.Email)
	if err != nil || ignored || p.letter.Outgoing {
		return err
	}
	// The queue entry goes first: the letter, written last, finds it there.
	return in.st.SetLetterUnsorted(ctx, p.letter, true)
}

// counterparts are the addresses on the other side: the sender of an incoming letter
// and its other recipients, the recipients of an outgoing one; and, in a colleague's
// letter, the senders of the letters it forwards; never the company's own.
func (in *Ingester) counterparts(p *pending) []string {
	var out []string
	add := func(a store.MailAddress) {
		if strings.Contains(a.Email, "@") && !in.ownAddress(a.Email) {
			out = appendNew(out, strings.ToLower(a.Email))
		}
	}
	if !p.letter.Outgoing {
		add(p.letter.From)
	}
	for _, a := range p.letter.To {
		add(a)
	}
	for _, a := range p.letter.Cc {
		add(a)
	}
	if in.ownAddress(p.letter.From.Email) {
		for _, a := range forwardedSenders(p.parsed) {
			add(storeAddr(a))
		}
	}
	return out
}

// link appends the letters to their clients' timelines: per client one write. Where
// a letter is suspect, entries an interrupted run already made are left out.
func (in *Ingester) link(ctx context.Context, ws []waiting) error {
	byClient := map[string][]store.Interaction{}
	check := map[string]bool{}
	var order []string
	for _, w := range ws {
		for _, c := range w.link.Clients {
			if byClient[c] == nil {
				order = append(order, c)
			}
			byClient[c] = append(byClient[c], w.link.Entry)
			check[c] = check[c] || w.suspect
		}
	}
	return each(ctx, len(order), func(i int) error {
		clientID := order[i]
		have := map[string]bool{}
		if check[clientID] {
			// An interrupted run wrote at most this many entries for the client, all
			// among its newest (the margin covers what others wrote since).
			var err error
			have, err = in.st.RecentSourceKeys(ctx, clientID, len(byClient[clientID])+20)
			if errors.Is(err, store.ErrNotFound) {
				return nil // deleted meanwhile
			}
			if err != nil {
				return err
			}
		}
		var items []store.Interaction
		for _, it := range byClient[clientID] {
			if !have[it.SourceKey] {
				items = append(items, it)
			}
		}
		slices.SortFunc(items, func(a, b store.Interaction) int { return a.At.Compare(b.At) })
		err := in.st.AppendInteractions(ctx, clientID, items)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted meanwhile
		}
		return err
	})
}

// notify tells each client's manager about an incoming letter, once its entry is in
// the timeline (at most once: a letter taken up after a restart is not announced).
func (in *Ingester) notify(ctx context.Context, w waiting) {
	if in.opts.Notifier == nil || w.notice == nil {
		return
	}
	for _, id := range w.link.Clients {
		c, err := in.st.Client(ctx, id)
		if err != nil || c.ManagerID == "" {
			continue
		}
		n := *w.notice
		n.ManagerID, n.ClientID, n.ClientName = c.ManagerID, c.ID, c.Name
		if err := in.opts.Notifier.LetterArrived(ctx, n); err != nil {
			in.log.Warn("notify manager of a letter", "manager", c.ManagerID, "err", err)
		}
	}
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// each runs fn for 0..n-1 on a few goroutines and returns the first error.
func each(ctx context.Context, n int, fn func(int) error) error {
	var g errgroup.Group
	g.SetLimit(max(runtime.GOMAXPROCS(0), 4))
	for i := 0; i < n && ctx.Err() == nil; i++ {
		g.Go(func() error { return fn(i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
