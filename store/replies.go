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
	// AnsweredBy is a manager's ID, or the address the company's answer came from when
	// no manager has it ("mail" in documents of older versions).
	AnsweredBy string `bson:"answeredBy,omitempty"`
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

// Answer is how a client's letter was answered: when, and who answered (a manager's
// ID, or the address the company's letter came from when no manager has it).
type Answer struct {
	LetterID string
	At       time.Time
	By       string
}

// MarkAnswered stops the clock of the letters (by ID) now, on someone's word (a
// "handled" tap); for a letter not read yet it leaves a note that it is answered.
func (s *Store) MarkAnswered(ctx context.Context, letterIDs []string, by string) error {
	now := s.now()
	answers := make([]Answer, len(letterIDs))
	for i, id := range letterIDs {
		answers[i] = Answer{LetterID: id, At: now, By: by}
	}
	return s.AnswerReplies(ctx, answers)
}

// AnswerReplies stops the letters' clocks at the answers' times, so that a reply
// written in time counts as in time however late it is read. An answer never counts
// from before the letter it answers; the earliest answer of a letter wins, with who
// gave it. For a letter not read yet it leaves a note that it is answered.
func (s *Store) AnswerReplies(ctx context.Context, answers []Answer) error {
	return parallel(ctx, len(answers), func(i int) error { return s.answerReply(ctx, answers[i]) })
}

func (s *Store) answerReply(ctx context.Context, a Answer) error {
	defer s.locks.lock(colReplies, a.LetterID)()
	var r AwaitedReply
	switch err := s.getByID(ctx, colReplies, a.LetterID, &r); {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("stop reply clock: %w", err)
	case r.AnsweredAt != nil && !a.At.Before(*r.AnsweredAt):
		return nil // answered earlier
	case a.At.Before(r.ReceivedAt):
		a.At = r.ReceivedAt
	}
	// $min keeps the earliest answer should another instance answer at once.
	var was AwaitedReply
	err := s.c(colReplies).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: a.LetterID}}, bson.D{
		{Key: "$min", Value: bson.D{{Key: "answeredAt", Value: a.At}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "answeredBy", Value: a.By}, {Key: "receivedAt", Value: a.At},
			{Key: "dueAt", Value: a.At}, {Key: "escalateAt", Value: a.At}, {Key: "level", Value: 0}}},
	}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&was)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil // nobody awaited a reply to it (yet): the note is written
	}
	if err != nil {
		return fmt.Errorf("stop reply clock: %w", err)
	}
	if was.AnsweredAt != nil && !a.At.Before(*was.AnsweredAt) {
		return nil
	}
	if _, err := s.c(colReplies).UpdateOne(ctx, bson.D{{Key: "_id", Value: a.LetterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "answeredBy", Value: a.By}}}}); err != nil {
		return fmt.Errorf("record who answered: %w", err)
	}
	if was.AnsweredAt == nil && len(was.Clients) > 0 {
		managers, err := s.ManagersOf(ctx, was.Clients[:1])
		if err != nil {
			return err
		}
		s.countActivity(ctx, a.At, managers[was.Clients[0]], replyCounts(&was, a.At))
	}
	return nil
}

// AnswerThreads stops the clocks of the letters of a conversation received before one
// of the company's answers in it (thread ID -> its answers), at the first such answer.
func (s *Store) AnswerThreads(ctx context.Context, answers map[string][]Answer) error {
	if len(answers) == 0 {
		return nil
	}
	open, err := s.AwaitedReplies(ctx)
	if err != nil {
		return err
	}
	var stop []Answer
	for _, r := range open {
		if r.ThreadID == "" {
			continue
		}
		var first *Answer
		for i, a := range answers[r.ThreadID] {
			if !r.ReceivedAt.After(a.At) && (first == nil || a.At.Before(first.At)) {
				first = &answers[r.ThreadID][i]
			}
		}
		if first != nil {
			stop = append(stop, Answer{LetterID: r.LetterID, At: first.At, By: first.By})
		}
	}
	return s.AnswerReplies(ctx, stop)
}

// OverdueReplies lists unanswered letters whose next alert is due at now, and when
// the next alert after those falls due (zero when none); a scan of a small
// collection. It also drops documents older than keep.
func (s *Store) OverdueReplies(ctx context.Context, now time.Time, keep time.Duration) (due []AwaitedReply, next time.Time, err error) {
	if _, err := s.c(colReplies).DeleteMany(ctx, bson.D{{Key: "receivedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-keep)}}}}); err != nil {
		return nil, time.Time{}, fmt.Errorf("drop old reply clocks: %w", err)
	}
	all, err := s.AwaitedReplies(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, r := range all {
		switch {
		case r.Level == 0 && !r.DueAt.After(now):
			due = append(due, r)
			later(r.EscalateAt) // its alert raises it to the next level
		case r.Level == 0:
			later(r.DueAt)
		case r.Level == 1 && !r.EscalateAt.After(now):
			due = append(due, r)
		case r.Level == 1:
			later(r.EscalateAt)
		}
	}
	return due, next, nil
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

// ReplyClock reads one letter's reply clock, answered or not.
func (s *Store) ReplyClock(ctx context.Context, letterID string) (*AwaitedReply, error) {
	return getOne[AwaitedReply](ctx, s, colReplies, letterID)
}
