// Package smtptest runs go-smtp's server on a loopback port for tests and benchmarks:
// it records what it receives, can refuse chosen recipients (or every one) with 4xx or
// 5xx replies, and can be stopped and started again on the same port.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/internal/selfsigned"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
	At   time.Time // when the server accepted it
}

// Header reads a header field of the message, with encoded words decoded.
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		return ""
	}
	v := msg.Header.Get(name)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// Server is a recording SMTP server.
type Server struct {
	// Discard keeps counts only (benchmarks send many messages).
	Discard bool

	mu        sync.Mutex
	addr      string
	srv       *smtp.Server
	messages  []Message
	count     int
	refuse    map[string]*smtp.SMTPError // by recipient address
	refuseAll *smtp.SMTPError            // every recipient, when set
	cutData   map[string]bool            // drop the connection in the middle of DATA
	idle      time.Duration              // how long a silent client is kept
	login     *[2]string                 // user and password a client must log in with; nil: none
	serverTLS *tls.Config                // STARTTLS offered with it; nil: none
	clientTLS *tls.Config
}

// Start runs a server on a free loopback port until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartIdle(tb, 10*time.Second)
}

// StartIdle runs a server that says "421 Idle timeout" and hangs up on a client
// silent for longer than idle, as real servers do.
func StartIdle(tb testing.TB, idle time.Duration) *Server {
	tb.Helper()
	s := newServer(idle)
	if err := s.listen("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// StartTLS runs a server that offers STARTTLS with a certificate of its own, which
// ClientTLSConfig trusts.
func StartTLS(tb testing.TB) *Server {
	tb.Helper()
	s := newServer(10 * time.Second)
	var err error
	if s.serverTLS, s.clientTLS, err = selfsigned.New(); err != nil {
		tb.Fatal(err)
	}
	if err := s.listen("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// ClientTLSConfig trusts the server's certificate (nil for a server without TLS).
func (s *Server) ClientTLSConfig() *tls.Config { return s.clientTLS }

func newServer(idle time.Duration) *Server {
	return &Server{refuse: map[string]*smtp.SMTPError{}, cutData: map[string]bool{}, idle: idle}
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.TLSConfig = s.serverTLS
	srv.ReadTimeout, srv.WriteTimeout = s.idle, 10*time.Second
	srv.MaxRecipients = 100
	s.mu.Lock()
	s.srv, s.addr = srv, ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Addr is host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Port is the port number.
func (s *Server) Port() int { return s.tcpAddr().Port }

func (s *Server) tcpAddr() *net.TCPAddr {
	a, _ := net.ResolveTCPAddr("tcp", s.Addr())
	return a
}

// Stop closes the listener and every connection: a server that died.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart starts the server again on the same port.
func (s *Server) Restart() error {
	var err error
	for range 50 { // the old socket may linger for a moment
		if err = s.listen(s.Addr()); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Refuse makes RCPT TO for an address fail with code (e.g. 450 or 550).
func (s *Server) Refuse(address string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	class := code / 100
	s.refuse[strings.ToLower(address)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, 1, 1}, Message: "refused by the test"}
}

// Accept lifts a refusal.
func (s *Server) Accept(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refuse, strings.ToLower(address))
}

// RefuseAll makes RCPT TO fail for every address with code and message, as a server
// that blocks the sender does (e.g. 554, "Service unavailable; client host blocked");
// the enhanced code is class.7.1.
func (s *Server) RefuseAll(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	class := code / 100
	s.refuseAll = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{class, 7, 1}, Message: message}
}

// AcceptAll lifts RefuseAll; refusals of single addresses stay.
func (s *Server) AcceptAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseAll = nil
}

// CutDuringData makes the server drop the connection while reading a message to the
// address, after part of it has arrived.
func (s *Server) CutDuringData(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutData[strings.ToLower(address)] = true
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count is how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// To returns the messages accepted for an address.
func (s *Server) To(address string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, address) {
				out = append(out, m)
			}
		}
	}
	return out
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	msg    Message
	authed bool
}

func (x *session) Reset()        { x.msg = Message{} }
func (x *session) Logout() error { return nil }

// RequireLogin makes the server offer AUTH PLAIN and take letters only
// from a client logged in as user with password, as a mail provider does.
func (s *Server) RequireLogin(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.login = &[2]string{user, password}
}

func (x *session) loginNeeded() *[2]string {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	return x.s.login
}

func (x *session) AuthMechanisms() []string {
	if x.loginNeeded() == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, password string) error {
		if want := x.loginNeeded(); want == nil || want[0] != user || want[1] != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		x.authed = true
		return nil
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, password string) error { return check(user, password) }), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.loginNeeded() != nil && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.msg = Message{From: from}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	refuse := x.s.refuse[strings.ToLower(to)]
	if x.s.refuseAll != nil {
		refuse = x.s.refuseAll
	}
	x.s.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	x.msg.To = append(x.msg.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	x.s.mu.Lock()
	cut := false
	for _, to := range x.msg.To {
		cut = cut || x.s.cutData[strings.ToLower(to)]
	}
	x.s.mu.Unlock()
	if cut {
		_, _ = io.ReadFull(r, make([]byte, 64))
		_ = x.conn.Conn().Close()
		return errors.New("connection cut by the test")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.count++
	if !x.s.Discard {
		x.msg.Data, x.msg.At = data, time.Now()
		x.s.messages = append(x.s.messages, x.msg)
	}
	return nil
}

// Text is the message's first text/plain part, its transfer encoding undone ("" when
// it has none).
func (m Message) Text() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return plainText(textproto.MIMEHeader(msg.Header), msg.Body)
}

func plainText(h textproto.MIMEHeader, body io.Reader) string {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextRawPart() // the encoding is undone below, for both kinds of part
			if err != nil {
				return ""
			}
			if s := plainText(part.Header, part); s != "" {
				return s
			}
		}
	}
	if mediaType != "text/plain" {
		return ""
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(body)
	return string(b)
}
