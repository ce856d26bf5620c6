package scheduler_test

import (
	"context"
	"sync"
	"testing"

	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
)

// inbox records what the scheduler tells managers (the bot's side of Notifier).
type inbox struct {
	mu        sync.Mutex
	reminders []scheduler.Reminder
	digests   []notice.Digest
	weeklies  []notice.Weekly
	risks     []notice.AtRisk
	fail      error
	notReady  bool // Ready says false, as the bot does while it connects
}

func (n *inbox) Ready() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.notReady
}

func (n *inbox) AtRisk(_ context.Context, a notice.AtRisk) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.risks = append(n.risks, a)
	return nil
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

func (n *inbox) Digest(_ context.Context, d notice.Digest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.digests = append(n.digests, d)
	return nil
}

func (n *inbox) Weekly(_ context.Context, w notice.Weekly) error {
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

// run runs one pass of a job and returns how many messages it sent.
func run(t *testing.T, job func(context.Context) (int, error)) int {
	t.Helper()
	n, err := job(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func delivery(t *testing.T, st *store.Store, id string) *store.Delivery {
	t.Helper()
	d, err := st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
