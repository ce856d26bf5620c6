package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// Clock is a time the test moves by hand; a store on it takes its Now (OnClock).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// OnClock opens a store (as New) whose clock is c.
func OnClock(tb testing.TB, c *Clock) *store.Store {
	tb.Helper()
	return New(tb, func(o *store.Options) { o.Now = c.Now })
}

// Manager creates a manager.
func Manager(tb testing.TB, st *store.Store, m store.Manager) *store.Manager {
	tb.Helper()
	if err := st.CreateManager(context.Background(), "test", &m); err != nil {
		tb.Fatal(err)
	}
	return &m
}

// Person is a contact with a birthday, an address (none for "") and consent to
// mailings given or not.
func Person(name, email string, month, day int, consent bool) store.Contact {
	p := store.Contact{Name: name, Birthday: &store.Birthday{Month: month, Day: day}, Consent: store.Consent{Given: consent}}
	if email != "" {
		p.Emails = []string{email}
	}
	return p
}

// Client creates a client of the manager (none for "") with the contacts, whose IDs
// are p1, p2… in their order.
func Client(tb testing.TB, st *store.Store, name, managerID string, contacts ...store.Contact) *store.Client {
	tb.Helper()
	c := &store.Client{Name: name, ManagerID: managerID, Contacts: map[string]store.Contact{}}
	for i, p := range contacts {
		p.ID = fmt.Sprintf("p%d", i+1)
		c.Contacts[p.ID] = p
	}
	if err := st.CreateClient(context.Background(), "test", c); err != nil {
		tb.Fatal(err)
	}
	return c
}
