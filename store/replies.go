package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// AwaitedReply is a client's letter the company owes an answer to. It is answered by
// a letter from the company in the same thread or by a manager's "handled" tap; when
// DueAt passes first, the manager is alerted, and at EscalateAt their head.
//
// The collection holds the last days' letters only: an answer that is read before the
// letter it answers (folders are read one after another) leaves an answered document,
// and the letter's own insert then finds it there.
type AwaitedReply struct {
	LetterID   string     `bson:"_id"`
	Clients    []string   `bson:"clients,omitempty"`
	ThreadID   string     `bson:"threadId,omitempty"`
	From       string     `bson:"from,omitempty"`
	Subject    string     `bson:"subject,omitempty"`
	ReceivedAt time.Time  `bson:"receivedAt"`
	DueAt      time.Time  `bson:"dueAt"`
	EscalateAt time.Time  `bson:"escalateAt"`
	Level      int        `bson:"level"` // alerts sent: 1 the manager, 2 the head
	AnsweredAt *time.Time `bson:"answeredAt,omitempty"`
	AnsweredBy string     `bson:"answeredBy,omitempty"` // "mail" or a manager's ID
}

// FreshLetter is how old a letter may be and still alert anyone: the first reading of
// a mailbox with years of mail, or a letter taken off the unsorted queue weeks later,
// announces nothing and starts no reply clock.
const FreshLetter = 72 * time.Hour

// Written is when a letter was written: its Date, unless missing or later than now.
func (l *Letter) Written(now time.Time) time.Time {
	if l.Date.IsZero() || l.Date.After(now) {
		return now
	}
	return l.Date
}

// NewAwaitedReply is a client letter's reply clock, started at from: sla of working
// time by cal until its manager is alerted, and as long again until their head is.
func NewAwaitedReply(l *Letter, clients []string, received, from time.Time, sla time.Duration, cal WorkCalendar) AwaitedReply {
	due := cal.AddWorking(from, sla)
	return AwaitedReply{LetterID: l.ID, Clients: clients, ThreadID: l.ThreadID, From: l.From.Email, Subject: l.Subject,
		ReceivedAt: received, DueAt: due, EscalateAt: cal.AddWorking(due, sla)}
}

// AwaitReplies starts the clock for letters; one already known (answered early, or
// read before) is left as it is.
func (s *Store) AwaitReplies(ctx context.Context, rs []AwaitedReply) error {
	docs := make([]any, len(rs))
	for i := range rs {
		docs[i] = rs[i]
	}
	if _, err := s.insertNew(ctx, colReplies, docs, nil); err != nil {
		return fmt.Errorf("start reply clocks: %w", err)
	}
	return nil
}

// MarkAnswered stops the clock of the letters (by ID); for a letter not read yet it
// leaves a note that it is answered.
func (s *Store) MarkAnswered(ctx context.Context, letterIDs []string, by string) error {
	now := s.now()
	return parallel(ctx, len(letterIDs), func(i int) error {
		var was AwaitedReply
		err := s.c(colReplies).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: letterIDs[i]}}, bson.D{
			{Key: "$min", Value: bson.D{{Key: "answeredAt", Value: now}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "answeredBy", Value: by}, {Key: "receivedAt", Value: now},
				{Key: "dueAt", Value: now}, {Key: "escalateAt", Value: now}, {Key: "level", Value: 0}}},
		}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&was)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil // nobody awaited a reply to it
		}
		if err != nil {
			return fmt.Errorf("stop reply clock: %w", err)
		}
		if was.AnsweredAt == nil && len(was.Clients) > 0 {
			managers, err := s.ManagersOf(ctx, was.Clients[:1])
			if err != nil {
				return err
			}
			s.countActivity(ctx, now, managers[was.Clients[0]], replyCounts(&was, now))
		}
		return nil
	})
}

// AnswerThreads stops the clocks of every letter of a conversation received before
// the company's answer (thread ID -> when the answer was written).
func (s *Store) AnswerThreads(ctx context.Context, answers map[string]time.Time, by string) error {
	if len(answers) == 0 {
		return nil
	}
	open, err := s.AwaitedReplies(ctx)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range open {
		if at, ok := answers[r.ThreadID]; ok && r.ThreadID != "" && !r.ReceivedAt.After(at) {
			ids = append(ids, r.LetterID)
		}
	}
	return s.MarkAnswered(ctx, ids, by)
}

// OverdueReplies lists unanswered letters whose next alert is due at now (a scan of
// a small collection); it also drops documents older than keep.
func (s *Store) OverdueReplies(ctx context.Context, now time.Time, keep time.Duration) ([]AwaitedReply, error) {
	if _, err := s.c(colReplies).DeleteMany(ctx, bson.D{{Key: "receivedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-keep)}}}}); err != nil {
		return nil, fmt.Errorf("drop old reply clocks: %w", err)
	}
	all, err := s.AwaitedReplies(ctx)
	if err != nil {
		return nil, err
	}
	var due []AwaitedReply
	for _, r := range all {
		if (r.Level == 0 && !r.DueAt.After(now)) || (r.Level == 1 && !r.EscalateAt.After(now)) {
			due = append(due, r)
		}
	}
	return due, nil
}

// ClaimReplyAlert raises a letter's alert level; only one caller wins each level, so
// several instances alert once. It refuses an answered letter.
func (s *Store) ClaimReplyAlert(ctx context.Context, letterID string, level int) (bool, error) {
	defer s.locks.lock(colReplies, letterID)()
	var r AwaitedReply
	if err := s.getByID(ctx, colReplies, letterID, &r); err != nil {
		return false, err
	}
	if r.AnsweredAt != nil || r.Level >= level {
		return false, nil
	}
	res, err := s.c(colReplies).UpdateOne(ctx, bson.D{{Key: "_id", Value: letterID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "level", Value: level}}}})
	if err != nil {
		return false, fmt.Errorf("claim reply alert: %w", err)
	}
	return res.ModifiedCount == 1, nil
}

// AwaitedReplies lists the unanswered letters of the last days, oldest first (for
// digests and reports).
func (s *Store) AwaitedReplies(ctx context.Context) ([]AwaitedReply, error) {
	cur, err := s.c(colReplies).Find(ctx, bson.D{{Key: "answeredAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetSort(bson.D{{Key: "receivedAt", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read reply clocks: %w", err)
	}
	var all []AwaitedReply
	if err := cur.All(ctx, &all); err != nil {
		return nil, fmt.Errorf("read reply clocks: %w", err)
	}
	return all, nil
}
