// Package imaptest runs a real IMAP server (go-imap v2's imapserver with its in-memory
// backend) on a loopback port for tests and benchmarks, and makes realistic letters
// for it. It does not import package mail, so both mail's own tests and other
// packages' tests (the ingestion benchmark) can use it.
package imaptest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crm-team/crm/internal/selfsigned"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// The one mailbox user of every Server.
const (
	User     = "sales@company.ru"
	Password = "secret"
)

// Option changes how a Server is started.
type Option func(*config)

type config struct {
	security string // "none", "tls", "starttls"
	noMove   bool
}

// WithTLS makes the server speak implicit TLS (like port 993) with a self-signed
// certificate for 127.0.0.1; ClientTLSConfig trusts it.
func WithTLS() Option { return func(c *config) { c.security = "tls" } }

// WithStartTLS makes the server offer STARTTLS on the plain port and refuse LOGIN
// before it.
func WithStartTLS() Option { return func(c *config) { c.security = "starttls" } }

// WithoutMove makes the server not advertise MOVE, so clients fall back to
// COPY + STORE \Deleted + EXPUNGE.
func WithoutMove() Option { return func(c *config) { c.noMove = true } }

// Server is an IMAP server on 127.0.0.1 with one user (User, Password) and the
// folders INBOX and Sent (the latter with the \Sent special-use attribute).
type Server struct {
	mem    *imapmemserver.Server
	user   *imapmemserver.User
	srv    *imapserver.Server
	ln     net.Listener
	addr   *net.TCPAddr
	client *tls.Config
	done   chan struct{}

	mu         sync.Mutex
	folders    map[string][]imap.MailboxAttr // every mailbox, with its special-use attributes
	dropLeft   int64                         // bytes until the next armed drop; 0 = off
	dropped    int
	accepted   int
	closedOnce sync.Once
}

// NewServer starts a Server and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a Server that lives until Close (for a server cached across
// benchmark runs).
func Start(opts ...Option) (*Server, error) {
	cfg := config{security: "none"}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		mem:     imapmemserver.New(),
		user:    imapmemserver.NewUser(User, Password),
		folders: map[string][]imap.MailboxAttr{},
		done:    make(chan struct{}),
	}
	s.mem.AddUser(s.user)
	s.CreateFolder("INBOX")
	s.CreateFolder("Sent", imap.MailboxAttrSent)

	caps := imap.CapSet{
		imap.CapIMAP4rev1: {}, imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapESearch: {},
		imap.CapListExtended: {}, imap.CapSpecialUse: {}, imap.CapLiteralPlus: {}, imap.CapMove: {},
	}
	if cfg.noMove {
		delete(caps, imap.CapMove)
	}
	options := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			inner, ok := s.mem.NewSession().(imapserver.SessionIMAP4rev2)
			if !ok {
				return nil, nil, fmt.Errorf("imaptest: the in-memory session lacks IMAP4rev2")
			}
			return &session{SessionIMAP4rev2: inner, srv: s}, nil, nil
		},
		Caps:         caps,
		Logger:       quiet{},
		InsecureAuth: cfg.security == "none",
	}

	var serverTLS *tls.Config
	if cfg.security != "none" {
		var err error
		serverTLS, s.client, err = selfsigned.New()
		if err != nil {
			return nil, err
		}
	}
	if cfg.security == "starttls" {
		options.TLSConfig = serverTLS
	}
	s.srv = imapserver.New(options)

	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("imaptest: listen: %w", err)
	}
	s.addr = raw.Addr().(*net.TCPAddr)
	var ln net.Listener = &listener{Listener: raw, s: s}
	if cfg.security == "tls" {
		// Counting happens below TLS, so the server still sees a *tls.Conn (and allows LOGIN).
		ln = tls.NewListener(ln, serverTLS)
	}
	s.ln = ln
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server and drops every connection.
func (s *Server) Close() {
	s.closedOnce.Do(func() {
		_ = s.srv.Close()
		<-s.done
	})
}

// Addr is host:port to dial.
func (s *Server) Addr() string { return s.addr.String() }

// Host is the address's host (127.0.0.1).
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the address's port.
func (s *Server) Port() int { return s.addr.Port }

// ClientTLSConfig trusts the server's certificate (nil for a plain server).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.client == nil {
		return nil
	}
	return s.client.Clone()
}

// CreateFolder creates a mailbox, optionally with special-use attributes such as
// imap.MailboxAttrSent. It is a no-op for an existing one (its attributes are replaced).
func (s *Server) CreateFolder(name string, specialUse ...imap.MailboxAttr) {
	_ = s.user.Create(name, nil) // exists already: fine
	s.mu.Lock()
	s.folders[name] = slices.Clone(specialUse)
	s.mu.Unlock()
}

// RecreateFolder deletes a mailbox with its letters and creates it again: it comes
// back empty with a new UIDVALIDITY, as after a server-side rebuild.
func (s *Server) RecreateFolder(name string) {
	s.mu.Lock()
	attrs := s.folders[name]
	s.mu.Unlock()
	_ = s.user.Delete(name)
	s.CreateFolder(name, attrs...)
}

// DeleteFolder deletes a mailbox with its letters.
func (s *Server) DeleteFolder(name string) {
	_ = s.user.Delete(name)
	s.mu.Lock()
	delete(s.folders, name)
	s.mu.Unlock()
}

// AddLetters appends raw letters to a folder (as a delivery agent would) and returns
// their UIDs.
func (s *Server) AddLetters(folder string, raws [][]byte) []uint32 {
	uids := make([]uint32, 0, len(raws))
	for _, raw := range raws {
		data, err := s.user.Append(folder, literal{bytes.NewReader(raw)}, &imap.AppendOptions{})
		if err != nil {
			panic(fmt.Sprintf("imaptest: append to %q: %v", folder, err))
		}
		uids = append(uids, uint32(data.UID))
	}
	return uids
}

// Count is the number of letters in a folder.
func (s *Server) Count(folder string) int {
	st := s.status(folder, &imap.StatusOptions{NumMessages: true})
	return int(*st.NumMessages)
}

// Unseen is the number of letters in a folder without the \Seen flag.
func (s *Server) Unseen(folder string) int {
	st := s.status(folder, &imap.StatusOptions{NumUnseen: true})
	return int(*st.NumUnseen)
}

// UIDValidity is the folder's current UIDVALIDITY.
func (s *Server) UIDValidity(folder string) uint32 {
	return s.status(folder, &imap.StatusOptions{UIDValidity: true}).UIDValidity
}

func (s *Server) status(folder string, o *imap.StatusOptions) *imap.StatusData {
	st, err := s.user.Status(folder, o)
	if err != nil {
		panic(fmt.Sprintf("imaptest: status of %q: %v", folder, err))
	}
	return st
}

// DropAfter arms a one-time fault: once the server has written n more bytes (over
// all connections), the connection writing closes abruptly, mid-response.
func (s *Server) DropAfter(n int) {
	s.mu.Lock()
	s.dropLeft = int64(max(n, 1))
	s.mu.Unlock()
}

// Dropped is how many connections DropAfter has closed.
func (s *Server) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Connections is how many connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// session adds what the in-memory backend lacks: special-use attributes in LIST.
type session struct {
	imapserver.SessionIMAP4rev2
	srv *Server
}

func (sess *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 || options.SelectSubscribed || options.ReturnStatus != nil {
		return sess.SessionIMAP4rev2.List(w, ref, patterns, options)
	}
	sess.srv.mu.Lock()
	names := make([]string, 0, len(sess.srv.folders))
	for name := range sess.srv.folders {
		names = append(names, name)
	}
	attrs := make(map[string][]imap.MailboxAttr, len(names))
	for name, a := range sess.srv.folders {
		attrs[name] = slices.Clone(a)
	}
	sess.srv.mu.Unlock()
	slices.Sort(names)
	for _, name := range names {
		match := false
		for _, p := range patterns {
			if imapserver.MatchList(name, '/', ref, p) {
				match = true
				break
			}
		}
		if !match || (options.SelectSpecialUse && len(attrs[name]) == 0) {
			continue
		}
		// Like Dovecot, special-use attributes come with a plain LIST too (RFC 6154).
		if err := w.WriteList(&imap.ListData{Mailbox: name, Delim: '/', Attrs: attrs[name]}); err != nil {
			return err
		}
	}
	return nil
}

func (sess *session) Create(name string, options *imap.CreateOptions) error {
	if err := sess.SessionIMAP4rev2.Create(name, options); err != nil {
		return err
	}
	name = strings.TrimRight(name, "/")
	sess.srv.mu.Lock()
	sess.srv.folders[name] = nil
	sess.srv.mu.Unlock()
	return nil
}

func (sess *session) Delete(name string) error {
	if err := sess.SessionIMAP4rev2.Delete(name); err != nil {
		return err
	}
	sess.srv.mu.Lock()
	delete(sess.srv.folders, name)
	sess.srv.mu.Unlock()
	return nil
}

func (sess *session) Rename(name, newName string, options *imap.RenameOptions) error {
	if err := sess.SessionIMAP4rev2.Rename(name, newName, options); err != nil {
		return err
	}
	newName = strings.TrimRight(newName, "/")
	sess.srv.mu.Lock()
	sess.srv.folders[newName] = sess.srv.folders[name]
	delete(sess.srv.folders, name)
	sess.srv.mu.Unlock()
	return nil
}

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	l.s.accepted++
	l.s.mu.Unlock()
	return &conn{Conn: c, s: l.s}, nil
}

// conn counts what the server writes, for DropAfter.
type conn struct {
	net.Conn
	s *Server
}

func (c *conn) Write(b []byte) (int, error) {
	c.s.mu.Lock()
	if c.s.dropLeft > 0 {
		if int64(len(b)) >= c.s.dropLeft {
			n := int(c.s.dropLeft)
			c.s.dropLeft = 0
			c.s.dropped++
			c.s.mu.Unlock()
			_, _ = c.Conn.Write(b[:n])
			_ = c.Conn.Close()
			return n, net.ErrClosed
		}
		c.s.dropLeft -= int64(len(b))
	}
	c.s.mu.Unlock()
	return c.Conn.Write(b)
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

type quiet struct{}

func (quiet) Printf(string, ...any) {}
