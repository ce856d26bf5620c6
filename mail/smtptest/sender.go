package smtptest

import (
	"context"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender sends each message to a test server on a new go-mail connection: tests of
// what a sender does with go-mail's real errors, not of a pool's speed.
type Sender struct{ Port int }

// Send sends m on a connection of its own.
func (s Sender) Send(ctx context.Context, m *gomail.Msg) error {
	c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(s.Port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(5*time.Second))
	if err != nil {
		return err
	}
	client, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	// The message's fate is known before QUIT: a failed QUIT (DialAndSend reports it)
	// must not make a delivered message look unsent.
	defer func() { _ = c.CloseWithSMTPClient(client) }()
	return c.SendWithSMTPClient(client, m)
}

// SentRecords is a record of sent letters: the store's, by Message-ID.
type SentRecords interface {
	SentTo(ctx context.Context, messageID string) ([]string, error)
}

// RecordedOnly checks that every message carries a Message-ID the record of sent
// letters leads to that message's recipient alone: a report of its bounce is then
// believed for that address and no other.
func RecordedOnly(tb testing.TB, sent SentRecords, msgs []Message) {
	tb.Helper()
	for _, msg := range msgs {
		to, err := sent.SentTo(context.Background(), msg.Header("Message-ID"))
		if err != nil || len(to) != 1 || len(msg.To) != 1 || to[0] != msg.To[0] {
			tb.Fatalf("the letter to %q with Message-ID %s is recorded as sent to %q (%v)", msg.To, msg.Header("Message-ID"), to, err)
		}
	}
}
