package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Account is one mailbox to read.
type Account struct {
	Name           string // a label for logs and progress keys, e.g. "sales" (default: User)
	Host           string
	Port           int    // default 993 for TLS, 143 otherwise
	Security       string // "tls" (default), "starttls", "none" (tests, trusted networks)
	User, Password string
	// Folders to read. Default: INBOX and the folder with the \Sent special-use
	// attribute (LIST), or else one named Sent, Sent Items, Sent Messages, Sent Mail or
	// Отправленные.
	Folders []string
	// SentFolders are which of Folders hold outgoing mail. Default (nil): those with
	// the \Sent attribute, or, when the server marks none, those named as above.
	SentFolders  []string
	PollInterval time.Duration // default 1 min: how often every folder is read again (IDLE or not)
	// MarkSeen sets \Seen on a letter once it is stored. Off by default: the mailbox
	// is never modified unless configured (folders are opened read-only with EXAMINE).
	MarkSeen bool
	// MoveTo moves a letter there once it is stored ("" = leave it).
	MoveTo    string
	TLSConfig *tls.Config // tests pass one trusting their certificate
	BatchSize int         // UIDs per FETCH, default 100
}

// Fetched is one raw letter as read.
type Fetched struct {
	Account, Folder  string
	Sent             bool // read from one of the account's SentFolders
	UIDValidity, UID uint32
	Raw              []byte
}

// Progress keeps, per account and folder, the UIDVALIDITY and the last UID stored.
type Progress interface {
	Load(ctx context.Context, account, folder string) (uidValidity, lastUID uint32, err error) // 0,0 when none
	Save(ctx context.Context, account, folder string, uidValidity, lastUID uint32) error
}

// Sink stores a batch of letters; it returns nil only when every one is stored
// (idempotently: the same letter may come again after a crash or a UIDVALIDITY
// change and must not be duplicated — that is the sink's job). After each pass over
// the folders it gets an empty batch: work it holds back for bulk should be done now.
type Sink func(ctx context.Context, batch []Fetched) error

const (
	defaultPollInterval = time.Minute
	defaultBatchSize    = 100
	maxIdle             = 29 * time.Minute // RFC 2177: re-issue IDLE at least every 29 minutes
	firstBackoff        = time.Second
	maxBackoff          = 5 * time.Minute
	dialTimeout         = 30 * time.Second
	idleDoneTimeout     = 30 * time.Second // for the server to answer DONE
	logoutTimeout       = 2 * time.Second
)

// Poller reads one mailbox and hands every letter to its Sink, once per UID: a batch
// is handed over, and only when the sink returns nil is the progress saved.
//
// What can come to the sink twice (the sink must deduplicate): the batch (at most
// BatchSize letters of one folder) that was being handed over when the sink failed,
// the process stopped, or Progress.Save failed; every letter of a folder whose
// UIDVALIDITY changed; a letter moved by MoveTo into a folder that is also read. The
// same letter kept in two folders (INBOX and Sent, when one writes to oneself) comes
// once from each. A batch holds letters of one folder, in UID order.
// A Poller holds no state between calls; Run and SyncOnce may run at the same time.
type Poller struct {
	acc      Account
	progress Progress
	sink     Sink
	log      *slog.Logger
	err      error   // from the account's settings
	metrics  Metrics // never nil
}

// Metrics counts what reading mail does, per mailbox (Account.Name), for crm serve's
// /metrics. Its methods may be called at once from many goroutines.
type Metrics interface {
	// LettersRead: n letters were read from the mailbox and stored.
	LettersRead(mailbox string, n int)
	// MailboxRead: a pass read every folder of the mailbox to its end.
	MailboxRead(mailbox string)
	// LettersStored: letters new to the base were stored, unsorted of them left in
	// the /inbox queue (no client matched).
	LettersStored(mailbox string, stored, unsorted int)
}

type noMetrics struct{}

func (noMetrics) LettersRead(string, int)        {}
func (noMetrics) MailboxRead(string)             {}
func (noMetrics) LettersStored(string, int, int) {}

// SetMetrics makes the poller count in m (nil: nothing); call it before Run.
func (p *Poller) SetMetrics(m Metrics) {
	if m == nil {
		m = noMetrics{}
	}
	p.metrics = m
}

// NewPoller makes a Poller. A bad account setting is reported by Run and SyncOnce.
func NewPoller(acc Account, progress Progress, sink Sink, log *slog.Logger) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	acc, err := acc.withDefaults()
	return &Poller{acc: acc, progress: progress, sink: sink, log: log.With("account", acc.Name), err: err, metrics: noMetrics{}}
}

func (a Account) withDefaults() (Account, error) {
	a.Security = strings.ToLower(strings.TrimSpace(a.Security))
	if a.Security == "" {
		a.Security = "tls"
	}
	if a.Name == "" {
		a.Name = a.User
	}
	if a.Port == 0 {
		a.Port = 143
		if a.Security == "tls" {
			a.Port = 993
		}
	}
	if a.PollInterval <= 0 {
		a.PollInterval = defaultPollInterval
	}
	if a.BatchSize <= 0 {
		a.BatchSize = defaultBatchSize
	}
	a.Folders = slices.Clone(a.Folders)
	for i, f := range a.Folders {
		a.Folders[i] = canonicalFolder(f)
	}
	if a.SentFolders != nil {
		a.SentFolders = slices.Clone(a.SentFolders)
		for i, f := range a.SentFolders {
			a.SentFolders[i] = canonicalFolder(f)
		}
	}
	switch {
	case a.Security != "tls" && a.Security != "starttls" && a.Security != "none":
		return a, fmt.Errorf("imap %s: security %q is unknown: use tls, starttls or none", a.Name, a.Security)
	case a.Host == "":
		return a, fmt.Errorf("imap %s: no host given", a.Name)
	case a.User == "":
		return a, fmt.Errorf("imap %s: no user given", a.Name)
	}
	return a, nil
}

// canonicalFolder spells INBOX, which IMAP treats case-insensitively, one way.
func canonicalFolder(name string) string {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// isSentName tells whether a folder's last path element is a usual name of the sent folder.
func isSentName(name string, delim rune) bool {
	if delim != 0 {
		if i := strings.LastIndex(name, string(delim)); i >= 0 {
			name = name[i+len(string(delim)):]
		}
	}
	switch strings.ToLower(name) {
	case "sent", "sent items", "sent messages", "sent mail", "отправленные", "отправленные письма":
		return true
	}
	return false
}

// folder is one folder the poller reads.
type folder struct {
	name string
	sent bool
}

// conn is one logged-in connection.
type conn struct {
	c       *imapclient.Client
	acc     Account
	log     *slog.Logger
	news    chan struct{} // the selected folder reported new messages (EXISTS)
	idle    bool          // the server has IDLE
	folders []folder
	// next is, per folder read without error on this connection, its UIDVALIDITY and
	// UIDNEXT when it was read: every letter below that was handed over.
	next     map[string][2]uint32
	reported map[string]bool // folders whose trouble was logged on this connection
	stopCtx  func() bool
	canceled chan struct{}
}

// dial connects, greets and logs in; every error says which step failed.
func dial(ctx context.Context, acc Account, log *slog.Logger) (*conn, error) {
	addr := net.JoinHostPort(acc.Host, strconv.Itoa(acc.Port))
	d := net.Dialer{Timeout: dialTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, fmt.Errorf("imap %s: DNS lookup of %q failed (check the host name): %w", acc.Name, acc.Host, err)
		}
		return nil, fmt.Errorf("imap %s: connect to %s failed (check host, port and firewall): %w", acc.Name, addr, err)
	}
	cn := &conn{acc: acc, log: log, news: make(chan struct{}, 1), next: map[string][2]uint32{}, reported: map[string]bool{}, canceled: make(chan struct{})}
	// Cancelling ctx closes the connection, so any blocked read or write returns.
	closeRaw := func() { close(cn.canceled); _ = raw.Close() }
	cn.stopCtx = context.AfterFunc(ctx, closeRaw)
	// A server that stops answering while we greet, negotiate TLS or log in.
	setup := time.AfterFunc(2*dialTimeout, func() { _ = raw.Close() })
	defer setup.Stop()
	fail := func(err error) (*conn, error) {
		if cn.stopCtx() {
			_ = raw.Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("imap %s: %w", acc.Name, context.Cause(ctx))
		}
		return nil, err
	}

	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case cn.news <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	tlsConf := func() *tls.Config {
		cfg := &tls.Config{}
		if acc.TLSConfig != nil {
			cfg = acc.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = acc.Host
		}
		return cfg
	}
	switch acc.Security {
	case "tls":
		tc := tls.Client(raw, tlsConf())
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("imap %s: TLS handshake with %s failed (check the certificate, or the port and security setting): %w", acc.Name, addr, err))
		}
		cn.c = imapclient.New(tc, opts)
	case "starttls":
		opts.TLSConfig = tlsConf()
		c, err := imapclient.NewStartTLS(raw, opts)
		if err != nil {
			return fail(fmt.Errorf("imap %s: STARTTLS with %s failed (check the certificate, or the port and security setting): %w", acc.Name, addr, err))
		}
		cn.c = c
	default:
		cn.c = imapclient.New(raw, opts)
	}
	if err := cn.c.WaitGreeting(); err != nil {
		_ = cn.c.Close()
		return fail(fmt.Errorf("imap %s: no IMAP greeting from %s (is it an IMAP port, and is security %q right?): %w", acc.Name, addr, acc.Security, err))
	}
	if err := cn.c.Login(acc.User, acc.Password).Wait(); err != nil {
		_ = cn.c.Close()
		return fail(fmt.Errorf("imap %s: login as %q failed (check the user name and password): %w", acc.Name, acc.User, err))
	}
	caps := cn.c.Caps()
	cn.idle = caps.Has(imap.CapIdle)
	return cn, nil
}

// close logs out politely (briefly) and closes the connection.
func (cn *conn) close() {
	cn.stopCtx()
	select {
	case <-cn.canceled:
	default:
		done := make(chan struct{})
		go func() {
			_ = cn.c.Logout().Wait()
			close(done)
		}()
		t := time.NewTimer(logoutTimeout)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	_ = cn.c.Close()
}

// listFolders lists every folder with its attributes.
func (cn *conn) listFolders() ([]*imap.ListData, error) {
	var opts *imap.ListOptions
	caps := cn.c.Caps()
	if caps.Has(imap.CapSpecialUse) && caps.Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	list, err := cn.c.List("", "*", opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap %s: listing folders failed: %w", cn.acc.Name, err)
	}
	return list, nil
}

// resolveFolders works out which folders to read and which hold sent mail; missing
// lists configured folders that LIST does not show.
func (cn *conn) resolveFolders() (folders []folder, missing []string, all []string, err error) {
	list, err := cn.listFolders()
	if err != nil {
		return nil, nil, nil, err
	}
	exists := map[string]bool{}
	var byAttr, byName []string
	for _, l := range list {
		name := canonicalFolder(l.Mailbox)
		exists[name] = true
		all = append(all, name)
		if slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		if slices.Contains(l.Attrs, imap.MailboxAttrSent) {
			byAttr = append(byAttr, name)
		} else if isSentName(name, l.Delim) {
			byName = append(byName, name)
		}
	}
	sentCandidates := byAttr
	if len(sentCandidates) == 0 {
		sentCandidates = byName
	}
	names := cn.acc.Folders
	if len(names) == 0 {
		names = []string{"INBOX"}
		if len(sentCandidates) > 0 {
			names = append(names, sentCandidates[0])
		} else {
			cn.log.Info("imap: no sent folder found; reading INBOX only", "folders", all)
		}
	}
	sent := cn.acc.SentFolders
	if sent == nil {
		sent = sentCandidates
	}
	for _, n := range names {
		if !exists[n] {
			missing = append(missing, n)
		}
		folders = append(folders, folder{name: n, sent: slices.Contains(sent, n)})
	}
	if to := canonicalFolder(cn.acc.MoveTo); to != "" && !exists[to] {
		missing = append(missing, to)
	}
	return folders, missing, all, nil
}

// folderError is a folder the server would not open, or whose stored letters it
// would not mark or move: the other folders are still read.
type folderError struct{ err error }

func (e *folderError) Error() string { return e.err.Error() }

func (e *folderError) Unwrap() error { return e.err }

// SyncOnce connects, reads every folder up to now, and disconnects. n is the number of
// letters the sink accepted. A folder that cannot be opened does not stop the others;
// its error is returned with any other.
func (p *Poller) SyncOnce(ctx context.Context) (n int, err error) {
	if p.err != nil {
		return 0, p.err
	}
	cn, err := p.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer cn.close()
	n, folderErrs, err := p.syncAll(ctx, cn)
	if err != nil {
		return n, err
	}
	return n, errors.Join(folderErrs...)
}

func (p *Poller) connect(ctx context.Context) (*conn, error) {
	cn, err := dial(ctx, p.acc, p.log)
	if err != nil {
		return nil, err
	}
	folders, missing, all, err := cn.resolveFolders()
	if err != nil {
		cn.close()
		return nil, err
	}
	if len(missing) > 0 {
		p.log.Warn("imap: configured folders not on the server", "missing", missing, "server_has", all)
	}
	cn.folders = folders
	var names, sent []string
	for _, f := range folders {
		names = append(names, f.name)
		if f.sent {
			sent = append(sent, f.name)
		}
	}
	p.log.Debug("imap: connected", "folders", names, "sent", sent, "idle", cn.idle)
	return cn, nil
}

// syncAll reads every folder. A folder the server will not open is reported in
// folderErrs and the rest are read; err is a failure of the connection, the sink or
// the progress store, which stops the pass.
func (p *Poller) syncAll(ctx context.Context, cn *conn) (n int, folderErrs []error, err error) {
	for _, f := range cn.folders {
		k, err := p.syncFolder(ctx, cn, f)
		n += k
		var fe *folderError
		switch {
		case errors.As(err, &fe) && ctx.Err() == nil:
			level := slog.LevelError
			if cn.reported[f.name] {
				level = slog.LevelDebug // once a connection is enough
			}
			cn.reported[f.name] = true
			p.log.Log(ctx, level, "imap: folder not (fully) handled; the others are read", "folder", f.name, "err", err)
			folderErrs = append(folderErrs, err)
		case err != nil:
			if ctx.Err() != nil {
				return n, folderErrs, fmt.Errorf("imap %s: %w", p.acc.Name, context.Cause(ctx))
			}
			return n, folderErrs, err
		}
	}
	if err := p.sink(ctx, nil); err != nil {
		return n, folderErrs, fmt.Errorf("imap %s: storing letters: %w", p.acc.Name, err)
	}
	if len(folderErrs) == 0 {
		p.metrics.MailboxRead(p.acc.Name)
	}
	return n, folderErrs, nil
}

// batch is one FETCH's worth of letters.
type batch struct {
	letters []Fetched
	uids    imap.UIDSet
	maxUID  uint32
	bytes   int64
	err     error
}

// syncFolder reads the letters of one folder above the saved UID, batch by batch.
func (p *Poller) syncFolder(ctx context.Context, cn *conn, f folder) (int, error) {
	start := time.Now()
	log := p.log.With("folder", f.name)
	modify := p.acc.MarkSeen || p.acc.MoveTo != ""
	sel, err := cn.c.Select(f.name, &imap.SelectOptions{ReadOnly: !modify}).Wait()
	if err != nil {
		if refused(err) {
			return 0, &folderError{fmt.Errorf("imap %s: folder %q cannot be opened (is it missing? check the folder settings): %w", p.acc.Name, f.name, err)}
		}
		return 0, fmt.Errorf("imap %s: opening folder %q: %w", p.acc.Name, f.name, err)
	}
	validity := sel.UIDValidity
	savedValidity, last, err := p.progress.Load(ctx, p.acc.Name, f.name)
	if err != nil {
		return 0, fmt.Errorf("imap %s: loading the progress of %q: %w", p.acc.Name, f.name, err)
	}
	if savedValidity != validity {
		if savedValidity != 0 {
			log.Warn("imap: UIDVALIDITY changed: reading the whole folder again", "was", savedValidity, "now", validity)
		}
		last = 0
		if err := p.progress.Save(ctx, p.acc.Name, f.name, validity, 0); err != nil {
			return 0, fmt.Errorf("imap %s: saving the progress of %q: %w", p.acc.Name, f.name, err)
		}
	}
	uidNext := uint32(sel.UIDNext)
	if sel.NumMessages == 0 || (uidNext != 0 && uidNext <= last+1) {
		cn.next[f.name] = [2]uint32{validity, uidNext}
		return 0, nil
	}

	var rest imap.UIDSet
	rest.AddRange(imap.UID(last+1), 0) // last+1:*
	found, err := cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{rest}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("imap %s: searching %q for new letters: %w", p.acc.Name, f.name, err)
	}
	var uids []uint32
	for _, u := range found.AllUIDs() {
		// "N:*" also matches the highest UID when it is below N: skip what is stored.
		if uint32(u) > last {
			uids = append(uids, uint32(u))
		}
	}
	slices.Sort(uids)
	uids = slices.Compact(uids)
	if len(uids) == 0 {
		cn.next[f.name] = [2]uint32{validity, uidNext}
		return 0, nil
	}
	log.Debug("imap: new letters", "count", len(uids), "after_uid", last)

	var chunks [][]uint32
	for c := range slices.Chunk(uids, p.acc.BatchSize) {
		chunks = append(chunks, c)
	}
	fetch := func(uids []uint32) batch { return cn.fetch(f, validity, last, uids) }

	// The next batch is fetched while the sink stores this one, unless letters are
	// moved (a MOVE expunges while the next FETCH would run).
	next, stop := batches(chunks, fetch, p.acc.MoveTo == "")
	defer stop()

	n := 0
	var bytes int64
	var refusal error
	for {
		b, ok := next()
		if !ok {
			break
		}
		if b.err != nil {
			return n, fmt.Errorf("imap %s: reading letters from %q: %w", p.acc.Name, f.name, b.err)
		}
		if len(b.letters) > 0 {
			if err := p.sink(ctx, b.letters); err != nil {
				return n, fmt.Errorf("imap %s: storing letters from %q (UIDs %v): %w", p.acc.Name, f.name, b.uids, err)
			}
		}
		n += len(b.letters)
		bytes += b.bytes
		if err := p.progress.Save(ctx, p.acc.Name, f.name, validity, b.maxUID); err != nil {
			return n, fmt.Errorf("imap %s: saving the progress of %q: %w", p.acc.Name, f.name, err)
		}
		p.metrics.LettersRead(p.acc.Name, len(b.letters))
		// The letters are stored: if the server refuses to mark or move them, reading
		// goes on and the first refusal is reported for the folder (SyncOnce's error,
		// Run's log); a broken connection stops the pass.
		if p.acc.MarkSeen {
			flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
			if err := cn.c.Store(b.uids, flags, nil).Close(); err != nil {
				err = fmt.Errorf("imap %s: marking stored letters in %q as seen: %w", p.acc.Name, f.name, err)
				if !refused(err) {
					return n, err
				}
				if refusal == nil {
					refusal = err
				}
			}
		}
		if p.acc.MoveTo != "" {
			// imapclient falls back to COPY + STORE \Deleted + EXPUNGE without MOVE.
			if _, err := cn.c.Move(b.uids, p.acc.MoveTo).Wait(); err != nil {
				err = fmt.Errorf("imap %s: moving stored letters from %q to %q (does it exist?): %w", p.acc.Name, f.name, p.acc.MoveTo, err)
				if !refused(err) {
					return n, err
				}
				if refusal == nil {
					refusal = err
				}
			}
		}
		log.Debug("imap: batch stored", "letters", len(b.letters), "last_uid", b.maxUID)
	}
	cn.next[f.name] = [2]uint32{validity, uidNext}
	log.Info("imap: letters read", "letters", n, "bytes", bytes, "took", time.Since(start).Round(time.Millisecond))
	if refusal != nil {
		return n, &folderError{refusal}
	}
	return n, nil
}

// refused tells a command the server answered with NO or BAD from one that failed
// with the connection.
func refused(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr)
}

// batches yields the fetched chunks in order. With prefetch, one goroutine fetches
// the next chunk while the caller handles the current one; stop ends it (and waits).
func batches(chunks [][]uint32, fetch func([]uint32) batch, prefetch bool) (next func() (batch, bool), stop func()) {
	if !prefetch {
		i := 0
		return func() (batch, bool) {
			if i >= len(chunks) {
				return batch{}, false
			}
			i++
			return fetch(chunks[i-1]), true
		}, func() {}
	}
	out := make(chan batch)
	quit := make(chan struct{})
	go func() {
		defer close(out)
		for _, c := range chunks {
			b := fetch(c)
			select {
			case out <- b:
			case <-quit:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return func() (batch, bool) {
			b, ok := <-out
			return b, ok
		}, func() {
			close(quit)
			for range out { // wait for the fetcher to finish its FETCH
			}
		}
}

// fetch reads the letters with the given UIDs: UID FETCH (UID RFC822.SIZE BODY.PEEK[]);
// PEEK leaves \Seen alone. A UID that came without a body (expunged meanwhile, or an
// unsolicited FETCH of its flags taken for the answer) is asked for once more; what
// is still missing then is gone from the folder.
func (cn *conn) fetch(f folder, validity, last uint32, uids []uint32) batch {
	b := batch{maxUID: uids[len(uids)-1], letters: make([]Fetched, 0, len(uids))}
	for _, u := range uids {
		b.uids.AddNum(imap.UID(u))
	}
	want := b.uids
	for attempt := 0; attempt < 2 && len(want) > 0; attempt++ {
		got, err := cn.fetchOnce(f, validity, last, want)
		if err != nil {
			return batch{uids: b.uids, maxUID: b.maxUID, err: err}
		}
		var missing imap.UIDSet
		have := make(map[uint32]bool, len(got))
		for _, l := range got {
			if !have[l.UID] {
				have[l.UID] = true
				b.letters = append(b.letters, l)
				b.bytes += int64(len(l.Raw))
			}
		}
		nums, _ := want.Nums()
		for _, u := range nums {
			if !have[uint32(u)] {
				missing.AddNum(u)
			}
		}
		want = missing
	}
	if len(want) > 0 {
		cn.log.Debug("imap: letters gone before they were read", "folder", f.name, "uids", want.String())
	}
	slices.SortFunc(b.letters, func(x, y Fetched) int { return cmp.Compare(x.UID, y.UID) })
	return b
}

func (cn *conn) fetchOnce(f folder, validity, last uint32, uids imap.UIDSet) ([]Fetched, error) {
	cmd := cn.c.Fetch(uids, &imap.FetchOptions{
		UID:         true,
		RFC822Size:  true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var out []Fetched
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid uint32
		var raw []byte
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(it.UID)
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				buf := make([]byte, it.Literal.Size())
				if _, err := io.ReadFull(it.Literal, buf); err != nil {
					// The connection broke inside the letter. imapclient's reader has
					// moved on, so the command must not be read any further (Next and
					// Close would read the literal again, racing with it): drop the
					// connection instead.
					_ = cn.c.Close()
					return nil, fmt.Errorf("reading a letter: %w", err)
				}
				raw = buf
			}
		}
		// "N:*" quirks aside, a server may answer with what was not asked for.
		if raw != nil && uid > last && uids.Contains(imap.UID(uid)) {
			out = append(out, Fetched{Account: cn.acc.Name, Folder: f.name, Sent: f.sent, UIDValidity: validity, UID: uid, Raw: raw})
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// Run reads the mailbox until ctx is done, then returns nil. It reads every folder,
// then waits. With IDLE it waits in IDLE on the first folder it read (INBOX), and
// keeps a connection of its own in IDLE on each other folder read (the Sent folder),
// up to maxWatched of them: news in any of them starts the next pass within seconds;
// every folder is read again after PollInterval anyway. Without IDLE it sleeps
// PollInterval. After a failure of the network, the server, the sink or the progress
// store it reconnects after a pause of 1 s doubling up to 5 min, back to 1 s after a
// pass that read every folder. It returns an error only for a bad account setting.
func (p *Poller) Run(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	var delay time.Duration
	for {
		err := p.session(ctx, func() { delay = 0 })
		if ctx.Err() != nil {
			return nil
		}
		delay = min(max(delay*2, firstBackoff), maxBackoff)
		p.log.Warn("imap: mailbox unavailable; will try again", "err", err, "in", delay)
		if !sleep(ctx, delay) {
			return nil
		}
	}
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// maxWatched is how many folders besides the one the reading connection waits on
// get a connection of their own in IDLE: servers limit a login's connections (Gmail
// to 15, some to fewer), and other folders are still read every PollInterval.
const maxWatched = 3

// session is one connection's life: read everything, wait for news, again.
func (p *Poller) session(ctx context.Context, synced func()) error {
	cn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.close()
	wake := make(chan struct{}, 1) // a watched folder has news
	watchCtx, stopWatching := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	defer func() {
		stopWatching()
		watchers.Wait()
	}()
	watching := false
	for {
		select { // news from now on counts; this pass reads what came before
		case <-cn.news:
		default:
		}
		select {
		case <-wake:
		default:
		}
		if _, _, err := p.syncAll(ctx, cn); err != nil {
			return err
		}
		synced()
		if !watching && cn.idle {
			watching = true
			for _, name := range cn.watched() {
				watchers.Go(func() { p.watch(watchCtx, name, wake) })
			}
		}
		if err := p.wait(ctx, cn, wake); err != nil {
			return err
		}
	}
}

// idleFolder is the folder the reading connection waits on: the first one it read.
func (cn *conn) idleFolder() string {
	for _, f := range cn.folders {
		if _, ok := cn.next[f.name]; ok {
			return f.name
		}
	}
	return ""
}

// watched are the other folders it read, which get connections of their own in IDLE.
func (cn *conn) watched() []string {
	first := cn.idleFolder()
	var out []string
	for _, f := range cn.folders {
		if _, ok := cn.next[f.name]; ok && f.name != first && len(out) < maxWatched && !slices.Contains(out, f.name) {
			out = append(out, f.name)
		}
	}
	return out
}

// wait returns when the folders should be read again.
func (p *Poller) wait(ctx context.Context, cn *conn, wake <-chan struct{}) error {
	interval := min(p.acc.PollInterval, maxIdle)
	timer := time.NewTimer(interval)
	defer timer.Stop()
	if name := cn.idleFolder(); cn.idle && name != "" {
		ok, err := p.idle(ctx, cn, name, timer.C, wake)
		if ok || err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-cn.c.Closed():
		return fmt.Errorf("imap %s: the server closed the connection", p.acc.Name)
	case <-timer.C:
		return nil
	case <-wake:
		return nil
	}
}

// idle waits in IDLE on a folder until it, or a watched folder (wake), reports news,
// the timer fires or ctx is done. ok is false when the folder cannot be opened (the
// caller just sleeps).
func (p *Poller) idle(ctx context.Context, cn *conn, name string, timer <-chan time.Time, wake <-chan struct{}) (ok bool, err error) {
	sel, err := cn.c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		if refused(err) {
			return false, nil
		}
		return true, fmt.Errorf("imap %s: opening %q to wait for letters: %w", p.acc.Name, name, err)
	}
	// Letters that came between reading the folder and opening it again.
	if seen, ok := cn.next[name]; ok && (seen[0] != sel.UIDValidity || (sel.UIDNext != 0 && uint32(sel.UIDNext) != seen[1])) {
		return true, nil
	}
	cmd, err := cn.c.Idle()
	if err != nil {
		return true, fmt.Errorf("imap %s: IDLE: %w", p.acc.Name, err)
	}
	var closed bool
	select {
	case <-ctx.Done():
	case <-cn.news:
		p.log.Debug("imap: new letters announced", "folder", name)
	case <-wake:
	case <-timer:
	case <-cn.c.Closed():
		closed = true
	}
	if ctx.Err() != nil {
		_ = cmd.Close()
		return true, context.Cause(ctx)
	}
	if closed {
		_ = cmd.Close()
		return true, fmt.Errorf("imap %s: the server closed the connection", p.acc.Name)
	}
	return true, cn.endIdle(cmd)
}

// endIdle sends DONE and waits for the server's answer, a limited time.
func (cn *conn) endIdle(cmd *imapclient.IdleCommand) error {
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap %s: ending IDLE: %w", cn.acc.Name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(idleDoneTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("imap %s: ending IDLE: %w", cn.acc.Name, err)
		}
		return nil
	case <-t.C:
		_ = cn.c.Close()
		<-done
		return fmt.Errorf("imap %s: the server did not answer the end of IDLE in %v", cn.acc.Name, idleDoneTimeout)
	}
}

// watch keeps a connection of its own in IDLE on a folder and signals wake whenever
// the folder reports news, and once each time IDLE starts (for what came before).
// A broken connection is made again after 1 s doubling up to 5 min; a folder the
// server will not open, or a server that turns a second connection away for good,
// is left to the reading connection's passes.
func (p *Poller) watch(ctx context.Context, name string, wake chan<- struct{}) {
	log := p.log.With("folder", name)
	var delay time.Duration
	for {
		err := p.watchOnce(ctx, name, wake, func() { delay = 0 })
		if ctx.Err() != nil {
			return
		}
		var fe *folderError
		if errors.As(err, &fe) {
			log.Warn("imap: not waiting for letters in this folder; it is read every poll interval", "err", err)
			return
		}
		delay = min(max(delay*2, firstBackoff), maxBackoff)
		log.Warn("imap: waiting for letters in a folder failed; will try again (it is still read every poll interval)", "err", err, "in", delay)
		if !sleep(ctx, delay) {
			return
		}
	}
}

func (p *Poller) watchOnce(ctx context.Context, name string, wake chan<- struct{}, up func()) error {
	cn, err := dial(ctx, p.acc, p.log)
	if refused(err) {
		// The reading connection logged in: this one is over the login's limit.
		return &folderError{fmt.Errorf("imap %s: the server refused a second connection: %w", p.acc.Name, err)}
	}
	if err != nil {
		return err
	}
	defer cn.close()
	if !cn.idle {
		return &folderError{fmt.Errorf("imap %s: the server offers no IDLE", p.acc.Name)}
	}
	if _, err := cn.c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		if refused(err) {
			return &folderError{fmt.Errorf("imap %s: folder %q cannot be opened to wait for letters: %w", p.acc.Name, name, err)}
		}
		return fmt.Errorf("imap %s: opening %q to wait for letters: %w", p.acc.Name, name, err)
	}
	cmd, err := cn.c.Idle()
	if err != nil {
		return fmt.Errorf("imap %s: IDLE on %q: %w", p.acc.Name, name, err)
	}
	up()
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	signal()
	// imapclient renews IDLE before servers time it out (RFC 2177).
	for {
		select {
		case <-ctx.Done():
			_ = cmd.Close()
			return context.Cause(ctx)
		case <-cn.c.Closed():
			_ = cmd.Close()
			return fmt.Errorf("imap %s: the server closed the connection waiting on %q", p.acc.Name, name)
		case <-cn.news:
			p.log.Debug("imap: new letters announced", "folder", name)
			signal()
		}
	}
}

// Check logs in and lists the folders the account would read (marking none). Its
// errors say which step failed: DNS, connect, TLS, greeting, login, or a missing folder.
func Check(ctx context.Context, acc Account) ([]string, error) {
	acc, err := acc.withDefaults()
	if err != nil {
		return nil, err
	}
	cn, err := dial(ctx, acc, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer cn.close()
	folders, missing, all, err := cn.resolveFolders()
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = strconv.Quote(m)
		}
		return nil, fmt.Errorf("imap %s: folder %s missing on the server (it has: %s)", acc.Name, strings.Join(quoted, ", "), strings.Join(all, ", "))
	}
	names := make([]string, 0, len(folders))
	for _, f := range folders {
		if _, err := cn.c.Select(f.name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return nil, fmt.Errorf("imap %s: folder %q cannot be opened: %w", acc.Name, f.name, err)
		}
		names = append(names, f.name)
	}
	return names, nil
}
