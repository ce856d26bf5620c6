package telegram_test

import (
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
)

// counted is a telegram.Metrics that counts, as crm serve's Prometheus counters do.
type counted struct {
	mu sync.Mutex
	n  counts
}

type counts struct{ updates, sent, rateLimited, retried, gaveUp int }

func (c *counted) UpdateHandled(time.Duration) { c.add(&c.n.updates) }
func (c *counted) Sent()                       { c.add(&c.n.sent) }
func (c *counted) RateLimited()                { c.add(&c.n.rateLimited) }
func (c *counted) Retried()                    { c.add(&c.n.retried) }
func (c *counted) GaveUp()                     { c.add(&c.n.gaveUp) }

func (c *counted) add(n *int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*n++
}

func (c *counted) get() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// An update handled and answered through a 429 moves the counters crm serve exports.
func TestMetricsCountUpdatesSendsAnd429s(t *testing.T) {
	e := newEnv(t)
	m := &counted{}
	tr := e.transport(t, telegram.Options{Metrics: m})
	run(t, tr, &echo{})
	e.srv.Fail429(1, 1)
	e.srv.SendText(5, "hello")
	if got := e.srv.Next(5, wait); got.Text != "echo: hello" {
		t.Fatalf("reply = %q", got.Text)
	}
	eventually(func() bool { return m.get().sent == 1 }) // counted after the response
	if got := m.get(); got.updates != 1 || got.sent != 1 || got.rateLimited != 1 || got.retried != 1 || got.gaveUp != 0 {
		t.Errorf("metrics = %+v, want 1 update, 1 sent, 1 rate-limited, 1 retry", got)
	}
	e.srv.Block(6)
	if err := tr.Send(t.Context(), bot.Reply{ChatID: 6, Text: "to a blocked chat"}); err == nil {
		t.Fatal("a send to a chat that blocked the bot succeeded")
	}
	if got := m.get(); got.gaveUp != 1 {
		t.Errorf("given up = %d, want 1", got.gaveUp)
	}
}

// A transport without Metrics counts nothing and works.
func TestNoMetricsIsFine(t *testing.T) {
	e := newEnv(t)
	tr := e.transport(t, telegram.Options{})
	run(t, tr, &echo{})
	e.srv.SendText(5, "hello")
	if got := e.srv.Next(5, wait); got.Text != "echo: hello" {
		t.Fatalf("reply = %q", got.Text)
	}
}
