package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Lines written in bulk (a campaign's "mailing sent" lines, thousands at once) are
// shown at once and numbered later. A numbered entry costs two writes of the client
// (its number, then its history bucket), which the embedded engine makes one at a
// time at about a millisecond each; a pending document per client is one insert,
// and a thousand go in one write. Card and Timeline show a client's pending lines on
// top of the newest page, and FoldPendingLines, a scheduled job, numbers them into
// the timeline afterwards.
//
// A pending document is only ever inserted and deleted, never changed: when a
// client already has one (the last campaign's lines are not folded yet), the new
// lines are numbered at once instead, so a fold that deletes what it read never
// deletes lines it did not fold.

// pendingDoc holds one client's lines waiting to be numbered; its _id is the client's.
type pendingDoc struct {
	ID    string        `bson:"_id"`
	Items []Interaction `bson:"items"`
}

// ShowMailings puts "mailing sent" lines into their clients' histories: as pending
// lines, in a few inserts, or numbered at once for a client that has pending lines
// already. A line whose source key the client's history already shows is skipped,
// so a batch whose lines are written again (its instance stopped meanwhile) writes
// each once.
func (s *Store) ShowMailings(ctx context.Context, byClient map[string][]Interaction) error {
	ids := make([]string, 0, len(byClient))
	for id := range byClient {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	docs := make([]any, len(ids))
	for i, id := range ids {
		items := byClient[id]
		for k := range items {
			if items[k].Kind == "" {
				return invalidf("an interaction needs a kind")
			}
			if items[k].At.IsZero() {
				items[k].At = s.now()
			}
			items[k].At = items[k].At.UTC()
		}
		docs[i] = pendingDoc{ID: id, Items: items}
	}
	there, err := s.insertNew(ctx, colPendingLines, docs, nil)
	if err != nil {
		return fmt.Errorf("write history lines: %w", err)
	}
	for i := range there {
		if err := s.AppendMailings(ctx, ids[i], byClient[ids[i]], true); err != nil {
			return err
		}
	}
	return nil
}

// pendingLines reads a client's lines waiting to be numbered, newest first.
func (s *Store) pendingLines(ctx context.Context, clientID string) ([]Interaction, error) {
	var d pendingDoc
	err := s.getByID(ctx, colPendingLines, clientID, &d)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", clientID, err)
	}
	sort.SliceStable(d.Items, func(i, j int) bool { return d.Items[i].At.After(d.Items[j].At) })
	return d.Items, nil
}

// withPending puts pending lines on top of the newest page of a timeline, but those
// the page shows already (folded between the two reads).
func withPending(pending, page []Interaction) []Interaction {
	if len(pending) == 0 {
		return page
	}
	shown := map[string]bool{}
	for _, it := range page {
		if it.SourceKey != "" {
			shown[it.SourceKey] = true
		}
	}
	out := make([]Interaction, 0, len(pending)+len(page))
	for _, it := range pending {
		if it.SourceKey == "" || !shown[it.SourceKey] {
			out = append(out, it)
		}
	}
	return append(out, page...)
}

// FoldPendingLines numbers up to max clients' pending lines into their timelines and
// says how many clients it took. A line the timeline has already (a fold stopped
// between its append and its delete) is not written twice. Run by one instance at a
// time (the scheduler's lease); the pending collection holds only lines not yet
// folded, so its scan is short.
func (s *Store) FoldPendingLines(ctx context.Context, max int) (int, error) {
	cur, err := s.c(colPendingLines).Find(ctx, bson.D{}, options.Find().SetLimit(int64(max)).SetBatchSize(int32(max)))
	if err != nil {
		return 0, fmt.Errorf("read pending history lines: %w", err)
	}
	var docs []pendingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("read pending history lines: %w", err)
	}
	for _, d := range docs {
		if err := s.foldLines(ctx, d.ID, d.Items); err != nil {
			return 0, err
		}
		if _, err := s.c(colPendingLines).DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return 0, fmt.Errorf("fold history of %s: %w", d.ID, err)
		}
	}
	return len(docs), nil
}

// foldLines numbers a client's pending lines but those its numbered timeline shows.
func (s *Store) foldLines(ctx context.Context, clientID string, items []Interaction) error {
	page, err := s.numberedPage(ctx, clientID, len(items)+timelineBucket)
	if errors.Is(err, ErrNotFound) {
		return nil // the client was deleted since
	}
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, it := range page {
		have[it.SourceKey] = true
	}
	var fresh []Interaction
	for _, it := range items {
		if it.SourceKey == "" || !have[it.SourceKey] {
			fresh = append(fresh, it)
		}
	}
	err = s.AppendInteractions(ctx, clientID, fresh)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
