package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestReminderGoesOutAtItsSecondAndOnce(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	n := &inbox{}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one"})
	run(t, s.Reminders) // the first pass sets the job's cursor

	task := &store.Task{AssigneeID: "m1", Due: time.Date(2026, 11, 23, 10, 5, 30, 0, time.UTC), Text: "call Ромашка back"}
	if err := st.CreateTask(ctx, "m1", task); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{c.Now().Add(time.Minute), task.Due.Add(-time.Second)} {
		c.Set(at)
		if got := run(t, s.Reminders); got != 0 {
			t.Fatalf("at %v: %d reminders before the task is due", at, got)
		}
	}
	c.Set(task.Due.Add(time.Second))
	if got := run(t, s.Reminders); got != 1 {
		t.Fatalf("%d reminders one second after the due time, want 1", got)
	}
	for range 3 {
		c.Add(2 * time.Second)
		run(t, s.Reminders)
	}
	c.Add(2 * time.Minute)
	run(t, s.Reminders)
	got := n.remindersOf(task.ID)
	if len(got) != 1 || got[0].Late || got[0].Task.Text != task.Text {
		t.Fatalf("reminders %+v, want one on time", got)
	}

	// Snoozed an hour, it comes again an hour later.
	if _, err := st.SetTaskState(ctx, "m1", task.ID, store.TaskSnoozed, c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour + time.Second)
	run(t, s.Reminders)
	if got := n.remindersOf(task.ID); len(got) != 2 {
		t.Fatalf("%d reminders after a snooze, want 2", len(got))
	}
}

func TestReminderDueWhileDownGoesOutLateAfterStartOnce(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	first := &inbox{}
	s1 := scheduler.New(st, first, scheduler.Options{Now: c.Now, Owner: "first"})
	run(t, s1.Reminders)
	task := &store.Task{AssigneeID: "m1", Due: c.Now().Add(30 * time.Minute), Text: "send the quote"}
	if err := st.CreateTask(ctx, "m1", task); err != nil {
		t.Fatal(err)
	}
	// The first instance stops holding its lease; two hours later another starts.
	c.Add(2 * time.Hour)
	second := &inbox{}
	s2 := scheduler.New(st, second, scheduler.Options{Now: c.Now, Owner: "second"})
	if got := run(t, s2.Reminders); got != 1 {
		t.Fatalf("%d reminders after the restart, want 1", got)
	}
	if r := second.remindersOf(task.ID); len(r) != 1 || !r[0].Late {
		t.Fatalf("reminder %+v, want one marked late", r)
	}
	// Neither instance sends it again, whoever holds the lease.
	c.Add(time.Minute)
	run(t, s2.Reminders)
	c.Add(time.Minute)
	if err := st.ReleaseLease(ctx, "reminders", "second"); err != nil {
		t.Fatal(err)
	}
	run(t, s1.Reminders)
	if n := len(first.remindersOf(task.ID)) + len(second.remindersOf(task.ID)); n != 1 {
		t.Fatalf("the reminder went out %d times", n)
	}
}

func TestFailedReminderIsTriedAgain(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	n := &inbox{fail: errors.New("telegram is down")}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one"})
	run(t, s.Reminders)
	task := &store.Task{AssigneeID: "m1", Due: c.Now().Add(10 * time.Second), Text: "call"}
	if err := st.CreateTask(ctx, "m1", task); err != nil {
		t.Fatal(err)
	}
	c.Add(20 * time.Second)
	run(t, s.Reminders)
	n.mu.Lock()
	n.fail = nil
	n.mu.Unlock()
	c.Add(3 * time.Minute) // the minute is over, but the cursor waited for the failed one
	run(t, s.Reminders)
	if r := n.remindersOf(task.ID); len(r) != 1 || !r[0].Late {
		t.Fatalf("reminders %+v, want one, late", r)
	}
}

// While the bot cannot reach Telegram, reminders and digests wait for it, however
// long that takes, and go out once it can.
func TestRemindersAndDigestsWaitForTheBot(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	anna := storetest.Manager(t, st, store.Manager{Name: "Анна", TelegramID: 7, TimeZone: "UTC"})
	n := &inbox{}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one"})
	run(t, s.Reminders) // the first pass sets the job's cursor
	n.mu.Lock()
	n.fail, n.notReady = errors.New("the Telegram bot is not connected yet"), true
	n.mu.Unlock()
	task := &store.Task{AssigneeID: anna.ID, Due: c.Now().Add(10 * time.Second), Text: "call"}
	if err := st.CreateTask(ctx, anna.ID, task); err != nil {
		t.Fatal(err)
	}
	for range 20 { // passes every few seconds through an hour's outage, past 09:00
		c.Add(3 * time.Minute)
		run(t, s.Reminders)
		run(t, s.Digests)
	}
	n.mu.Lock()
	n.fail, n.notReady = nil, false
	n.mu.Unlock()
	run(t, s.Reminders)
	run(t, s.Digests)
	if r := n.remindersOf(task.ID); len(r) != 1 || !r[0].Late {
		t.Fatalf("reminders %+v, want one, late", r)
	}
	if n.digests == nil || n.digests[0].ManagerID != anna.ID {
		t.Fatalf("digests %+v, want Анна's", n.digests)
	}
}

func TestTwoSchedulersShareTheWork(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	a, b := &inbox{}, &inbox{}
	sa := scheduler.New(st, a, scheduler.Options{Now: c.Now, Owner: "a"})
	sb := scheduler.New(st, b, scheduler.Options{Now: c.Now, Owner: "b"})
	run(t, sa.Reminders)
	var tasks []*store.Task
	for i := range 40 {
		task := &store.Task{AssigneeID: "m1", Due: c.Now().Add(time.Duration(i*7) * time.Second), Text: "task"}
		if err := st.CreateTask(ctx, "m1", task); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	// Both run every "second" side by side; a's lease runs out halfway (a stopped).
	for i := range 300 {
		c.Add(time.Second)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := sb.Reminders(ctx); err != nil {
				t.Error(err)
			}
		}()
		if i < 150 {
			run(t, sa.Reminders)
		}
		<-done
	}
	for _, task := range tasks {
		if n := len(a.remindersOf(task.ID)) + len(b.remindersOf(task.ID)); n != 1 {
			t.Fatalf("task due %v reminded %d times", task.Due, n)
		}
	}
	if len(b.reminders) == 0 {
		t.Fatal("the second instance never took over")
	}
}

// lateness records how late each reminder went out (scheduler.Metrics).
type lateness struct {
	mu   sync.Mutex
	late []time.Duration
}

func (l *lateness) ReminderSent(late time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.late = append(l.late, late)
}

// A reminder sent is counted with how late it went: one due while no instance ran
// counts the time it waited.
func TestRemindersSentAreCountedWithTheirLateness(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	m := &lateness{}
	s := scheduler.New(st, &inbox{}, scheduler.Options{Now: c.Now, Owner: "one", Metrics: m})
	run(t, s.Reminders) // reminders are looked for from the first pass on
	task := &store.Task{AssigneeID: "m1", Due: c.Now().Add(30 * time.Minute), Text: "send the quote"}
	if err := st.CreateTask(ctx, "m1", task); err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Hour)
	if got := run(t, s.Reminders); got != 1 {
		t.Fatalf("%d reminders, want 1", got)
	}
	if len(m.late) != 1 || m.late[0] != 90*time.Minute {
		t.Fatalf("lateness %v, want one of 90m", m.late)
	}
}
