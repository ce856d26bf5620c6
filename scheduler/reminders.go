package scheduler

import (
	"context"
	"strconv"
	"time"

	"github.com/crm-team/crm/store"
)

// Reminder is a task that has come due.
type Reminder struct {
	Task store.Task
	// Late: the reminder goes out well after its time (the process was down).
	Late bool
}

const (
	// lateAfter is how far past its time a reminder counts as late.
	lateAfter = time.Minute
	// catchUpLimit bounds the minutes read after downtime; older tasks are still on
	// the manager's overdue list and in the digest.
	catchUpLimit = 7 * 24 * time.Hour
	// reminderTries is how often a failing reminder is sent before it is given up
	// (a chat that refuses messages must not hold the job back for ever).
	reminderTries = 5
)

// Reminders sends the reminders that have come due since the last pass, oldest
// minute first, and returns how many it sent. The job's cursor is the last minute
// whose reminders are all out; it moves only past finished minutes, so a reminder due
// while no instance ran goes out, marked late, at the next pass, and the claim of
// each (task, due time) keeps it from going out twice.
func (s *Scheduler) Reminders(ctx context.Context) (int, error) {
	if !s.canNotify() {
		return 0, nil
	}
	if ok, err := s.hold(ctx, "reminders"); !ok {
		return 0, err
	}
	now := s.now()
	current := now.Truncate(time.Minute)
	cursor, ok, err := s.st.JobCursor(ctx, "reminders")
	if err != nil {
		return 0, err
	}
	if !ok {
		// The first run: tasks made before reminder slots existed get theirs.
		if _, err := s.st.PlanOpenTasks(ctx, current); err != nil {
			return 0, err
		}
		cursor = current.Add(-time.Minute)
		if err := s.st.SetJobCursor(ctx, "reminders", cursor); err != nil {
			return 0, err
		}
	}
	if oldest := current.Add(-catchUpLimit); cursor.Before(oldest) {
		cursor = oldest
	}
	sent := 0
	for minute := cursor.Add(time.Minute); !minute.After(current); minute = minute.Add(time.Minute) {
		n, finished, err := s.remindMinute(ctx, minute, now)
		sent += n
		if err != nil || !finished || minute.Equal(current) {
			return sent, err
		}
		if err := s.st.SetJobCursor(ctx, "reminders", minute); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// remindMinute sends the due reminders of one minute's slot; finished says none is
// left to send (all sent, given up, or claimed by another instance).
func (s *Scheduler) remindMinute(ctx context.Context, minute, now time.Time) (sent int, finished bool, err error) {
	tasks, err := s.st.RemindersAt(ctx, minute)
	if err != nil {
		return 0, false, err
	}
	finished = true
	for _, t := range tasks {
		if t.Due.After(now) {
			finished = false
			continue
		}
		claim := "remind/" + t.ID + "/" + strconv.FormatInt(t.Due.Unix(), 10)
		won, err := s.st.Claim(ctx, claim)
		if err != nil {
			return sent, false, err
		}
		if !won {
			continue
		}
		if err := s.notify.Remind(ctx, Reminder{Task: t, Late: now.Sub(t.Due) > lateAfter}); err != nil {
			if s.failed(claim) {
				s.log.Warn("reminder given up", "task", t.ID, "manager", t.AssigneeID, "err", err)
				continue
			}
			s.log.Warn("reminder not sent; trying again", "task", t.ID, "err", err)
			if uerr := s.st.Unclaim(ctx, claim); uerr != nil {
				return sent, false, uerr
			}
			finished = false
			continue
		}
		s.succeeded(claim)
		s.opts.Metrics.ReminderSent(max(0, s.now().Sub(t.Due)))
		sent++
	}
	return sent, finished, nil
}

// failed counts a failed send and reports whether to give up.
func (s *Scheduler) failed(claim string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries[claim]++
	if s.tries[claim] >= reminderTries {
		delete(s.tries, claim)
		return true
	}
	return false
}

func (s *Scheduler) succeeded(claim string) {
	s.mu.Lock()
	delete(s.tries, claim)
	s.mu.Unlock()
}
