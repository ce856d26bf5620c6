package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/crm-team/crm/mail/imaptest"
)

// memProgress is an in-memory Progress.
type memProgress struct {
	mu sync.Mutex
	m  map[string][2]uint32
}

func newProgress() *memProgress { return &memProgress{m: map[string][2]uint32{}} }

func (p *memProgress) Load(_ context.Context, account, folder string) (uint32, uint32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.m[account+"/"+folder]
	return v[0], v[1], nil
}

func (p *memProgress) Save(_ context.Context, account, folder string, validity, last uint32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[account+"/"+folder] = [2]uint32{validity, last}
	return nil
}

func (p *memProgress) get(folder string) (validity, last uint32) {
	v, l, _ := p.Load(context.Background(), "sales", folder)
	return v, l
}

// recorder is a Sink that keeps what it was handed. With failAt > 0 it stores letters
// until it holds failAt of them, then fails the batch it is in (a partial store).
type recorder struct {
	mu     sync.Mutex
	got    []Fetched
	failAt int
}

var errSinkBroken = errors.New("the database is down")

func (r *recorder) sink(_ context.Context, batch []Fetched) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range batch {
		if r.failAt > 0 && len(r.got) >= r.failAt {
			return errSinkBroken
		}
		r.got = append(r.got, f)
	}
	return nil
}

func (r *recorder) all() []Fetched {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// byKey counts deliveries per folder and UID.
func (r *recorder) byKey() map[string]int {
	m := map[string]int{}
	for _, f := range r.all() {
		m[key(f.Folder, f.UID)]++
	}
	return m
}

func key(folder string, uid uint32) string { return folder + "#" + strconv.Itoa(int(uid)) }

// messageID reads the Message-ID header of a raw letter (enough for the test letters).
func messageID(raw []byte) string {
	_, rest, ok := bytes.Cut(raw, []byte("\r\nMessage-ID: <"))
	if !ok {
		return ""
	}
	id, _, _ := bytes.Cut(rest, []byte(">"))
	return string(id)
}

func account(s *imaptest.Server) Account {
	return Account{Name: "sales", Host: s.Host(), Port: s.Port(), Security: "none", User: imaptest.User, Password: imaptest.Password}
}

func testLog(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// small makes n short letters (for tests where size does not matter).
func small(n int, tag string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "Message-ID: <%s-%d@client.ru>\r\nFrom: p%d@client%d.ru\r\nTo: sales@company.ru\r\n"+
			"Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\nDate: Mon, 12 Jan 2026 10:00:00 +0300\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\nЗдравствуйте! Письмо %d.\r\n", tag, i, i%7, i%13, i)
	}
	return out
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPollerDeliversEveryLetterOnce(t *testing.T) {
	srv := imaptest.NewServer(t)
	inbox := imaptest.GenerateLetters(1000, 1)
	sent := imaptest.GenerateOutgoing(60, 1)
	srv.AddLetters("INBOX", inbox)
	srv.AddLetters("Sent", sent)

	prog, rec := newProgress(), &recorder{}
	p := NewPoller(account(srv), prog, rec.sink, testLog(t))
	n, err := p.SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1060 {
		t.Fatalf("delivered %d, want 1060", n)
	}
	got := rec.all()
	ids := map[string]bool{}
	for _, f := range got {
		if f.Account != "sales" || f.UID == 0 || f.UIDValidity == 0 {
			t.Fatalf("bad letter %+v", f)
		}
		if f.Sent != (f.Folder == "Sent") {
			t.Fatalf("letter %s/%d: Sent=%v", f.Folder, f.UID, f.Sent)
		}
		id := messageID(f.Raw)
		if ids[id] {
			t.Fatalf("delivered twice: %s", id)
		}
		ids[id] = true
	}
	for i, raw := range inbox {
		if !ids[messageID(raw)] {
			t.Fatalf("letter %d missing", i)
		}
	}
	// The raw bytes are the letters as appended.
	if f := got[0]; f.Folder != "INBOX" || f.UID != 1 || !bytes.Equal(f.Raw, inbox[0]) {
		t.Fatalf("first letter: %s/%d, %d bytes, want INBOX/1, %d bytes", f.Folder, f.UID, len(f.Raw), len(inbox[0]))
	}
	if v, last := prog.get("INBOX"); v != srv.UIDValidity("INBOX") || last != 1000 {
		t.Fatalf("INBOX progress %d/%d", v, last)
	}
	if v, last := prog.get("Sent"); v != srv.UIDValidity("Sent") || last != 60 {
		t.Fatalf("Sent progress %d/%d", v, last)
	}
	// Read-only: nothing was marked seen.
	if srv.Unseen("INBOX") != 1000 || srv.Unseen("Sent") != 60 {
		t.Fatalf("unseen after sync: INBOX %d, Sent %d", srv.Unseen("INBOX"), srv.Unseen("Sent"))
	}

	n, err = p.SyncOnce(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("second sync: %d, %v", n, err)
	}
	srv.AddLetters("INBOX", small(3, "more"))
	n, err = p.SyncOnce(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("third sync: %d, %v", n, err)
	}
	if got := rec.all(); got[len(got)-1].UID != 1003 {
		t.Fatalf("last UID %d", got[len(got)-1].UID)
	}
}

// A sink failing halfway: the next poller (same progress) delivers the rest. What
// repeats is exactly the part of the failed batch that the sink had stored before it
// failed (here UIDs 401-500: the batch was 401-600); nothing is lost.
func TestPollerRestartAfterSinkFailure(t *testing.T) {
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", imaptest.GenerateLetters(1000, 2))
	srv.AddLetters("Sent", imaptest.GenerateOutgoing(30, 2))
	prog := newProgress()
	acc := account(srv)
	acc.BatchSize = 200

	rec := &recorder{failAt: 500}
	n, err := NewPoller(acc, prog, rec.sink, testLog(t)).SyncOnce(context.Background())
	if !errors.Is(err, errSinkBroken) {
		t.Fatalf("want the sink's error, got %v", err)
	}
	if !strings.Contains(err.Error(), "INBOX") {
		t.Fatalf("the error does not name the folder: %v", err)
	}
	if n != 400 {
		t.Fatalf("accepted %d, want 400 (two whole batches)", n)
	}
	if _, last := prog.get("INBOX"); last != 400 {
		t.Fatalf("progress %d, want 400: saved only after the sink said yes", last)
	}

	rec.failAt = 0 // the database is back; a new process starts
	n, err = NewPoller(acc, prog, rec.sink, testLog(t)).SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 600+30 {
		t.Fatalf("second run delivered %d, want 630", n)
	}
	counts := rec.byKey()
	for uid := uint32(1); uid <= 1000; uid++ {
		c := counts[key("INBOX", uid)]
		switch {
		case c == 0:
			t.Fatalf("INBOX/%d lost", uid)
		case c > 1 && (uid < 401 || uid > 600):
			t.Fatalf("INBOX/%d delivered %d times, outside the failed batch", uid, c)
		case c > 2:
			t.Fatalf("INBOX/%d delivered %d times", uid, c)
		case c == 2 && uid > 500:
			t.Fatalf("INBOX/%d repeated although the sink never stored it", uid)
		}
	}
	for uid := uint32(1); uid <= 30; uid++ {
		if counts[key("Sent", uid)] != 1 {
			t.Fatalf("Sent/%d delivered %d times", uid, counts[key("Sent", uid)])
		}
	}
}

func TestPollerUIDValidityChangeReadsEverythingAgain(t *testing.T) {
	srv := imaptest.NewServer(t)
	letters := small(300, "uv")
	srv.AddLetters("INBOX", letters)
	prog, rec := newProgress(), &recorder{}
	p := NewPoller(account(srv), prog, rec.sink, testLog(t))
	if n, err := p.SyncOnce(context.Background()); err != nil || n != 300 {
		t.Fatalf("first sync: %d, %v", n, err)
	}
	oldValidity, _ := prog.get("INBOX")

	// The server rebuilt the folder: same letters, new UIDVALIDITY, UIDs from 1 again.
	srv.RecreateFolder("INBOX")
	srv.AddLetters("INBOX", letters[:250])
	newValidity := srv.UIDValidity("INBOX")
	if newValidity == oldValidity {
		t.Fatal("the server kept UIDVALIDITY")
	}
	n, err := p.SyncOnce(context.Background())
	if err != nil || n != 250 {
		t.Fatalf("after the change: %d, %v (want all 250 again: the sink deduplicates)", n, err)
	}
	for _, f := range rec.all()[300:] {
		if f.UIDValidity != newValidity {
			t.Fatalf("letter %d has UIDVALIDITY %d, want %d", f.UID, f.UIDValidity, newValidity)
		}
	}
	if v, last := prog.get("INBOX"); v != newValidity || last != 250 {
		t.Fatalf("progress %d/%d, want %d/250", v, last, newValidity)
	}
	// An empty rebuilt folder still records the new UIDVALIDITY.
	srv.RecreateFolder("Sent")
	if n, err := p.SyncOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("third sync: %d, %v", n, err)
	}
	if v, _ := prog.get("Sent"); v != srv.UIDValidity("Sent") {
		t.Fatalf("Sent progress keeps UIDVALIDITY %d, server has %d", v, srv.UIDValidity("Sent"))
	}
}

// The server drops the connection in the middle of a FETCH; Run reconnects and a
// deduplicating sink ends up with every letter exactly once. The broken batch was
// never handed over, so nothing even reaches the sink twice.
func TestPollerReconnectsAfterDropMidFetch(t *testing.T) {
	srv := imaptest.NewServer(t)
	letters := imaptest.GenerateLetters(600, 3)
	srv.AddLetters("INBOX", letters)
	srv.AddLetters("Sent", imaptest.GenerateOutgoing(20, 3))
	srv.DropAfter(8 << 20) // well inside the first folder's letters (~24 MB)

	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prog := newProgress()
	var mu sync.Mutex
	stored := map[string]bool{}
	handed := 0
	sink := func(_ context.Context, batch []Fetched) error {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range batch {
			handed++
			stored[messageID(f.Raw)] = true // a deduplicating store
		}
		return nil
	}
	acc := account(srv)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, prog, sink, log).Run(ctx) }()
	waitFor(t, "every letter", 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(stored) == 620
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
	if srv.Dropped() != 1 || srv.Connections() < 2 {
		t.Fatalf("dropped %d, connections %d: the fault did not happen", srv.Dropped(), srv.Connections())
	}
	if handed != 620 {
		t.Fatalf("the sink was handed %d letters for 620", handed)
	}
	if _, last := prog.get("INBOX"); last != 600 {
		t.Fatalf("progress %d", last)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if testing.Verbose() {
		t.Log(logs.String())
	}
	if !strings.Contains(logs.String(), "will try again") {
		t.Fatalf("the failure was not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), imaptest.Password) {
		t.Fatal("the password is in the logs")
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// With IDLE a new letter arrives at once, long before the poll interval.
func TestPollerIdleDeliversNewLetterPromptly(t *testing.T) {
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", small(5, "before"))
	prog, rec := newProgress(), &recorder{}
	acc := account(srv)
	acc.PollInterval = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, prog, rec.sink, testLog(t)).Run(ctx) }()
	waitFor(t, "the first letters", 10*time.Second, func() bool { return len(rec.all()) == 5 })

	time.Sleep(100 * time.Millisecond) // let it settle in IDLE
	srv.AddLetters("INBOX", small(1, "new"))
	waitFor(t, "the new letter", 10*time.Second, func() bool { return len(rec.all()) == 6 })
	srv.AddLetters("INBOX", small(2, "newer"))
	waitFor(t, "two more", 10*time.Second, func() bool { return len(rec.all()) == 8 })

	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Run took %v to stop", d)
	}
	if counts := rec.byKey(); len(counts) != 8 {
		t.Fatalf("deliveries %v", counts)
	}
}

// Folders beyond those watched in IDLE are read every PollInterval.
func TestPollerPollsOtherFolders(t *testing.T) {
	srv := imaptest.NewServer(t)
	prog, rec := newProgress(), &recorder{}
	acc := account(srv)
	acc.PollInterval = 200 * time.Millisecond
	acc.Folders = []string{"INBOX"}
	for i := range maxWatched {
		f := fmt.Sprintf("F%d", i)
		srv.CreateFolder(f)
		acc.Folders = append(acc.Folders, f)
	}
	acc.Folders = append(acc.Folders, "Sent")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, prog, rec.sink, testLog(t)).Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	srv.AddLetters("Sent", small(2, "out"))
	waitFor(t, "the sent letters", 10*time.Second, func() bool { return len(rec.all()) == 2 })
	for _, f := range rec.all() {
		if !f.Sent || f.Folder != "Sent" {
			t.Fatalf("%+v", f)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPollerMarkSeenAndMove(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []imaptest.Option
	}{{"MOVE", nil}, {"COPY+EXPUNGE", []imaptest.Option{imaptest.WithoutMove()}}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := imaptest.NewServer(t, tc.opts...)
			srv.CreateFolder("Archive")
			srv.AddLetters("INBOX", small(450, "mv"))
			acc := account(srv)
			acc.MarkSeen = true
			acc.MoveTo = "Archive"
			rec := &recorder{}
			p := NewPoller(acc, newProgress(), rec.sink, testLog(t))
			if n, err := p.SyncOnce(context.Background()); err != nil || n != 450 {
				t.Fatalf("sync: %d, %v", n, err)
			}
			if srv.Count("INBOX") != 0 || srv.Count("Archive") != 450 || srv.Unseen("Archive") != 0 {
				t.Fatalf("INBOX %d, Archive %d (unseen %d)", srv.Count("INBOX"), srv.Count("Archive"), srv.Unseen("Archive"))
			}
			if n, err := p.SyncOnce(context.Background()); err != nil || n != 0 {
				t.Fatalf("second sync: %d, %v", n, err)
			}
		})
	}
	t.Run("MarkSeen only", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.AddLetters("INBOX", small(10, "seen"))
		acc := account(srv)
		acc.MarkSeen = true
		if n, err := NewPoller(acc, newProgress(), (&recorder{}).sink, testLog(t)).SyncOnce(context.Background()); err != nil || n != 10 {
			t.Fatalf("sync: %d, %v", n, err)
		}
		if srv.Unseen("INBOX") != 0 || srv.Count("INBOX") != 10 {
			t.Fatalf("unseen %d of %d", srv.Unseen("INBOX"), srv.Count("INBOX"))
		}
	})
	t.Run("MoveTo a missing folder", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.AddLetters("INBOX", small(30, "nomove"))
		acc := account(srv)
		acc.MoveTo = "Архив"
		acc.BatchSize = 10
		if _, err := Check(context.Background(), acc); err == nil || !strings.Contains(err.Error(), `"Архив"`) {
			t.Fatalf("Check: %v", err)
		}
		// Every letter is still delivered (once); the refusal is reported.
		rec := &recorder{}
		n, err := NewPoller(acc, newProgress(), rec.sink, testLog(t)).SyncOnce(context.Background())
		if n != 30 || err == nil || !strings.Contains(err.Error(), `"Архив"`) {
			t.Fatalf("%d, %v", n, err)
		}
		if srv.Count("INBOX") != 30 {
			t.Fatalf("INBOX has %d", srv.Count("INBOX"))
		}
	})
	t.Run("a failed sink marks nothing", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.AddLetters("INBOX", small(10, "seen"))
		acc := account(srv)
		acc.MarkSeen = true
		failing := func(context.Context, []Fetched) error { return errSinkBroken }
		if _, err := NewPoller(acc, newProgress(), failing, testLog(t)).SyncOnce(context.Background()); !errors.Is(err, errSinkBroken) {
			t.Fatal(err)
		}
		if srv.Unseen("INBOX") != 10 {
			t.Fatalf("unseen %d of 10", srv.Unseen("INBOX"))
		}
	})
}

func TestPollerOverTLSAndSTARTTLS(t *testing.T) {
	for _, tc := range []struct {
		security string
		opt      imaptest.Option
	}{{"tls", imaptest.WithTLS()}, {"starttls", imaptest.WithStartTLS()}} {
		t.Run(tc.security, func(t *testing.T) {
			srv := imaptest.NewServer(t, tc.opt)
			srv.AddLetters("INBOX", small(20, "tls"))
			acc := account(srv)
			acc.Security = tc.security
			acc.TLSConfig = srv.ClientTLSConfig()
			rec := &recorder{}
			if n, err := NewPoller(acc, newProgress(), rec.sink, testLog(t)).SyncOnce(context.Background()); err != nil || n != 20 {
				t.Fatalf("sync: %d, %v", n, err)
			}
			// Without trusting the certificate: a TLS error, said plainly.
			acc.TLSConfig = nil
			_, err := Check(context.Background(), acc)
			if err == nil || !strings.Contains(err.Error(), "TLS") {
				t.Fatalf("want a TLS error, got %v", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	srv := imaptest.NewServer(t)
	ctx := context.Background()
	folders, err := Check(ctx, account(srv))
	if err != nil || !slices.Equal(folders, []string{"INBOX", "Sent"}) {
		t.Fatalf("Check: %v, %v", folders, err)
	}

	acc := account(srv)
	acc.Password = "wrong"
	if _, err := Check(ctx, acc); err == nil || !strings.Contains(err.Error(), "login") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: %v", err)
	}

	acc = account(srv)
	acc.Host = "no-such-host.invalid"
	if _, err := Check(ctx, acc); err == nil || !strings.Contains(err.Error(), "DNS") {
		t.Fatalf("unknown host: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc = account(srv)
	acc.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := Check(ctx, acc); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("closed port: %v", err)
	}

	acc = account(srv)
	acc.Folders = []string{"INBOX", "Архив"}
	if _, err := Check(ctx, acc); err == nil || !strings.Contains(err.Error(), `"Архив"`) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing folder: %v", err)
	}

	acc = account(srv)
	acc.Security = "ssl"
	if _, err := Check(ctx, acc); err == nil || !strings.Contains(err.Error(), "security") {
		t.Fatalf("bad security: %v", err)
	}
}

// A folder that does not exist is reported, and the others are still read.
func TestPollerMissingFolderDoesNotStopTheOthers(t *testing.T) {
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", small(4, "m"))
	acc := account(srv)
	acc.Folders = []string{"Архив", "INBOX"}
	rec := &recorder{}
	n, err := NewPoller(acc, newProgress(), rec.sink, testLog(t)).SyncOnce(context.Background())
	if n != 4 || err == nil || !strings.Contains(err.Error(), `"Архив"`) {
		t.Fatalf("%d, %v", n, err)
	}
}

// Run keeps reading the other folders, polling every PollInterval when the first
// folder (the one it would IDLE on) cannot be opened: the same path as a server
// without IDLE.
func TestPollerRunPollsWhenItCannotIdle(t *testing.T) {
	srv := imaptest.NewServer(t)
	acc := account(srv)
	acc.Folders = []string{"Архив", "INBOX"}
	acc.PollInterval = 200 * time.Millisecond
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, newProgress(), rec.sink, testLog(t)).Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	srv.AddLetters("INBOX", small(3, "poll"))
	waitFor(t, "the letters", 10*time.Second, func() bool { return len(rec.all()) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 1 {
		t.Fatalf("%d connections: a missing folder is not a reason to reconnect", srv.Connections())
	}
}

// Default folders: the \Sent special-use attribute wins; without it, the usual names.
func TestPollerFindsTheSentFolder(t *testing.T) {
	t.Run("special-use", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.CreateFolder("Sent") // no longer marked
		srv.CreateFolder("Исходящие", imap.MailboxAttrSent)
		folders, err := Check(context.Background(), account(srv))
		if err != nil || !slices.Equal(folders, []string{"INBOX", "Исходящие"}) {
			t.Fatalf("%v, %v", folders, err)
		}
	})
	t.Run("by name", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.DeleteFolder("Sent")
		srv.CreateFolder("Отправленные")
		srv.AddLetters("Отправленные", small(3, "out"))
		srv.AddLetters("INBOX", small(2, "in"))
		folders, err := Check(context.Background(), account(srv))
		if err != nil || !slices.Equal(folders, []string{"INBOX", "Отправленные"}) {
			t.Fatalf("%v, %v", folders, err)
		}
		rec := &recorder{}
		if n, err := NewPoller(account(srv), newProgress(), rec.sink, testLog(t)).SyncOnce(context.Background()); err != nil || n != 5 {
			t.Fatalf("%d, %v", n, err)
		}
		for _, f := range rec.all() {
			if f.Sent != (f.Folder == "Отправленные") {
				t.Fatalf("%s/%d: Sent=%v", f.Folder, f.UID, f.Sent)
			}
		}
	})
	t.Run("none", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.DeleteFolder("Sent")
		folders, err := Check(context.Background(), account(srv))
		if err != nil || !slices.Equal(folders, []string{"INBOX"}) {
			t.Fatalf("%v, %v", folders, err)
		}
	})
	t.Run("configured", func(t *testing.T) {
		srv := imaptest.NewServer(t)
		srv.CreateFolder("Clients/Outbox")
		srv.AddLetters("Clients/Outbox", small(1, "o"))
		acc := account(srv)
		acc.Folders = []string{"inbox", "Clients/Outbox"}
		acc.SentFolders = []string{"Clients/Outbox"}
		rec := &recorder{}
		if n, err := NewPoller(acc, newProgress(), rec.sink, testLog(t)).SyncOnce(context.Background()); err != nil || n != 1 {
			t.Fatalf("%d, %v", n, err)
		}
		if f := rec.all()[0]; !f.Sent || f.Folder != "Clients/Outbox" {
			t.Fatalf("%+v", f)
		}
	})
}

// Cancelling stops a sync in the middle of a FETCH and Run in IDLE, promptly.
func TestPollerStopsOnCancel(t *testing.T) {
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", small(2000, "c"))
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	sink := func(ctx context.Context, batch []Fetched) error {
		once.Do(cancel) // cancel during the first batch
		return nil
	}
	acc := account(srv)
	acc.BatchSize = 50
	start := time.Now()
	n, err := NewPoller(acc, newProgress(), sink, testLog(t)).SyncOnce(ctx)
	if !errors.Is(err, context.Canceled) || n >= 2000 {
		t.Fatalf("%d, %v", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}
