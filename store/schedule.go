package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The scheduler's state. Three kinds of document make timed work run once across
// instances and restarts:
//
//   - a lease per job ("lease/reminders" in schedule): one instance does the job's
//     scanning at a time; taken with findOneAndUpdate, renewed, and free when it runs out;
//   - a claim per piece of work ("remind/<task>/<due>", "digest/<manager>/<date>" in
//     claims): inserted under a unique _id before the work is done, so only one
//     instance ever does it, even when two hold what they believe is the lease (the
//     embedded engine does not apply findOneAndUpdate atomically);
//   - a reminder slot per minute ("2026-11-23T10:05" in reminders) listing the tasks due
//     in it, so that the due reminders are found by _id, not by a scan of tasks.

// NewOwner names this process in leases and holds: host, process and a random part,
// so that no two processes, even after a restart, share a name.
func NewOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

type leaseDoc struct {
	ID    string    `bson:"_id"`
	Owner string    `bson:"owner"`
	Until time.Time `bson:"until"`
}

// AcquireLease takes the named lease for owner for ttl, or renews it when owner holds
// it. It reports false while another owner's lease runs.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := s.now()
	filter := bson.D{{Key: "_id", Value: "lease/" + name}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "owner", Value: owner}},
		bson.D{{Key: "until", Value: bson.D{{Key: "$lte", Value: now}}}},
	}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "until", Value: now.Add(ttl)}}}}
	// A lease held by another does not match; the upsert then inserts its _id again,
	// which the unique _id refuses.
	err := s.c(colSchedule).FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetUpsert(true)).Err()
	switch {
	case err == nil, errors.Is(err, mongo.ErrNoDocuments):
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	}
	return false, fmt.Errorf("take lease %s: %w", name, err)
}

// ReleaseLease gives up owner's lease, so another instance takes the job at once.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := s.c(colSchedule).DeleteOne(ctx, bson.D{{Key: "_id", Value: "lease/" + name}, {Key: "owner", Value: owner}})
	return err
}

// LeaseHolder tells who holds a lease and until when ("" when nobody does).
func (s *Store) LeaseHolder(ctx context.Context, name string) (string, time.Time, error) {
	var l leaseDoc
	err := s.getByID(ctx, colSchedule, "lease/"+name, &l)
	if errors.Is(err, ErrNotFound) || (err == nil && !l.Until.After(s.now())) {
		return "", time.Time{}, nil
	}
	return l.Owner, l.Until, err
}

type claimDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// Claim records that the caller does the piece of work named id; only the first
// caller of an id, on any instance, gets true.
func (s *Store) Claim(ctx context.Context, id string) (bool, error) {
	there, err := s.insertNew(ctx, colClaims, []any{claimDoc{ID: id, At: s.now()}}, nil)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", id, err)
	}
	return !there[0], nil
}

// Unclaim gives a piece of work back after it failed, so that it is tried again.
func (s *Store) Unclaim(ctx context.Context, id string) error {
	_, err := s.c(colClaims).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// PruneClaims drops claims older than age (their work is long past). A cold path: it
// scans.
func (s *Store) PruneClaims(ctx context.Context, age time.Duration) (int64, error) {
	res, err := s.c(colClaims).DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: s.now().Add(-age)}}}})
	if err != nil {
		return 0, fmt.Errorf("prune claims: %w", err)
	}
	return res.DeletedCount, nil
}

// cursorDoc keeps how far a job has got (the last minute whose reminders are all sent).
type cursorDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// JobCursor reads how far the named job has got; ok is false before its first run.
func (s *Store) JobCursor(ctx context.Context, name string) (at time.Time, ok bool, err error) {
	var c cursorDoc
	err = s.getByID(ctx, colSchedule, "cursor/"+name, &c)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, false, nil
	}
	return c.At, err == nil, err
}

// SetJobCursor moves the named job's cursor forward (never back: a slower instance
// cannot undo another's progress).
func (s *Store) SetJobCursor(ctx context.Context, name string, at time.Time) error {
	_, err := s.c(colSchedule).UpdateOne(ctx, bson.D{{Key: "_id", Value: "cursor/" + name}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "at", Value: at.UTC()}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save %s progress: %w", name, err)
	}
	return nil
}

// ReminderSlot is the _id of the reminder slot of t's minute.
func ReminderSlot(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

type slotDoc struct {
	ID    string   `bson:"_id"`
	Tasks []string `bson:"tasks"`
}

// addToSlot lists a task in the slot of its due minute. It is written before the
// task, so a crash leaves at worst a slot entry whose task says otherwise, which
// RemindersAt skips.
func (s *Store) addToSlot(ctx context.Context, due time.Time, taskID string) error {
	id := ReminderSlot(due)
	defer s.locks.lock(colReminders, id)()
	_, err := s.c(colReminders).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "tasks", Value: taskID}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("plan the reminder: %w", err)
	}
	return nil
}

// RemindersAt returns the open tasks due within the given minute: one read of the
// minute's slot and one per task listed there.
func (s *Store) RemindersAt(ctx context.Context, minute time.Time) ([]Task, error) {
	slot := ReminderSlot(minute)
	var d slotDoc
	if err := s.getByID(ctx, colReminders, slot, &d); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read reminders of %s: %w", slot, err)
	}
	tasks := make([]*Task, len(d.Tasks))
	err := parallel(ctx, len(d.Tasks), func(i int) error {
		t, err := s.Task(ctx, d.Tasks[i])
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		tasks[i] = t
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read reminders of %s: %w", slot, err)
	}
	var out []Task
	for _, t := range tasks {
		// A task snoozed or done since it was listed here is not due in this minute.
		if t != nil && t.isOpen() && ReminderSlot(t.Due) == slot {
			out = append(out, *t)
		}
	}
	return out, nil
}

// PlanOpenTasks lists every open task due at or after from in its reminder slot: the
// first run of the reminder job does it for tasks made before slots existed. A cold
// path: it scans the tasks.
func (s *Store) PlanOpenTasks(ctx context.Context, from time.Time) (int, error) {
	n := 0
	err := s.eachOpenTask(ctx, func(t *Task) error {
		if t.Due.Before(from) {
			return nil
		}
		if err := s.addToSlot(ctx, t.Due, t.ID); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
