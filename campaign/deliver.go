package campaign

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/crm-team/crm/store"
)

const (
	// maxAttempts is how often a temporarily refused message is tried.
	maxAttempts = 6
	// firstRetry doubles with each attempt, up to maxRetry.
	firstRetry = time.Minute
	maxRetry   = time.Hour
)

// Sender sends one message over SMTP (cmd/crm wires mail.SMTP). Its errors follow
// go-mail: a *gomail.SendError carries the server's reply code.
type Sender interface {
	Send(ctx context.Context, m *gomail.Msg) error
}

// ErrServerDown says the SMTP server could not be reached or dropped the connection
// before a transaction began: nothing was sent, and the message waits for the server.
var ErrServerDown = errors.New("the SMTP server is not reachable")

// outcome is what an SMTP attempt came to.
type outcome int

const (
	sent       outcome = iota
	refused            // 5xx: the recipient fails
	deferred           // 4xx: try again later
	notStarted         // the server was not reached: nothing was sent
	cut                // the connection broke during DATA: the message may have arrived
)

// classify reads go-mail's error.
func classify(err error) (outcome, string) {
	if err == nil {
		return sent, ""
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return notStarted, err.Error()
	}
	code, reply := se.ErrorCode(), serverReply(se)
	switch {
	case se.Reason == gomail.ErrSMTPReset:
		return sent, "" // the message was accepted; only the reset after it failed
	case code >= 500:
		return refused, reply
	case code >= 400:
		return deferred, reply
	case se.Reason == gomail.ErrConnCheck || se.Reason == gomail.ErrSMTPMailFrom || se.Reason == gomail.ErrSMTPRcptTo ||
		se.Reason == gomail.ErrGetSender || se.Reason == gomail.ErrGetRcpts:
		return notStarted, reply
	}
	return cut, reply
}

// serverReply is go-mail's error without the recipient and the Message-ID it appends
// ("sending SMTP RCPT TO command: 554 5.7.1 blocked"): the same refusal then reads
// the same for every letter, and a campaign's failures are counted by reply.
func serverReply(se *gomail.SendError) string {
	s := se.Error()
	for _, tail := range []string{", affected recipient(s): ", ", affected message ID: "} {
		if i := strings.LastIndex(s, tail); i >= 0 {
			s = s[:i]
		}
	}
	// Go quotes the server's text (554 "5.7.1 blocked"); it is shown unquoted, on one line.
	if step, reply, ok := strings.Cut(s, ": "); ok && len(reply) > 4 && reply[3] == ' ' {
		if text, err := strconv.Unquote(reply[4:]); err == nil {
			s = step + ": " + reply[:4] + strings.Join(strings.Fields(text), " ")
		}
	}
	return s
}

// transition is where a delivery goes after an attempt that came to how (attempts
// counts it), and when to try again if it is deferred. Greetings and campaigns share
// it.
func transition(how outcome, attempts int, now time.Time) (store.DeliveryState, *time.Time) {
	switch how {
	case sent:
		return store.DeliverySent, nil
	case refused:
		return store.DeliveryFailed, nil
	case deferred:
		if attempts >= maxAttempts {
			return store.DeliveryFailed, nil
		}
		at := now.Add(retryAfter(attempts))
		return store.DeliveryDeferred, &at
	case notStarted:
		return store.DeliveryQueued, nil // nothing was sent
	}
	return store.DeliverySending, nil // cut: whether it arrived is unknown, and once is the rule
}

func retryAfter(attempts int) time.Duration {
	d := firstRetry << max(attempts-1, 0)
	if d > maxRetry || d <= 0 {
		d = maxRetry
	}
	return d
}

// Deliver sends msg, a letter of its own (a birthday greeting), through sender as
// the delivery d (queued first if it is new) when it is due, and advances its state
// machine, the one a campaign's letters go through: queued or deferred -> sending ->
// sent, failed or deferred. Each attempt is claimed before the state moves, so two
// instances never send one delivery; a message whose transaction was cut stays
// "sending" and is reported, never sent again. It returns the state reached;
// ErrServerDown when the server could not be reached (the delivery is queued again).
// now is the clock.
func Deliver(ctx context.Context, st DeliveryStore, sender Sender, now func() time.Time, d store.Delivery, msg *gomail.Msg) (store.DeliveryState, error) {
	if sender == nil {
		return "", errors.New("no SMTP server to send through")
	}
	queued := []store.Delivery{d}
	fresh, err := st.QueueDeliveries(ctx, queued)
	if err != nil {
		return "", err
	}
	cur, id := &queued[0], queued[0].ID
	if fresh == 0 { // it was there: read where it is
		if cur, err = st.Delivery(ctx, id); err != nil {
			return "", err
		}
	}
	at := now()
	switch {
	case cur.State == store.DeliveryDeferred && cur.NextTry != nil && cur.NextTry.After(at):
		return cur.State, nil
	case cur.State != store.DeliveryQueued && cur.State != store.DeliveryDeferred:
		return cur.State, nil
	}
	// Recorded before it can go, so that a report of its bounce is believed; an
	// instance that loses the claim leaves a record nobody's letter names.
	rec := &store.Sent{SentKey: store.NewSentKey(), To: []string{d.Email}, What: "delivery " + id}
	if err := st.RecordSent(ctx, rec); err != nil {
		return cur.State, err
	}
	recordedID(msg, rec.SentKey, 0)
	won, err := st.Claim(ctx, "send/"+id+"/"+strconv.Itoa(cur.Attempts))
	if err != nil || !won {
		return cur.State, err
	}
	attempts := cur.Attempts + 1
	ok, err := st.AdvanceDelivery(ctx, id, cur.State, store.DeliverySending, bson.D{{Key: "attempts", Value: attempts}})
	if err != nil || !ok {
		return cur.State, err
	}
	how, reply := classify(sender.Send(ctx, msg))
	to, next := transition(how, attempts, now())
	set := bson.D{{Key: "lastReply", Value: reply}}
	switch {
	case how == sent:
		set = append(set, bson.E{Key: "sentAt", Value: now()})
	case next != nil:
		set = append(set, bson.E{Key: "nextTry", Value: *next})
	}
	if _, err := st.AdvanceDelivery(ctx, id, store.DeliverySending, to, set); err != nil {
		return "", err
	}
	if how == notStarted {
		return to, fmt.Errorf("%w: %s", ErrServerDown, reply)
	}
	return to, nil
}

// NewMessage makes a letter to a person (to's name as the CRM shows it, if any) from
// a rendered template, on behalf of m (nil: nobody): replies go to the manager. A
// letter with an unsubscribe link carries it as one-click List-Unsubscribe (RFC
// 8058), a mailing's and a greeting's alike.
func NewMessage(from, to *mail.Address, r Rendered, m *store.Manager) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(from)
	rcpt, err := mail.ParseAddress(to.Address)
	if err != nil {
		return nil, fmt.Errorf("recipient address %q: %w", to.Address, err)
	}
	rcpt.Name = strings.TrimSpace(to.Name)
	msg.ToMailAddress(rcpt)
	if m != nil && m.Email != "" {
		_ = msg.ReplyTo(m.Email) // replies reach the manager; a bad address only loses this header
	}
	msg.Subject(r.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	if r.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	}
	if r.Unsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+r.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(from.Address))
	return msg, nil
}

// messageID makes a Message-ID in the sender's domain, where replies and bounces
// that quote it are understood; go-mail's own asks the system for its host name for
// every message.
func messageID(from string) string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.EncodeToString(b[:]) + "@" + domainOf(from)
}

func domainOf(address string) string { return address[strings.LastIndexByte(address, '@')+1:] }

// recordedID gives a message the Message-ID of letter i of a record of sent letters
// (store.Sent), in the sender's domain, so that a report of its bounce is believed;
// without a record (a list queued by an older version) it keeps its own.
func recordedID(msg *gomail.Msg, k store.SentKey, i int) {
	if from := msg.GetFrom(); k.ID != "" && len(from) > 0 {
		msg.SetMessageIDWithValue(k.MessageID(i, domainOf(from[0].Address)))
	}
}
