package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// clock is a time the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// inbox records what the scheduler tells managers (the bot's side of Notifier).
type inbox struct {
	mu        sync.Mutex
	reminders []scheduler.Reminder
	digests   []scheduler.Digest
	weeklies  []scheduler.Weekly
	fail      error
}

func (n *inbox) Remind(_ context.Context, r scheduler.Reminder) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.reminders = append(n.reminders, r)
	return nil
}

func (n *inbox) Digest(_ context.Context, d scheduler.Digest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.digests = append(n.digests, d)
	return nil
}

func (n *inbox) Weekly(_ context.Context, w scheduler.Weekly) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.weeklies = append(n.weeklies, w)
	return nil
}

func (n *inbox) remindersOf(taskID string) []scheduler.Reminder {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []scheduler.Reminder
	for _, r := range n.reminders {
		if r.Task.ID == taskID {
			out = append(out, r)
		}
	}
	return out
}

// newStore opens a store on the test's clock.
func newStore(t *testing.T, c *clock) *store.Store {
	t.Helper()
	return storetest.New(t, func(o *store.Options) { o.Now = c.Now })
}

func newManager(t *testing.T, st *store.Store, m store.Manager) *store.Manager {
	t.Helper()
	if err := st.CreateManager(context.Background(), "test", &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// run runs one pass of a job and returns how many messages it sent.
func run(t *testing.T, job func(context.Context) (int, error)) int {
	t.Helper()
	n, err := job(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
