package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"
)

// SMTPConfig is the outgoing mail server (CRM_SMTP_*).
type SMTPConfig struct {
	Host     string
	Port     int    // default: 465 for tls, 587 for starttls, 25 for none
	Security string // "tls", "starttls" or "none"
	User     string // empty: no authentication
	Password string
	// Conns is how many connections are kept open (default 4).
	Conns int
	// PerSecond and PerDay limit the messages sent, for providers that impose limits
	// (0: no limit). PerSecond holds in every second, whenever it starts, over all
	// connections.
	PerSecond float64
	PerDay    int
	Timeout   time.Duration // per command (default 30s)
	// TLS overrides the TLS settings (tests trust their own certificate).
	TLS *tls.Config
}

// SMTP sends mail through a pool of open connections: each is reused for many
// messages, and one that breaks is dialled again on its next use.
type SMTP struct {
	cfg    SMTPConfig
	conns  chan *smtpConn
	second *window
	day    *rate.Limiter
}

type smtpConn struct {
	c    *gomail.Client
	open bool
}

// NewSMTP prepares the pool; connections are dialled when first used.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("no SMTP host given")
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout),
		// A connection is checked by using it: a failed send redials. go-mail's NOOP
		// before every message would cost a round trip each.
		gomail.WithoutNoop()}
	switch cfg.Security {
	case "tls", "":
		opts = append(opts, gomail.WithSSL(), gomail.WithPort(orDefault(cfg.Port, 465)))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithPort(orDefault(cfg.Port, 587)))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithPort(orDefault(cfg.Port, 25)))
	default:
		return nil, fmt.Errorf("SMTP security %q: use tls, starttls or none", cfg.Security)
	}
	if cfg.TLS != nil {
		t := cfg.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = cfg.Host // what go-mail's own configuration checks
		}
		opts = append(opts, gomail.WithTLSConfig(t))
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	p := &SMTP{cfg: cfg, conns: make(chan *smtpConn, cfg.Conns)}
	for range cfg.Conns {
		c, err := gomail.NewClient(cfg.Host, opts...)
		if err != nil {
			return nil, fmt.Errorf("SMTP client: %w", err)
		}
		p.conns <- &smtpConn{c: c}
	}
	switch {
	case cfg.PerSecond >= 1:
		p.second = newWindow(int(cfg.PerSecond), time.Second)
	case cfg.PerSecond > 0:
		p.second = newWindow(1, time.Duration(float64(time.Second)/cfg.PerSecond))
	}
	if cfg.PerDay > 0 {
		p.day = rate.NewLimiter(rate.Every(24*time.Hour/time.Duration(cfg.PerDay)), cfg.PerDay)
	}
	return p, nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// Conns is the pool's size: how many messages can be on their way at once.
func (p *SMTP) Conns() int { return p.cfg.Conns }

// Send sends one message on a free connection, within the rate limits. A connection
// found broken before the transaction began is dialled again once. The error is
// go-mail's *SendError for the server's refusals (ErrorCode: 4xx, 5xx), or another
// error when the server cannot be reached.
func (p *SMTP) Send(ctx context.Context, m *gomail.Msg) error {
	if p.day != nil {
		if err := p.day.Wait(ctx); err != nil {
			return err
		}
	}
	var conn *smtpConn
	select {
	case conn = <-p.conns:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { p.conns <- conn }()
	if p.second != nil { // counted over every connection, the time it takes included
		done, err := p.second.acquire(ctx)
		if err != nil {
			return err
		}
		defer done()
	}
	for try := 0; ; try++ {
		if !conn.open {
			if err := conn.c.DialWithContext(ctx); err != nil {
				return fmt.Errorf("connect to the SMTP server %s: %w", p.cfg.Host, err)
			}
			conn.open = true
		}
		err := conn.c.Send(m)
		if err == nil {
			return nil
		}
		var se *gomail.SendError
		isSendErr := errors.As(err, &se)
		// 421 is the server closing the channel (an idle timeout, a shutdown); any
		// other code leaves the connection usable.
		if isSendErr && se.ErrorCode() != 0 && se.ErrorCode() != 421 {
			return err
		}
		_ = conn.c.Close()
		conn.open = false
		if try == 0 && isSendErr && (se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom) {
			continue // the connection had died while idle: nothing was sent yet
		}
		return err
	}
}

// Close closes the open connections.
func (p *SMTP) Close() error {
	var errs []error
	for range p.cfg.Conns {
		conn := <-p.conns
		if conn.open {
			errs = append(errs, conn.c.Close())
			conn.open = false
		}
		p.conns <- conn
	}
	return errors.Join(errs...)
}

// Check connects to the server as sending does (TLS as configured, the login when a
// user is set) and leaves at once, sending nothing: crm doctor's check.
func (p *SMTP) Check(ctx context.Context) error {
	conn := <-p.conns
	defer func() { p.conns <- conn }()
	if conn.open {
		return nil
	}
	if err := conn.c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("connect to the SMTP server %s: %w", p.cfg.Host, err)
	}
	return conn.c.Close()
}
