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

// publicDomains are free mail services: a sender's domain there says nothing about
// which company they work for.
var publicDomains = []string{"gmail.com", "googlemail.com", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru",
	"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "rambler.ru", "lenta.ru", "autorambler.ru", "myrambler.ru",
	"ro.ru", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "yahoo.com",
	"aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "zoho.com", "qip.ru", "pochta.ru", "ukr.net", "tut.by"}

// IngestOptions tune an Ingester.
type IngestOptions struct {
	// OwnDomains are the company's own: its addresses are never clients.
	OwnDomains []string
	// MaxAttachment is the largest attachment kept in the database (default 10 MB).
	MaxAttachment int64
	Notifier      Notifier
	Logger        *slog.Logger
}

// Ingester stores letters and puts each in the right clients' timelines, once.
//
// Write order, so that a crash anywhere loses nothing and duplicates nothing:
// attachments (by derived _id), bounce marks and queue entries (idempotent), a mark
// per letter saying it is being linked, timeline entries (each carrying the letter's
// ID; for a letter marked before, an interrupted run's entries are found among the
// client's newest ones), the letter itself, and last the marks are removed. A letter
// that is already stored was handled whole, and is skipped.
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
}

// NewIngester builds an Ingester.
func NewIngester(st *store.Store, opts IngestOptions) *Ingester {
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = 10 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	set := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, d := range list {
			m[strings.ToLower(strings.TrimPrefix(d, "@"))] = true
		}
		return m
	}
	return &Ingester{st: st, opts: opts, own: set(opts.OwnDomains), public: set(publicDomains), log: opts.Logger}
}

// pending is one letter on its way through a batch.
type pending struct {
	f       Fetched
	parsed  *Letter
	letter  *store.Letter
	files   []*store.File
	clients []string
}

// Store is the pollers' Sink: it returns nil only when every letter of the batch is
// stored and linked.
func (in *Ingester) Store(ctx context.Context, batch []Fetched) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	ps := make([]*pending, len(batch))
	if err := each(ctx, len(batch), func(i int) error {
		ps[i] = in.prepare(batch[i])
		return nil
	}); err != nil {
		return err
	}
	// Letters stored before were handled whole (the letter is written last).
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
	letters := make([]*store.Letter, len(todo))
	ids = ids[:0]
	for i, p := range todo {
		letters[i] = p.letter
		ids = append(ids, p.letter.ID)
	}
	retried, err := in.st.BeginLetters(ctx, ids)
	if err != nil {
		return err
	}
	if err := in.link(ctx, todo, retried); err != nil {
		return err
	}
	if in.crash != nil {
		if err := in.crash("linked"); err != nil {
			return err
		}
	}
	stored, err := in.st.SaveLetters(ctx, letters)
	if err != nil {
		return err
	}
	if err := in.st.EndLetters(ctx, ids); err != nil {
		return err
	}
	for i, p := range todo {
		if stored[i] {
			in.notify(ctx, p)
		}
	}
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

// match finds the clients each letter belongs to: by address, then by company domain.
// A bounce marks the failed addresses instead and goes to no timeline; a letter nobody
// matches goes to the unsorted queue.
func (in *Ingester) match(ctx context.Context, todo []*pending) error {
	var addrs []string
	for _, p := range todo {
		if p.parsed.Bounce == nil {
			addrs = append(addrs, in.counterparts(p)...)
		}
	}
	owners, err := in.st.OwnersOfEmails(ctx, addrs)
	if err != nil {
		return err
	}
	for _, p := range todo {
		if b := p.parsed.Bounce; b != nil {
			for _, addr := range b.Recipients {
				if _, err := in.st.MarkBounced(ctx, addr); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			continue
		}
		if err := in.matchOne(ctx, p, owners); err != nil {
			return err
		}
	}
	return nil
}

func (in *Ingester) matchOne(ctx context.Context, p *pending, owners map[string]string) error {
	addrs := in.counterparts(p)
	for _, a := range addrs {
		if id := owners[a]; id != "" {
			p.clients = appendNew(p.clients, id)
		}
	}
	if len(p.clients) == 0 {
		for _, a := range addrs {
			_, domain, _ := strings.Cut(a, "@")
			if in.public[domain] {
				continue
			}
			ids, err := in.st.ClientsByDomain(ctx, domain)
			if err != nil {
				return err
			}
			for _, id := range ids {
				p.clients = appendNew(p.clients, id)
			}
		}
	}
	p.letter.Clients = p.clients
	p.letter.Linked = p.clients
	if len(p.clients) > 0 {
		return nil
	}
	ignored, err := in.st.SenderIgnored(ctx, p.letter.From.Email)
	if err != nil || ignored || p.letter.Outgoing {
		return err
	}
	// The queue entry goes first: the letter, written last, finds it there.
	return in.st.SetLetterUnsorted(ctx, p.letter, true)
}

// counterparts are the addresses on the other side: the sender of an incoming letter
// and its other recipients, the recipients of an outgoing one; never the company's own.
func (in *Ingester) counterparts(p *pending) []string {
	var out []string
	add := func(a store.MailAddress) {
		_, domain, ok := strings.Cut(a.Email, "@")
		if ok && !in.own[domain] {
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
	return out
}

// link appends the letters to their clients' timelines: per client one batch. Where a
// letter was retried, entries an interrupted run already wrote are left out.
func (in *Ingester) link(ctx context.Context, todo []*pending, retried map[string]bool) error {
	byClient := map[string][]*store.Letter{}
	check := map[string]bool{}
	var order []string
	for _, p := range todo {
		for _, c := range p.clients {
			if byClient[c] == nil {
				order = append(order, c)
			}
			byClient[c] = append(byClient[c], p.letter)
			check[c] = check[c] || retried[p.letter.ID]
		}
	}
	return each(ctx, len(order), func(i int) error {
		clientID := order[i]
		have := map[string]bool{}
		if check[clientID] {
			// An interrupted run of this batch wrote at most this many entries for the
			// client, all among its newest (the margin covers another mailbox since).
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
		for _, l := range byClient[clientID] {
			it := store.LetterInteraction(l)
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

// notify tells each client's manager about an incoming letter (at most once: a crash
// between storing and notifying skips the message, never repeats it).
func (in *Ingester) notify(ctx context.Context, p *pending) {
	if in.opts.Notifier == nil || p.letter.Outgoing {
		return
	}
	for _, id := range p.clients {
		c, err := in.st.Client(ctx, id)
		if err != nil || c.ManagerID == "" {
			continue
		}
		n := LetterNotice{ManagerID: c.ManagerID, ClientID: c.ID, ClientName: c.Name, LetterID: p.letter.ID,
			From: p.letter.From.Email, Subject: p.letter.Subject, Preview: p.letter.Preview}
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
