package mail_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/smtptest"
)

func TestSMTPPoolReusesConnectionsAndRedialsAfterARestart(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	pool, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port(), Security: "none", Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	msg := func(i int) *gomail.Msg {
		m := gomail.NewMsg()
		if err := m.From("news@crm.test"); err != nil {
			t.Fatal(err)
		}
		if err := m.To(fmt.Sprintf("r%d@x.ru", i)); err != nil {
			t.Fatal(err)
		}
		m.Subject("Привет")
		m.SetBodyString(gomail.TypeTextPlain, "текст")
		return m
	}
	sendAll := func(from, to int) {
		var wg sync.WaitGroup
		for i := from; i < to; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := pool.Send(ctx, msg(i)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	sendAll(0, 40)
	if srv.Count() != 40 {
		t.Fatalf("%d messages arrived, want 40", srv.Count())
	}

	// A refusal keeps the connection and comes back with the server's code.
	srv.Refuse("r40@x.ru", 550)
	var se *gomail.SendError
	if err := pool.Send(ctx, msg(40)); !errors.As(err, &se) || se.ErrorCode() != 550 {
		t.Fatalf("a 550: %v", err)
	}

	// The server dies: a send says it cannot connect. Back again: the pool redials.
	srv.Stop()
	if err := pool.Send(ctx, msg(41)); err == nil {
		t.Fatal("no error with the server down")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	sendAll(42, 60)
	if srv.Count() != 58 {
		t.Fatalf("%d messages arrived after the restart, want 58", srv.Count())
	}
}

// A connection the server closed while it sat idle (421 Idle timeout) is dialled
// again, and the message goes out on the new one.
func TestSMTPPoolRedialsAConnectionTheServerTimedOut(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.StartIdle(t, 200*time.Millisecond)
	pool, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port(), Security: "none", Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	send := func(to string) error {
		m := gomail.NewMsg()
		if err := m.From("news@crm.test"); err != nil {
			t.Fatal(err)
		}
		if err := m.To(to); err != nil {
			t.Fatal(err)
		}
		m.Subject("Hello")
		m.SetBodyString(gomail.TypeTextPlain, "text")
		return pool.Send(ctx, m)
	}
	if err := send("a@x.ru"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // the server hangs up on the silent connection
	if err := send("b@x.ru"); err != nil {
		t.Fatalf("the second message after the idle timeout: %v", err)
	}
	if srv.Count() != 2 {
		t.Fatalf("%d messages arrived, want 2", srv.Count())
	}
}

func TestSMTPWithoutHostSaysSo(t *testing.T) {
	if _, err := mail.NewSMTP(mail.SMTPConfig{}); err == nil || !strings.Contains(err.Error(), "no SMTP host") || strings.Contains(err.Error(), "CRM_") {
		t.Fatalf("err = %v, want what is missing, and no setting of crm's", err)
	}
}

// CRM_SMTP_RATE holds in every second the server sees, whenever that second starts:
// at the start, when a quiet pool would have a full bucket, and after a pause (a
// campaign resumed). Checked on the times the server accepted the letters; a loaded
// machine only sends slower.
func TestSMTPRateHoldsInEverySecond(t *testing.T) {
	const perSecond = 20
	at := sendInRounds(t, perSecond, 30, 2)
	if len(at) != 60 {
		t.Fatalf("%d letters arrived, want 60", len(at))
	}
	if n, from := busiestSecond(at); n > perSecond {
		t.Fatalf("%d letters within a second from letter %d, the limit is %d", n, from, perSecond)
	}
}

// sendInRounds sends rounds of n letters at once through a pool of 4 connections
// limited to perSecond, with a pause of more than a second (a campaign paused and
// resumed) between rounds, and returns when the server accepted each.
func sendInRounds(tb testing.TB, perSecond, n, rounds int) []time.Time {
	ctx := context.Background()
	srv := smtptest.Start(tb)
	pool, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port(), Security: "none", Conns: 4, PerSecond: float64(perSecond)})
	if err != nil {
		tb.Fatal(err)
	}
	defer pool.Close()
	for round := range rounds {
		if round > 0 {
			time.Sleep(1200 * time.Millisecond) // paused: a bucket would fill again
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := gomail.NewMsg()
				_ = m.From("news@crm.test")
				_ = m.To(fmt.Sprintf("r%d-%d@x.ru", round, i))
				m.Subject("Hello")
				m.SetBodyString(gomail.TypeTextPlain, "text")
				if err := pool.Send(ctx, m); err != nil {
					tb.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	var at []time.Time
	for _, m := range srv.Messages() {
		at = append(at, m.At)
	}
	return at
}

// busiestSecond is the most letters accepted within one second, whenever it starts,
// and the index of the first of them in time order.
func busiestSecond(at []time.Time) (most, from int) {
	at = slices.Clone(at)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		if n > most {
			most, from = n, i
		}
	}
	return most, from
}

// BenchmarkSMTPRate reports the most letters the server accepted within any one
// second with CRM_SMTP_RATE=100: 300 letters at once, a pause, 300 more.
//
//	go test -run '^$' -bench SMTPRate -benchtime 1x ./mail/
func BenchmarkSMTPRate(b *testing.B) {
	for range b.N {
		at := sendInRounds(b, 100, 300, 2)
		most, _ := busiestSecond(at)
		b.ReportMetric(float64(most), "max-letters/s")
		b.ReportMetric(float64(len(at)), "letters")
	}
}

// A server that wants a login over STARTTLS: the right password logs in (crm
// doctor's check) and sends; a wrong one fails the check with the server's 535, and
// without TLS the password is never offered.
func TestSMTPLogsInOverSTARTTLS(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.StartTLS(t)
	srv.RequireLogin("crm@shop.test", "s3cret")
	cfg := mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port(), Security: "starttls", TLS: srv.ClientTLSConfig(),
		User: "crm@shop.test", Password: "s3cret", Conns: 1}
	pool, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Check(ctx); err != nil {
		t.Fatalf("check with the right password: %v", err)
	}
	m := gomail.NewMsg()
	if err := m.From("news@shop.test"); err != nil {
		t.Fatal(err)
	}
	if err := m.To("anna@x.ru"); err != nil {
		t.Fatal(err)
	}
	m.Subject("Привет")
	m.SetBodyString(gomail.TypeTextPlain, "текст")
	if err := pool.Send(ctx, m); err != nil || srv.Count() != 1 {
		t.Fatalf("send after logging in: %v, %d arrived", err, srv.Count())
	}

	for _, bad := range []struct {
		name string
		cfg  func(*mail.SMTPConfig)
		says string
	}{
		{"a wrong password", func(c *mail.SMTPConfig) { c.Password = "wrong" }, "535"},
		{"no TLS", func(c *mail.SMTPConfig) { c.Security = "none" }, "authentication mechanism"},
		{"an untrusted certificate", func(c *mail.SMTPConfig) { c.TLS = nil }, "certificate"},
	} {
		c := cfg
		bad.cfg(&c)
		p, err := mail.NewSMTP(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Check(ctx); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("check with %s: %v, want an error saying %q", bad.name, err, bad.says)
		}
		_ = p.Close()
	}
	if srv.Count() != 1 {
		t.Fatalf("%d letters arrived, want 1", srv.Count())
	}
}
