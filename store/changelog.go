// The change log every directory follows.

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The log numbers changes 1, 2, 3… and keeps them in documents that each hold a run
// of numbers: one write of clients (one edit, or an import's batch of 500) is one
// document, whose _id is its first number and which holds one client ID per number.
// So a reader follows the log by _id alone — the document after the one ending at n
// is n+1 — and reads an import's batch in one read, where it read a document a
// change before. (A query for a range of _id reads the whole collection on the
// embedded engine.)
//
// A writer appends at the end by inserting at the number after the last document it
// knows of; when that number is taken (another process wrote first) it reads the
// document there and tries after it. The insert under a unique _id is what makes two
// writers never share a number, so the log has no gaps and no half-written runs: a
// missing document is the end. The counter "changes" only says about where the end
// is, so that a process starting up does not walk the whole log; it may lag behind.
const (
	changesCounter = "changes"
	changesPerDoc  = 1000 // client IDs in one document: 24 KB at most
)

type changeDoc struct {
	ID      string    `bson:"_id"`
	Client  string    `bson:"client,omitempty"`  // a run of one (and every document before runs)
	Clients []string  `bson:"clients,omitempty"` // a longer run
	At      time.Time `bson:"at"`
	// Made, for clients just created, is what the directory keeps of each, as JSON
	// (one value for the engine to decode): a reader puts an import's batch in
	// without reading its clients.
	Made string `bson:"made,omitempty"`
}

func (c *changeDoc) ids() []string {
	if len(c.Clients) > 0 {
		return c.Clients
	}
	return []string{c.Client}
}

func changeID(n int64) string { return fmt.Sprintf("%015d", n) }

// recordChanges appends one change per client to the change log.
func (s *Store) recordChanges(ctx context.Context, clientIDs ...string) error {
	ctx = context.WithoutCancel(ctx)
	for len(clientIDs) > 0 {
		n := min(len(clientIDs), changesPerDoc)
		if err := s.appendChanges(ctx, clientIDs[:n], ""); err != nil {
			return err
		}
		clientIDs = clientIDs[n:]
	}
	return nil
}

// recordCreated appends the creation of clients to the change log, with what the
// directory keeps of them.
func (s *Store) recordCreated(ctx context.Context, clients []*Client) error {
	ctx = context.WithoutCancel(ctx)
	for len(clients) > 0 {
		n := min(len(clients), changesPerDoc)
		ids := make([]string, n)
		recs := make([]dirRecord, n)
		for i, c := range clients[:n] {
			ids[i], recs[i] = c.ID, recordOf(c)
		}
		made, err := json.Marshal(recs)
		if err != nil {
			return err
		}
		if err := s.appendChanges(ctx, ids, string(made)); err != nil {
			return err
		}
		clients = clients[n:]
	}
	return nil
}

func (s *Store) appendChanges(ctx context.Context, ids []string, made string) error {
	end, err := s.logEndHint(ctx)
	if err != nil {
		return err
	}
	doc := changeDoc{At: s.now(), Made: made}
	if len(ids) == 1 {
		doc.Client = ids[0]
	} else {
		doc.Clients = ids
	}
	for {
		doc.ID = changeID(end + 1)
		there, err := s.insertNew(ctx, colChanges, []any{doc}, nil)
		if err != nil {
			return fmt.Errorf("record client changes: %w", err)
		}
		if !there[0] {
			break
		}
		var taken changeDoc
		if err := s.getByID(ctx, colChanges, doc.ID, &taken); err != nil {
			return fmt.Errorf("record client changes: %w", err)
		}
		end += int64(len(taken.ids()))
	}
	end += int64(len(ids))
	s.noteLogEnd(end)
	// The hint: a lost update (two processes on the embedded engine) leaves it behind,
	// which costs a starting process a few reads more.
	if _, err := s.c(colCounters).UpdateOne(ctx, bson.D{{Key: "_id", Value: changesCounter}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "n", Value: end}}}}, options.Update().SetUpsert(true)); err != nil {
		s.log.Warn("note the change log's end", "err", err)
	}
	return nil
}

// logEndHint is the last number this process knows to be in the log (or the counter's
// hint, read once): the end, or before it.
// One learnt over reloadEvery ago is read again: documents after it may have been
// pruned, and a document inserted there would not be found after the ones that follow.
func (s *Store) logEndHint(ctx context.Context) (int64, error) {
	n := s.logEnd.Load()
	if n > 0 && time.Since(time.Unix(0, s.logEndAt.Load())) < reloadEvery {
		return n, nil
	}
	hint, err := s.currentSeq(ctx, changesCounter)
	if err != nil {
		return 0, fmt.Errorf("read change log: %w", err)
	}
	s.noteLogEnd(hint)
	return max(n, hint), nil
}

func (s *Store) noteLogEnd(n int64) {
	for {
		cur := s.logEnd.Load()
		if n < cur {
			return
		}
		if s.logEnd.CompareAndSwap(cur, n) {
			s.logEndAt.Store(time.Now().UnixNano())
			return
		}
	}
}

// changeRun is what a reader got from the log after a number: the clients changed
// (in log order, repeats kept), with what a creation carried (nil for any other
// change), the last number read, and when the first of them was written (zero when
// nothing was there).
type changeRun struct {
	clients []string
	made    []*dirRecord
	last    int64
	first   time.Time
	end     bool // the log ends at last
}

// readChanges reads the log after number from, until its end or until at least limit
// clients were read. A run of single changes (managers' edits) is read a few
// documents at a time, side by side: where each document after a run of one starts
// is known.
func (s *Store) readChanges(ctx context.Context, from int64, limit int) (changeRun, error) {
	run := changeRun{last: from}
	window := 1
	for len(run.clients) < limit {
		docs := make([]*changeDoc, window)
		if err := parallel(ctx, window, func(i int) error {
			var c changeDoc
			err := s.getByID(ctx, colChanges, changeID(run.last+1+int64(i)), &c)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err == nil {
				docs[i] = &c
			}
			return err
		}); err != nil {
			return run, fmt.Errorf("read change log: %w", err)
		}
		start := run.last
		singles := true
		for run.last-start < int64(window) {
			c := docs[run.last-start]
			if c == nil {
				run.end = true
				return run, nil
			}
			if run.first.IsZero() {
				run.first = c.At
			}
			ids := c.ids()
			made := make([]*dirRecord, len(ids))
			if c.Made != "" {
				var recs []dirRecord
				if err := json.Unmarshal([]byte(c.Made), &recs); err == nil && len(recs) == len(ids) {
					for i := range recs {
						made[i] = &recs[i]
					}
				} // else: read the clients
			}
			run.clients = append(run.clients, ids...)
			run.made = append(run.made, made...)
			run.last += int64(len(ids))
			singles = singles && len(ids) == 1
		}
		if singles {
			window = min(2*window, 16)
		} else {
			window = 1
		}
	}
	return run, nil
}

// logEndFrom walks the log from number from to its end, reading documents only.
func (s *Store) logEndFrom(ctx context.Context, from int64) (int64, error) {
	for {
		run, err := s.readChanges(ctx, from, changesPerDoc)
		if err != nil || run.end {
			return run.last, err
		}
		from = run.last
	}
}

// PruneChangeLog deletes change-log entries older than age (a cold path: it scans).
// Nothing needs them: every process reloads its directory at least every reloadEvery.
func (s *Store) PruneChangeLog(ctx context.Context, age time.Duration) (int64, error) {
	if age < 2*reloadEvery {
		age = 2 * reloadEvery
	}
	res, err := s.c(colChanges).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: s.now().Add(-age)}}}})
	if err != nil {
		return 0, fmt.Errorf("prune change log: %w", err)
	}
	return res.DeletedCount, nil
}
