package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// A campaign's batches hold a snapshot of their recipients taken when the run was
// queued. A contact who unsubscribes, bounces, loses consent or is removed after that
// must still not get the letter, so every such change is also written to the day's
// opt-out document (one per UTC day, by _id), which senders read by _id: a look at the
// contacts themselves would cost a read a message.

// OptOutKey names a contact in the opt-out log.
func OptOutKey(clientID, contactID string) string { return clientID + "/" + contactID }

type optOutDay struct {
	ID      string   `bson:"_id"`
	Entries []OptOut `bson:"entries"`
}

// OptOut is a contact (OptOutKey) who could no longer be mailed from At on.
type OptOut struct {
	Key string    `bson:"k"`
	At  time.Time `bson:"at"`
}

func optOutDayID(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// recordOptOuts adds contacts (OptOutKey) to today's opt-out document.
func (s *Store) recordOptOuts(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	now := s.now()
	entries := make([]OptOut, len(keys))
	for i, k := range keys {
		entries[i] = OptOut{Key: k, At: now}
	}
	id := optOutDayID(now)
	update := bson.D{{Key: "$push", Value: bson.D{{Key: "entries", Value: bson.D{{Key: "$each", Value: entries}}}}}}
	err := s.upsertOne(ctx, colOptOuts, id, update)
	if err != nil {
		return fmt.Errorf("record opt-out: %w", err)
	}
	return nil
}

// OptOutsOn lists the opt-outs recorded on day's UTC date.
func (s *Store) OptOutsOn(ctx context.Context, day time.Time) ([]OptOut, error) {
	var doc optOutDay
	err := s.c(colOptOuts).FindOne(ctx, bson.D{{Key: "_id", Value: optOutDayID(day)}}).Decode(&doc)
	if err == mongo.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	return doc.Entries, nil
}

// lostMailings lists the contacts of cur that could be mailed and, in next (nil: the
// client is deleted), no longer can be at the same address.
func lostMailings(cur, next *Client) []string {
	var keys []string
	for id, p := range cur.Contacts {
		was, _ := MailableEmail(p)
		if was == "" {
			continue
		}
		now := ""
		if next != nil {
			if q, ok := next.Contacts[id]; ok {
				now, _ = MailableEmail(q)
			}
		}
		if now != was {
			keys = append(keys, OptOutKey(cur.ID, id))
		}
	}
	return keys
}
