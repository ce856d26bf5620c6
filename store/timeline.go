package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The timeline uses the bucket pattern: entry n of a client lives in the document
// "<client>/<(n-1)/timelineBucket>", so a page of history is one or two _id reads.
const timelineBucket = 50

type timelineDoc struct {
	ID     string        `bson:"_id"`
	Client string        `bson:"client"`
	Bucket int64         `bson:"bucket"`
	Items  []Interaction `bson:"items"`
}

func timelineID(clientID string, bucket int64) string {
	return fmt.Sprintf("%s/%06d", clientID, bucket)
}

// AppendInteraction adds an entry to a client's timeline and returns it numbered.
func (s *Store) AppendInteraction(ctx context.Context, clientID string, it Interaction) (Interaction, error) {
	if it.Kind == "" {
		return it, invalidf("an interaction needs a kind")
	}
	stored, err := s.appendNumbered(ctx, clientID, []Interaction{it})
	if err != nil {
		return it, err
	}
	return stored[0], nil
}

// Timeline returns up to limit entries older than before (0: the newest), newest
// first, and the value of before for the next page (0 when there is none). The newest
// page also has the lines not yet numbered on top (pendinglines.go).
func (s *Store) Timeline(ctx context.Context, clientID string, before int64, limit int) ([]Interaction, int64, error) {
	if limit <= 0 {
		limit = 20
	}
	if before > 0 {
		return s.timelinePage(ctx, clientID, before, limit)
	}
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, 0, err
	}
	return s.newestPage(ctx, c, limit)
}

// newestPage is a client's newest n numbered entries with its pending lines on top.
func (s *Store) newestPage(ctx context.Context, c *Client, n int) ([]Interaction, int64, error) {
	items, more, err := s.timelinePage(ctx, c.ID, c.TimelineSeq+1, n)
	if err != nil {
		return nil, 0, err
	}
	pending, err := s.pendingLines(ctx, c.ID)
	if err != nil {
		return nil, 0, err
	}
	return withPending(pending, items), more, nil
}

// numberedPage is a client's newest n numbered entries, without the pending lines.
func (s *Store) numberedPage(ctx context.Context, clientID string, n int) ([]Interaction, error) {
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	items, _, err := s.timelinePage(ctx, clientID, c.TimelineSeq+1, n)
	return items, err
}

func (s *Store) timelinePage(ctx context.Context, clientID string, before int64, limit int) ([]Interaction, int64, error) {
	hi := before - 1
	lo := max(hi-int64(limit)+1, 1)
	if hi < 1 {
		return nil, 0, nil
	}
	first, last := (lo-1)/timelineBucket, (hi-1)/timelineBucket
	docs := make([]timelineDoc, last-first+1)
	if err := parallel(ctx, len(docs), func(i int) error {
		err := s.getByID(ctx, colTimeline, timelineID(clientID, first+int64(i)), &docs[i])
		if errors.Is(err, ErrNotFound) {
			return nil // a gap left by a crash between numbering and writing
		}
		return err
	}); err != nil {
		return nil, 0, err
	}
	var out []Interaction
	for _, d := range docs {
		for _, it := range d.Items {
			if it.Seq >= lo && it.Seq <= hi {
				out = append(out, it)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	next := lo
	if lo <= 1 {
		next = 0
	}
	return out, next, nil
}

// Card is what a client's card shows: the client and its newest interactions.
type Card struct {
	Client       *Client
	Interactions []Interaction
	More         int64 // pass to Timeline as before for older entries; 0 when none
}

// Card reads a client and its newest n interactions (three or four _id reads).
func (s *Store) Card(ctx context.Context, clientID string, n int) (*Card, error) {
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	items, more, err := s.newestPage(ctx, c, n)
	if err != nil {
		return nil, err
	}
	return &Card{Client: c, Interactions: items, More: more}, nil
}

// AppendInteractions adds many entries to one client's timeline in a few writes (an
// imported history): one counter update and one write per bucket touched.
func (s *Store) AppendInteractions(ctx context.Context, clientID string, items []Interaction) error {
	if len(items) == 0 {
		return nil
	}
	_, err := s.appendNumbered(ctx, clientID, items)
	return err
}

// appendNumbered reserves the entries' numbers on the client, then writes them. A
// crash between the two leaves a gap in the numbering, never a half-written entry.
func (s *Store) appendNumbered(ctx context.Context, clientID string, items []Interaction) ([]Interaction, error) {
	var c struct {
		Seq     int64  `bson:"timelineSeq"`
		Manager string `bson:"managerId"`
	}
	unlock := s.locks.lock(colClients, clientID)
	err := s.c(colClients).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: clientID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "timelineSeq", Value: int64(len(items))}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	unlock()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("add to timeline: %w", err)
	}
	return s.writeNumbered(ctx, clientID, c.Manager, c.Seq-int64(len(items))+1, items)
}

// writeNumbered writes entries whose numbers, from first on, are reserved on the
// client (by AppendInteractions, or by another write of the client that reserved
// them with its own change), one write per bucket touched, and counts them for the
// client's manager.
func (s *Store) writeNumbered(ctx context.Context, clientID, manager string, first int64, items []Interaction) ([]Interaction, error) {
	if len(items) == 0 {
		return nil, nil
	}
	byBucket := map[int64][]Interaction{}
	stored := make([]Interaction, len(items))
	for i := range items {
		it := items[i]
		if it.Kind == "" {
			return nil, invalidf("an interaction needs a kind")
		}
		if it.At.IsZero() {
			it.At = s.now()
		}
		it.At, it.Seq = it.At.UTC(), first+int64(i)
		b := (it.Seq - 1) / timelineBucket
		byBucket[b] = append(byBucket[b], it)
		stored[i] = it
	}
	for b, its := range byBucket {
		unlock := s.locks.lock(colTimeline, timelineID(clientID, b))
		_, err := s.c(colTimeline).UpdateOne(ctx, bson.D{{Key: "_id", Value: timelineID(clientID, b)}},
			bson.D{
				{Key: "$push", Value: bson.D{{Key: "items", Value: bson.D{{Key: "$each", Value: its}}}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "client", Value: clientID}, {Key: "bucket", Value: b}}},
			}, options.Update().SetUpsert(true))
		unlock()
		if err != nil {
			return nil, fmt.Errorf("add to timeline: %w", err)
		}
	}
	s.countInteractions(ctx, manager, stored)
	return stored, nil
}
