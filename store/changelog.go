// The change log every directory follows: a counter and one document per change.

package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

type changeDoc struct {
	ID     string    `bson:"_id"`
	Client string    `bson:"client"`
	At     time.Time `bson:"at"`
}

func changeID(n int64) string { return fmt.Sprintf("%015d", n) }

// recordChanges appends one change per client to the change log.
func (s *Store) recordChanges(ctx context.Context, clientIDs ...string) error {
	if len(clientIDs) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	// Another process attached to the embedded engine may have been handed the same
	// numbers (its increment and ours raced): a number already taken is simply
	// reserved again.
	for attempt := 0; attempt < 5 && len(clientIDs) > 0; attempt++ {
		last, err := s.nextSeq(ctx, changesCounter, int64(len(clientIDs)))
		if err != nil {
			return err
		}
		first := last - int64(len(clientIDs)) + 1
		docs := make([]any, len(clientIDs))
		now := s.now()
		for i, id := range clientIDs {
			docs[i] = changeDoc{ID: changeID(first + int64(i)), Client: id, At: now}
		}
		there, err := s.insertNew(ctx, colChanges, docs, nil)
		if err != nil {
			return err
		}
		var again []string
		for i, id := range clientIDs {
			if there[i] {
				again = append(again, id)
			}
		}
		clientIDs = again
	}
	return nil
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
