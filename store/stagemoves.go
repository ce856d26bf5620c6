package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Funnel reports need every stage move of a period. The timeline holds them, but
// reading it whole is far too slow for a report on the embedded engine, so each move
// is also kept in its company day's document (by _id), as one line of text in an
// array. The engine decodes a document's values one by one, so a line reads back many
// times faster than a subdocument of eight fields, and a day's document stays small
// where a month's would be rewritten whole for each move.

// StageMove is a client's move from one funnel stage to another.
type StageMove struct {
	Client string
	Seq    int64 // the move's timeline entry
	From   Stage
	To     Stage
	At     time.Time
	Since  time.Time // when the client entered From
	Reason string
	Code   RefusalCode // a red stage's quick reason
	By     string
}

// line is the move as it is stored: tab-separated, the reason last and kept to one
// line, times in Unix milliseconds (what the database keeps of a time). The quick
// reason's code comes before it; a line written before there were codes lacks it.
func (m StageMove) line() string {
	reason := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, m.Reason)
	return strings.Join([]string{m.Client, strconv.FormatInt(m.Seq, 10), string(m.From), string(m.To),
		millis(m.At), millis(m.Since), m.By, string(m.Code), reason}, "\t")
}

func millis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func fromMillis(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return time.UnixMilli(ms).UTC(), err
}

func parseStageMove(line string) (StageMove, error) {
	f := strings.SplitN(line, "\t", 9)
	var code RefusalCode
	switch len(f) {
	case 9:
		code = RefusalCode(f[7])
		f = append(f[:7], f[8])
	case 8: // without the code
	default:
		return StageMove{}, fmt.Errorf("stage move %q: %d fields", line, len(f))
	}
	seq, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return StageMove{}, fmt.Errorf("stage move %q: %w", line, err)
	}
	at, err := fromMillis(f[4])
	if err != nil {
		return StageMove{}, fmt.Errorf("stage move %q: %w", line, err)
	}
	since, err := fromMillis(f[5])
	if err != nil {
		return StageMove{}, fmt.Errorf("stage move %q: %w", line, err)
	}
	return StageMove{Client: f[0], Seq: seq, From: Stage(f[2]), To: Stage(f[3]), At: at, Since: since, By: f[6], Reason: f[7], Code: code}, nil
}

type stageDay struct {
	ID    string   `bson:"_id"`
	Moves []string `bson:"moves,omitempty"`
	// Packed holds the moves of a closed day, a line each: one value for the engine to
	// decode instead of one per move (a year at 100,000 clients: 365 values, not
	// 140,000). Reading a day packs it once nothing can be added to it.
	Packed string `bson:"packed,omitempty"`
}

// recordStageMove adds a move to its day; adding the same line again changes nothing.
func (s *Store) recordStageMove(ctx context.Context, m StageMove) error {
	err := s.upsertOne(ctx, colStageDays, s.companyDayID(m.At), bson.D{{Key: "$addToSet", Value: bson.D{{Key: "moves", Value: m.line()}}}})
	if err != nil {
		return fmt.Errorf("record stage move: %w", err)
	}
	return nil
}

// stageDaysAtOnce is how many days EachStageMove reads together: enough to keep the
// engine busy, few enough that a year's moves are never all in memory (at 100,000
// clients they are tens of megabytes).
const stageDaysAtOnce = 16

// EachStageMove calls fn with every move made in [from, to), oldest first, a few days
// at a time. A move's Client, By and Reason share their day's text: a caller keeping
// one for long copies it.
func (s *Store) EachStageMove(ctx context.Context, from, to time.Time, fn func(StageMove) error) error {
	if !from.Before(to) {
		return nil
	}
	days := s.companyDays(from, to)
	// A day may be packed once nothing can be added to it: the moves made before
	// counting began have been copied from the timelines, and the day has been over
	// for a day (moves are recorded at the time they are made, and clocks drift).
	copied, err := s.stageMovesCopied(ctx)
	if err != nil {
		return err
	}
	closedBefore := s.now().Add(-24 * time.Hour)
	for len(days) > 0 {
		batch := days[:min(stageDaysAtOnce, len(days))]
		days = days[len(batch):]
		moves := make([][]StageMove, len(batch))
		if err := parallel(ctx, len(batch), func(i int) error {
			var err error
			moves[i], err = s.stageDay(ctx, batch[i], from, to, copied && batch[i].AddDate(0, 0, 1).Before(closedBefore))
			return err
		}); err != nil {
			return fmt.Errorf("read stage moves: %w", err)
		}
		for _, day := range moves {
			for _, m := range day {
				if err := fn(m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// stageDay reads the moves of the day that starts at day made in [from, to), oldest
// first, and packs the day when closed.
func (s *Store) stageDay(ctx context.Context, day, from, to time.Time, closed bool) ([]StageMove, error) {
	id := day.Format(time.DateOnly)
	var doc stageDay
	if err := s.getByID(ctx, colStageDays, id, &doc); errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	// A move copied from the timeline while it was being made may be here twice,
	// with its time in the former stage counted from different records; a packed
	// day alone holds each once.
	type key struct {
		client string
		seq    int64
	}
	var seen map[key]bool
	var distinct []string // the day's lines, each move once: what packing writes
	if len(doc.Moves) > 0 {
		seen = make(map[key]bool, len(doc.Moves))
	}
	var moves []StageMove
	take := func(line string) {
		mv, err := parseStageMove(line)
		if err != nil {
			s.log.Warn("stage move unreadable", "day", id, "err", err)
			return
		}
		if seen != nil {
			if seen[key{mv.Client, mv.Seq}] {
				return
			}
			seen[key{mv.Client, mv.Seq}] = true
			distinct = append(distinct, line)
		}
		if !mv.At.Before(from) && mv.At.Before(to) {
			moves = append(moves, mv)
		}
	}
	if doc.Packed != "" {
		for line := range strings.SplitSeq(doc.Packed, "\n") {
			take(line)
		}
	}
	for _, line := range doc.Moves {
		take(line)
	}
	if len(doc.Moves) > 0 && closed {
		s.packStageDay(ctx, id, distinct)
	}
	sort.Slice(moves, func(i, j int) bool {
		if !moves[i].At.Equal(moves[j].At) {
			return moves[i].At.Before(moves[j].At)
		}
		if moves[i].Client != moves[j].Client {
			return moves[i].Client < moves[j].Client
		}
		return moves[i].Seq < moves[j].Seq
	})
	return moves, nil
}

// packStageDay writes a closed day's moves as one text. Nothing else writes to the day
// any more, so readers packing it at once write the same. A failure leaves the day as
// it was: it reads the same, only slower.
func (s *Store) packStageDay(ctx context.Context, id string, lines []string) {
	if _, err := s.c(colStageDays).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "packed", Value: strings.Join(lines, "\n")}}},
		{Key: "$unset", Value: bson.D{{Key: "moves", Value: ""}}}}); err != nil {
		s.log.Warn("stage moves not packed", "day", id, "err", err)
	}
}

// stageMovesCopied tells whether BackfillStageMoves has finished on this base.
func (s *Store) stageMovesCopied(ctx context.Context) (bool, error) {
	var marker struct {
		ID string `bson:"_id"`
	}
	err := s.getByID(ctx, colStageDays, stageMovesBuilt, &marker)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ReportClient is what reports need of a client: its name, its stage now, and what
// reports are cut by.
type ReportClient struct {
	ID, Name, ManagerID, City, Industry, LeadSource string
	Stage                                           Stage
	CreatedAt                                       time.Time
	FirstPaidAt                                     time.Time // zero: no order paid in full yet
}

// ReportClients lists every client from the in-process directory (no database scan),
// as it stands: a report does not wait for it to catch up.
func (s *Store) ReportClients(ctx context.Context) ([]ReportClient, error) {
	if err := s.dir.current(ctx); err != nil {
		return nil, err
	}
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	out := make([]ReportClient, 0, len(s.dir.entries.list))
	for _, e := range s.dir.entries.list {
		out = append(out, ReportClient{ID: e.id, Name: e.name, ManagerID: e.managerID(), City: e.city.Value(), Industry: e.industry.Value(),
			LeadSource: e.source.Value(), Stage: e.stage.Value(), CreatedAt: time.UnixMilli(e.created).UTC()})
		if e.firstPaid != 0 {
			out[len(out)-1].FirstPaidAt = time.UnixMilli(e.firstPaid).UTC()
		}
	}
	return out, nil
}

// stageMovesBuilt marks, in the stage moves' collection, that the moves made before
// they were kept by day have been copied from the timelines.
const stageMovesBuilt = "built"

// BackfillStageMoves copies every stage move of the timelines into the day documents
// and sets the clients' stageSince, once per base, for a base whose moves a version
// of crm kept in the timelines only. It reads the whole timeline (a cold path, once per base) and
// returns how many moves it wrote.
func (s *Store) BackfillStageMoves(ctx context.Context) (int, error) {
	if done, err := s.stageMovesCopied(ctx); done || err != nil {
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
	byDay := map[string][]string{}
	n := 0
	since := map[string]time.Time{}
	for client, moves := range byClient {
		at, ok := created[client]
		if !ok {
			continue // the client was deleted
		}
		sort.Slice(moves, func(i, j int) bool { return moves[i].seq < moves[j].seq })
		for _, m := range moves {
			mv := StageMove{Client: client, Seq: m.seq, From: m.stage.From, To: m.stage.To, At: m.at, Since: at, Reason: m.stage.Reason, Code: m.stage.Code, By: m.by}
			day := s.companyDayID(m.at)
			byDay[day] = append(byDay[day], mv.line())
			at = m.at
			n++
		}
		since[client] = at
	}
	days := make([]string, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	if err := parallel(ctx, len(days), func(i int) error {
		// In parts, to stay far below the 16 MB a command may hold.
		for lines := byDay[days[i]]; len(lines) > 0; {
			part := lines[:min(len(lines), 5000)]
			lines = lines[len(part):]
			if err := s.upsertOne(ctx, colStageDays, days[i], bson.D{{Key: "$addToSet", Value: bson.D{{Key: "moves",
				Value: bson.D{{Key: "$each", Value: part}}}}}}); err != nil {
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
	if _, err := s.c(colStageDays).InsertOne(ctx, bson.D{{Key: "_id", Value: stageMovesBuilt}, {Key: "at", Value: s.now()}}); err != nil &&
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
