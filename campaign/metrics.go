package campaign

import (
	"context"

	gomail "github.com/wneessen/go-mail"
)

// Metrics counts the SMTP server's answers to the letters sent, for crm serve's
// /metrics. Its method may be called at once from many goroutines.
type Metrics interface {
	// Attempted: a letter of kind ("campaign", "greeting") got result: "sent",
	// "deferred" (4xx: tried again later), "failed" (refused), "unknown" (the
	// connection broke during the transaction) or "down" (the server was not
	// reached: nothing was sent, it waits).
	Attempted(kind, result string)
}

// Counted is sender with the answer to each of its letters counted in m under kind;
// with m nil it is sender itself.
func Counted(sender Sender, kind string, m Metrics) Sender {
	if m == nil || sender == nil {
		return sender
	}
	return countedSender{sender, kind, m}
}

type countedSender struct {
	Sender
	kind string
	m    Metrics
}

func (c countedSender) Send(ctx context.Context, msg *gomail.Msg) error {
	err := c.Sender.Send(ctx, msg)
	how, _ := classify(err)
	c.m.Attempted(c.kind, how.String())
	return err
}

// String names the outcome in metrics.
func (o outcome) String() string {
	switch o {
	case sent:
		return "sent"
	case refused:
		return "failed"
	case deferred:
		return "deferred"
	case notStarted:
		return "down"
	}
	return "unknown"
}

// Conns passes on the pool's connections, by which the runner counts its workers.
func (c countedSender) Conns() int {
	if p, ok := c.Sender.(interface{ Conns() int }); ok {
		return p.Conns()
	}
	return 0
}
