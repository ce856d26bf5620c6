package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// Funnel reports need every stage move of a period. The timeline holds them, but
// reading it whole takes 15 s at 300,000 entries on the embedded engine, so each move
// is also kept in its month's document (by _id, the UTC month), keyed by client and
// timeline number so that writing it again changes nothing.

// StageMove is a client's move from one funnel stage to another.
type StageMove struct {
	Client string    `bson:"client"`
	Seq    int64     `bson:"seq"` // the move's timeline entry
	From   Stage     `bson:"from"`
	To     Stage     `bson:"to"`
	At     time.Time `bson:"at"`
	Since  time.Time `bson:"since"` // when the client entered From
	Reason string    `bson:"reason,omitempty"`
	By     string    `bson:"by,omitempty"`
}

type stageMonth struct {
	ID    string               `bson:"_id"`
	Moves map[string]StageMove `bson:"moves"`
}

func stageMonthID(t time.Time) string { return t.UTC().Format("2006-01") }

func (s *Store) recordStageMove(ctx context.Context, m StageMove) error {
	key := m.Client + "-" + strconv.FormatInt(m.Seq, 10)
	err := s.upsertOne(ctx, colStageMoves, stageMonthID(m.At), bson.D{{Key: "$set", Value: bson.D{{Key: "moves." + key, Value: m}}}})
	if err != nil {
		return fmt.Errorf("record stage move: %w", err)
	}
	return nil
}

// StageMoves lists the moves made in [from, to), oldest first.
func (s *Store) StageMoves(ctx context.Context, from, to time.Time) ([]StageMove, error) {
	var out []StageMove
	for m := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		var doc stageMonth
		err := s.getByID(ctx, colStageMoves, stageMonthID(m), &doc)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read stage moves: %w", err)
		}
		for _, mv := range doc.Moves {
			if !mv.At.Before(from) && mv.At.Before(to) {
				out = append(out, mv)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		if out[i].Client != out[j].Client {
			return out[i].Client < out[j].Client
		}
		return out[i].Seq < out[j].Seq
	})
	return out, nil
}

// FunnelClient is what funnel reports need of a client: its stage now, and what
// reports are cut by.
type FunnelClient struct {
	ID, ManagerID, City, Industry, LeadSource string
	Stage                                     Stage
	CreatedAt                                 time.Time
}

// FunnelClients lists every client from the in-process directory (no database scan).
func (s *Store) FunnelClients(ctx context.Context) ([]FunnelClient, error) {
	if err := s.dir.Sync(ctx); err != nil {
		return nil, err
	}
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	out := make([]FunnelClient, 0, len(s.dir.entries.list))
	for _, e := range s.dir.entries.list {
		out = append(out, FunnelClient{ID: e.id, ManagerID: e.manager, City: e.city, Industry: e.industry, LeadSource: e.source,
			Stage: e.stage, CreatedAt: e.created})
	}
	return out, nil
}
