package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// The bot's outgoing messages wait in an outbox: each is written before it is sent
// and deleted once Telegram took it (or refused it for good), so a stop or a crash
// loses none. Messages are kept in lanes. A lane is held by one instance at a time
// ("outbox/<n>" in schedule: its owner and until, as a lease), and its messages are
// "<n>/<seq>" in outbox, numbered in the order they were written. The lane's
// document also keeps lo (every message below it is done) and hi (none at or above
// it was written): whoever takes the lane next reads [lo, hi) by _id, never by a
// query. hi is written ahead, a block at a time, so writing a message is one insert
// and sending it one delete. Lanes are numbered from 0 with no gap, so finding them
// is reading "outbox/0", "outbox/1"… until one is missing.

// outboxBlock is how many message numbers a lane's write of hi reserves.
const outboxBlock = 64

// OutMessage is a message waiting to be sent to a chat.
type OutMessage struct {
	ID       string    `bson:"_id"` // <lane>/<seq>
	Chat     int64     `bson:"chat"`
	At       time.Time `bson:"at"` // when it was written
	Text     string    `bson:"text,omitempty"`
	Rows     []OutRow  `bson:"rows,omitempty"` // of inline buttons
	Edit     int       `bson:"edit,omitempty"` // not 0: the message whose text and buttons it replaces
	Photo    *OutFile  `bson:"photo,omitempty"`
	Document *OutFile  `bson:"document,omitempty"`
}

// OutRow is a row of inline buttons: a document, as MongoDB's engines differ on
// arrays of arrays (FerretDB refuses them).
type OutRow struct {
	Buttons []OutButton `bson:"buttons"`
}

// OutButton is an inline button of an OutMessage.
type OutButton struct {
	Text string `bson:"text"`
	Data string `bson:"data,omitempty"`
	URL  string `bson:"url,omitempty"`
}

// OutFile is a picture or document of an OutMessage: Telegram's file_id, or the
// content; neither when it was too large to keep.
type OutFile struct {
	Name   string `bson:"name"`
	MIME   string `bson:"mime,omitempty"`
	FileID string `bson:"fileId,omitempty"`
	Data   []byte `bson:"data,omitempty"`
}

type laneDoc struct {
	ID    string    `bson:"_id"`
	Owner string    `bson:"owner"`
	Until time.Time `bson:"until"`
	Lo    int64     `bson:"lo"`
	Hi    int64     `bson:"hi"`
}

func laneID(n int) string { return "outbox/" + strconv.Itoa(n) }

// ErrLaneLost says another instance took the lane over: its holder stopped renewing
// it for longer than its hold.
var ErrLaneLost = errors.New("the outbox lane was taken over")

// OutboxLane is a lane this process holds. It is safe for concurrent use.
type OutboxLane struct {
	s     *Store
	n     int
	owner string
	ttl   time.Duration

	mu      sync.Mutex
	next    int64 // the next message's number
	hi      int64 // as written: numbers below it may be used
	pending map[int64]bool
	renewed time.Time // the start of the last write that renewed the hold
	lost    bool
}

// TakeOutbox gives owner a lane for ttl, renewed with Renew: the first that nobody
// holds, or a new one. The messages the lane holds (left by a stop or a crash) come
// with it, in the order they were written; the caller sends them first.
func (s *Store) TakeOutbox(ctx context.Context, owner string, ttl time.Duration) (*OutboxLane, []OutMessage, error) {
	for n := 0; ; n++ {
		var d laneDoc
		err := s.getByID(ctx, colSchedule, laneID(n), &d)
		if errors.Is(err, ErrNotFound) {
			now := s.now()
			d = laneDoc{ID: laneID(n), Owner: owner, Until: now.Add(ttl)}
			there, err := s.insertNew(ctx, colSchedule, []any{d}, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("take an outbox lane: %w", err)
			}
			if there[0] {
				continue // another instance made it a moment ago, and holds it
			}
			return s.newLane(n, owner, ttl, 0, now), nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("take an outbox lane: %w", err)
		}
		if d.Owner == owner || (d.Owner != "" && d.Until.After(s.now())) {
			continue
		}
		l, msgs, ok, err := s.takeLane(ctx, n, d, owner, ttl)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return l, msgs, nil
		}
	}
}

// AdoptOutbox takes for owner a lane another instance left with messages in it: one
// it released before all were sent, or whose holder stopped renewing it (crashed)
// for ttl. nil when there is none. Lanes found with nothing left are released on
// the way.
func (s *Store) AdoptOutbox(ctx context.Context, owner string, ttl time.Duration) (*OutboxLane, []OutMessage, error) {
	for n := 0; ; n++ {
		var d laneDoc
		err := s.getByID(ctx, colSchedule, laneID(n), &d)
		if errors.Is(err, ErrNotFound) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read outbox lane %d: %w", n, err)
		}
		if d.Lo >= d.Hi || d.Owner == owner || (d.Owner != "" && d.Until.After(s.now())) {
			continue
		}
		l, msgs, ok, err := s.takeLane(ctx, n, d, owner, ttl)
		switch {
		case err != nil:
			return nil, nil, err
		case !ok:
			continue
		case len(msgs) == 0:
			if err := l.Release(ctx); err != nil {
				return nil, nil, err
			}
			continue
		}
		return l, msgs, nil
	}
}

// takeLane takes lane n from what was read of it: the write is conditioned on the
// owner and until read, so of two instances that read the lane free one takes it.
func (s *Store) takeLane(ctx context.Context, n int, was laneDoc, owner string, ttl time.Duration) (*OutboxLane, []OutMessage, bool, error) {
	now := s.now()
	id := laneID(n)
	unlock := s.locks.lock(colSchedule, id)
	r, err := s.c(colSchedule).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: was.Owner}, {Key: "until", Value: was.Until}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "until", Value: now.Add(ttl)}}}})
	unlock()
	if err != nil {
		return nil, nil, false, fmt.Errorf("take outbox lane %d: %w", n, err)
	}
	if r.MatchedCount == 0 {
		return nil, nil, false, nil
	}
	l := s.newLane(n, owner, ttl, was.Hi, now)
	msgs, err := l.load(ctx, was.Lo, was.Hi)
	if err != nil {
		// Released as it was, for the next try to read again.
		return nil, nil, false, errors.Join(err, l.writeHeld(context.WithoutCancel(ctx), bson.D{
			{Key: "owner", Value: ""}, {Key: "until", Value: time.Time{}}}))
	}
	return l, msgs, true, nil
}

func (s *Store) newLane(n int, owner string, ttl time.Duration, hi int64, now time.Time) *OutboxLane {
	return &OutboxLane{s: s, n: n, owner: owner, ttl: ttl, next: hi, hi: hi, pending: map[int64]bool{}, renewed: now}
}

// load reads the messages numbered [lo, hi) by _id: the numbers sent are missing.
func (l *OutboxLane) load(ctx context.Context, lo, hi int64) ([]OutMessage, error) {
	found := make([]*OutMessage, hi-lo)
	err := parallel(ctx, len(found), func(i int) error {
		m, err := getOne[OutMessage](ctx, l.s, colOutbox, l.msgID(lo+int64(i)))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		found[i] = m
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox lane %d: %w", l.n, err)
	}
	var out []OutMessage
	for i, m := range found {
		if m != nil {
			out = append(out, *m)
			l.pending[lo+int64(i)] = true
		}
	}
	return out, nil
}

func (l *OutboxLane) msgID(seq int64) string {
	return strconv.Itoa(l.n) + "/" + strconv.FormatInt(seq, 10)
}

// Name names the lane in logs.
func (l *OutboxLane) Name() string { return laneID(l.n) }

// Put writes m to the lane before it is sent: one insert, and every outboxBlock
// messages a write of the lane's hi. It sets m.ID and m.At. ErrLaneLost means
// another instance took the lane: take another one.
func (l *OutboxLane) Put(ctx context.Context, m *OutMessage) error {
	l.mu.Lock()
	if l.lost {
		l.mu.Unlock()
		return ErrLaneLost
	}
	seq := l.next
	if seq >= l.hi {
		// Written before any number at or above the old hi is used, so a later taker
		// reads every message written.
		hi, now := seq+outboxBlock, l.s.now()
		if err := l.writeHeld(ctx, bson.D{{Key: "hi", Value: hi}, {Key: "until", Value: now.Add(l.ttl)}}); err != nil {
			l.mu.Unlock()
			return err
		}
		l.hi, l.renewed = hi, now
	}
	l.next++
	l.pending[seq] = true
	l.mu.Unlock()

	m.ID, m.At = l.msgID(seq), l.s.now()
	if _, err := l.s.c(colOutbox).InsertOne(ctx, m); err != nil {
		l.mu.Lock()
		delete(l.pending, seq)
		l.mu.Unlock()
		return fmt.Errorf("write to the outbox: %w", err)
	}
	return nil
}

// Done deletes a message that was sent (or refused for good): one delete by _id.
func (l *OutboxLane) Done(ctx context.Context, id string) error {
	seq, err := strconv.ParseInt(id[strings.LastIndexByte(id, '/')+1:], 10, 64)
	if err != nil {
		return fmt.Errorf("outbox message %q: %w", id, err)
	}
	if _, err := l.s.c(colOutbox).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("mark outbox message %s sent: %w", id, err)
	}
	l.mu.Lock()
	delete(l.pending, seq)
	l.mu.Unlock()
	return nil
}

// Renew extends the hold and records how far the lane is done; false (and
// ErrLaneLost from Put) once another instance took it over.
func (l *OutboxLane) Renew(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return false, nil
	}
	now := l.s.now()
	err := l.writeHeld(ctx, bson.D{{Key: "until", Value: now.Add(l.ttl)}, {Key: "lo", Value: l.lo()}})
	if errors.Is(err, ErrLaneLost) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	l.renewed = now
	return true, nil
}

// Release frees the lane for any instance, recording what is left in it.
func (l *OutboxLane) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return nil
	}
	// hi comes down to the numbers used: the next taker reads no more than that.
	err := l.writeHeld(ctx, bson.D{{Key: "owner", Value: ""}, {Key: "until", Value: time.Time{}},
		{Key: "lo", Value: l.lo()}, {Key: "hi", Value: l.next}})
	if err == nil || errors.Is(err, ErrLaneLost) {
		l.lost = true // released: no longer this process's
		return nil
	}
	return err
}

// Held says whether the lane's messages may be sent now: it was not taken over, and
// its hold was renewed within half of it, which leaves the other half for the
// instances' clocks to differ.
func (l *OutboxLane) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost && l.s.now().Sub(l.renewed) < l.ttl/2
}

// Lost says the lane was taken over or released: its messages are not this
// process's to send.
func (l *OutboxLane) Lost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Idle says no message written or taken with the lane is waiting.
func (l *OutboxLane) Idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending) == 0
}

// lo is the lowest number waiting, or the next one (l.mu held).
func (l *OutboxLane) lo() int64 {
	lo := l.next
	for seq := range l.pending {
		lo = min(lo, seq)
	}
	return lo
}

// writeHeld writes fields of the lane's document while this process holds it (l.mu
// held). The schedule collection is small, so the owner in the filter costs little
// on the embedded engine.
func (l *OutboxLane) writeHeld(ctx context.Context, set bson.D) error {
	id := laneID(l.n)
	defer l.s.locks.lock(colSchedule, id)()
	r, err := l.s.c(colSchedule).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: l.owner}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return fmt.Errorf("write outbox lane %d: %w", l.n, err)
	}
	if r.MatchedCount == 0 {
		l.lost = true
		return ErrLaneLost
	}
	return nil
}
