package scheduler

import (
	"context"
	"errors"
	"fmt"
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

// deliver sends msg as the delivery d (queued first if it is new) when it is due, and
// advances its state machine: queued or deferred -> sending -> sent, failed or
// deferred. Each attempt is claimed before the state moves, so two instances never
// send one delivery; a message whose transaction was cut stays "sending" and is
// reported, never sent again. It returns the state reached; ErrServerDown when the
// server could not be reached (the delivery is queued again).
func (s *Scheduler) deliver(ctx context.Context, d store.Delivery, msg *gomail.Msg) (store.DeliveryState, error) {
	if s.opts.Sender == nil {
		return "", errors.New("no SMTP server is configured")
	}
	queued := []store.Delivery{d}
	fresh, err := s.st.QueueDeliveries(ctx, queued)
	if err != nil {
		return "", err
	}
	cur, id := &queued[0], queued[0].ID
	if fresh == 0 { // it was there: read where it is
		if cur, err = s.st.Delivery(ctx, id); err != nil {
			return "", err
		}
	}
	now := s.now()
	switch {
	case cur.State == store.DeliveryDeferred && cur.NextTry != nil && cur.NextTry.After(now):
		return cur.State, nil
	case cur.State != store.DeliveryQueued && cur.State != store.DeliveryDeferred:
		return cur.State, nil
	}
	// Recorded before it can go, so that a report of its bounce is believed; an
	// instance that loses the claim leaves a record nobody's letter names.
	rec := &store.Sent{SentKey: store.NewSentKey(), To: []string{d.Email}, What: "delivery " + id}
	if err := s.st.RecordSent(ctx, rec); err != nil {
		return cur.State, err
	}
	recordedID(msg, rec.SentKey, 0)
	won, err := s.st.Claim(ctx, "send/"+id+"/"+strconv.Itoa(cur.Attempts))
	if err != nil || !won {
		return cur.State, err
	}
	attempts := cur.Attempts + 1
	ok, err := s.st.AdvanceDelivery(ctx, id, cur.State, store.DeliverySending, bson.D{{Key: "attempts", Value: attempts}})
	if err != nil || !ok {
		return cur.State, err
	}
	how, reply := classify(s.opts.Sender.Send(ctx, msg))
	to, next := transition(how, attempts, s.now())
	set := bson.D{{Key: "lastReply", Value: reply}}
	switch {
	case how == sent:
		set = append(set, bson.E{Key: "sentAt", Value: s.now()})
	case next != nil:
		set = append(set, bson.E{Key: "nextTry", Value: *next})
	}
	if _, err := s.st.AdvanceDelivery(ctx, id, store.DeliverySending, to, set); err != nil {
		return "", err
	}
	if how == notStarted {
		return to, fmt.Errorf("%w: %s", ErrServerDown, reply)
	}
	return to, nil
}
