package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
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

func stageMoveKey(m StageMove) string { return m.Client + "-" + strconv.FormatInt(m.Seq, 10) }

func (s *Store) recordStageMove(ctx context.Context, m StageMove) error {
	err := s.upsertOne(ctx, colStageMoves, stageMonthID(m.At), bson.D{{Key: "$set", Value: bson.D{{Key: "moves." + stageMoveKey(m), Value: m}}}})
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

// ReportClient is what reports need of a client: its name, its stage now, and what
// reports are cut by.
type ReportClient struct {
	ID, Name, ManagerID, City, Industry, LeadSource string
	Stage                                           Stage
	CreatedAt                                       time.Time
}

// ReportClients lists every client from the in-process directory (no database scan).
func (s *Store) ReportClients(ctx context.Context) ([]ReportClient, error) {
	if err := s.dir.Sync(ctx); err != nil {
		return nil, err
	}
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	out := make([]ReportClient, 0, len(s.dir.entries.list))
	for _, e := range s.dir.entries.list {
		out = append(out, ReportClient{ID: e.id, Name: e.name, ManagerID: e.manager, City: e.city, Industry: e.industry, LeadSource: e.source,
			Stage: e.stage, CreatedAt: e.created})
	}
	return out, nil
}

// stageMovesBuilt marks, in the stage moves' collection, that the moves made before
// they were kept by month have been copied from the timelines.
const stageMovesBuilt = "built"

// BackfillStageMoves copies every stage move of the timelines into the month documents
// and sets the clients' stageSince, once per base: the moves made before this
// version kept them. It reads the whole timeline (a cold path: 15 s at 300,000
// entries on the embedded engine) and returns how many moves it wrote.
func (s *Store) BackfillStageMoves(ctx context.Context) (int, error) {
	var marker struct {
		ID string `bson:"_id"`
	}
	if err := s.getByID(ctx, colStageMoves, stageMovesBuilt, &marker); err == nil {
		return 0, nil
	} else if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	type entry struct {
		seq   int64
		at    time.Time
		stage StageChange
		by    string
	}
	byClient := map[string][]entry{}
	cur, err := s.c(colTimeline).Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var doc timelineDoc
		if err := cur.Decode(&doc); err != nil {
			return 0, fmt.Errorf("read timeline: %w", err)
		}
		for _, it := range doc.Items {
			if it.Kind == InteractionStageChange && it.Stage != nil {
				byClient[doc.Client] = append(byClient[doc.Client], entry{seq: it.Seq, at: it.At, stage: *it.Stage, by: it.AuthorID})
			}
		}
	}
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("read timeline: %w", err)
	}
	created := map[string]time.Time{}
	clients, err := s.ReportClients(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range clients {
		created[c.ID] = c.CreatedAt
	}
	// A month's moves go in one write: its document is rewritten whole by each write
	// on the embedded engine, so a write per move took minutes at 25,000 moves.
	byMonth := map[string]bson.D{}
	n := 0
	since := map[string]time.Time{}
	for client, moves := range byClient {
		at, ok := created[client]
		if !ok {
			continue // the client was deleted
		}
		sort.Slice(moves, func(i, j int) bool { return moves[i].seq < moves[j].seq })
		for _, m := range moves {
			mv := StageMove{Client: client, Seq: m.seq, From: m.stage.From, To: m.stage.To, At: m.at, Since: at, Reason: m.stage.Reason, By: m.by}
			month := stageMonthID(m.at)
			byMonth[month] = append(byMonth[month], bson.E{Key: "moves." + stageMoveKey(mv), Value: mv})
			at = m.at
			n++
		}
		since[client] = at
	}
	months := make([]string, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	if err := parallel(ctx, len(months), func(i int) error {
		// In parts, one after another, to stay far below the 16 MB a command may hold.
		for set := byMonth[months[i]]; len(set) > 0; {
			part := set[:min(len(set), 2000)]
			set = set[len(part):]
			if err := s.upsertOne(ctx, colStageMoves, months[i], bson.D{{Key: "$set", Value: part}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("record stage moves: %w", err)
	}
	clientIDs := make([]string, 0, len(since))
	for c := range since {
		clientIDs = append(clientIDs, c)
	}
	if err := parallel(ctx, len(clientIDs), func(i int) error {
		return s.backfillStageSince(ctx, clientIDs[i], since[clientIDs[i]])
	}); err != nil {
		return 0, err
	}
	if _, err := s.c(colStageMoves).InsertOne(ctx, bson.D{{Key: "_id", Value: stageMovesBuilt}, {Key: "at", Value: s.now()}}); err != nil &&
		!mongo.IsDuplicateKeyError(err) {
		return n, err
	}
	return n, nil
}

// backfillStageSince sets a client's stageSince unless a move since has set it; under
// the client's lock, as MoveStage writes it.
func (s *Store) backfillStageSince(ctx context.Context, clientID string, at time.Time) error {
	defer s.locks.lock(colClients, clientID)()
	var c struct {
		Since *time.Time `bson:"stageSince"`
	}
	if err := s.getByID(ctx, colClients, clientID, &c); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if c.Since != nil {
		return nil
	}
	if _, err := s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: clientID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "stageSince", Value: at}}}}); err != nil {
		return fmt.Errorf("set stageSince: %w", err)
	}
	return nil
}
