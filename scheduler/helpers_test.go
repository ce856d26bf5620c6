package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/notice"
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

// newStore opens a store on the test's clock.
func newStore(t *testing.T, c *clock) *store.Store { return newStoreTB(t, c) }

func newStoreTB(tb testing.TB, c *clock) *store.Store {
	tb.Helper()
	return storetest.New(tb, func(o *store.Options) { o.Now = c.Now })
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

// smtpSender sends each message on a new go-mail connection: the scheduler's tests
// need go-mail's real errors, not the pool's speed.
type smtpSender struct{ port int }

func (s smtpSender) Send(ctx context.Context, m *gomail.Msg) error {
	c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(s.port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(5*time.Second))
	if err != nil {
		return err
	}
	client, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	// The message's fate is known before QUIT: a failed QUIT (DialAndSend reports it)
	// must not make a delivered message look unsent.
	defer func() { _ = c.CloseWithSMTPClient(client) }()
	return c.SendWithSMTPClient(client, m)
}

// person is a contact for a test client.
func person(name, email string, month, day int, consent bool) store.Contact {
	p := store.Contact{Name: name, Birthday: &store.Birthday{Month: month, Day: day}, Consent: store.Consent{Given: consent}}
	if email != "" {
		p.Emails = []string{email}
	}
	return p
}

func newClient(t *testing.T, st *store.Store, name, managerID string, contacts ...store.Contact) *store.Client {
	t.Helper()
	c := &store.Client{Name: name, ManagerID: managerID, Contacts: map[string]store.Contact{}}
	for i, p := range contacts {
		p.ID = fmt.Sprintf("p%d", i+1)
		c.Contacts[p.ID] = p
	}
	if err := st.CreateClient(context.Background(), "test", c); err != nil {
		t.Fatal(err)
	}
	return c
}

func delivery(t *testing.T, st *store.Store, id string) *store.Delivery {
	t.Helper()
	d, err := st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recordedOnly checks that every message the server got carries a Message-ID the
// store's record of sent letters leads to that message's recipient alone: a report
// of its bounce is believed for that address and no other.
func recordedOnly(t *testing.T, st *store.Store, msgs []smtptest.Message) {
	t.Helper()
	for _, msg := range msgs {
		to, err := st.SentTo(context.Background(), msg.Header("Message-ID"))
		if err != nil || len(to) != 1 || len(msg.To) != 1 || to[0] != msg.To[0] {
			t.Fatalf("the letter to %q with Message-ID %s is recorded as sent to %q (%v)", msg.To, msg.Header("Message-ID"), to, err)
		}
	}
}
