package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestLettersStoredOnceAndLinkedOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "Ромашка", Website: "https://www.romashka.ru/about", Contacts: map[string]store.Contact{
		"p": {Name: "Анна", Emails: []string{"anna@romashka.ru"}}}}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	mk := func() *store.Letter {
		return &store.Letter{ID: store.LetterID("<ABC@mail.ru>", ""), MessageID: "ABC@mail.ru", Subject: "Счёт",
			From: store.MailAddress{Email: "anna@romashka.ru"}, Date: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), Preview: "Добрый день"}
	}
	if store.LetterID("abc@MAIL.ru", "") != store.LetterID("<abc@mail.ru>", "x") || store.LetterID("", "h") != "raw:h" {
		t.Fatal("a letter's id depends on the Message-ID's case or brackets")
	}
	first, second := mk(), mk()
	stored, err := s.SaveLetters(ctx, []*store.Letter{first})
	if err != nil || !stored[0] {
		t.Fatalf("first save: %v %v", stored, err)
	}
	stored, err = s.SaveLetters(ctx, []*store.Letter{second, {ID: store.LetterID("", "hash1"), Subject: "без id"}})
	if err != nil || stored[0] || !stored[1] {
		t.Fatalf("second save: %v %v", stored, err)
	}

	if err := s.LinkLetter(ctx, "mail", first, c.ID); err != nil {
		t.Fatal(err)
	}
	// A crash after the timeline entry but before the letter was marked: the stale copy
	// has no Linked, and linking again must not add a second entry.
	if err := s.LinkLetter(ctx, "mail", second, c.ID); err != nil {
		t.Fatal(err)
	}
	items, _, _ := s.Timeline(ctx, c.ID, 0, 10)
	if len(items) != 1 || items[0].Kind != store.InteractionEmailIn || items[0].Mail.Subject != "Счёт" {
		t.Fatalf("timeline: %+v", items)
	}
	back, _ := s.Letter(ctx, first.ID)
	if len(back.Linked) != 1 || back.Linked[0] != c.ID {
		t.Fatalf("linked: %+v", back.Linked)
	}

	// Domains from the website and the e-mails.
	m, err := s.ClientsByDomains(ctx, []string{"romashka.ru", "gmail.com"})
	if err != nil || len(m) != 1 || len(m["romashka.ru"]) != 1 || m["romashka.ru"][0] != c.ID {
		t.Fatalf("domains: %v %v", m, err)
	}

	// The unsorted queue and ignored senders.
	stray := &store.Letter{ID: store.LetterID("stray@x", ""), Subject: "Реклама", From: store.MailAddress{Email: "spam@ads.example"}}
	if _, err := s.SaveLetters(ctx, []*store.Letter{stray}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLetterUnsorted(ctx, stray, true); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.UnsortedLetters(ctx, 10); len(q) != 1 || q[0].Subject != "Реклама" {
		t.Fatalf("queue: %+v", q)
	}
	if err := s.IgnoreSender(ctx, "m", "@ads.example"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.SenderIgnored(ctx, "Other@ADS.example"); !ok {
		t.Fatal("a domain ignore did not apply")
	}
	if err := s.LinkLetter(ctx, "m", stray, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLetterUnsorted(ctx, stray, false); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.UnsortedLetters(ctx, 10); len(q) != 0 {
		t.Fatalf("queue after linking: %+v", q)
	}

	// A bounce marks the contact's address.
	if _, err := s.MarkBounced(ctx, "ANNA@romashka.ru"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Client(ctx, c.ID)
	if b := got.Contacts["p"].BouncedEmails; len(b) != 1 || b[0] != "anna@romashka.ru" {
		t.Fatalf("bounced: %+v", got.Contacts["p"])
	}
}

func TestOwnersOfEmailsFollowChanges(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "Ромашка", Emails: []string{"info@romashka.ru"}, Contacts: map[string]store.Contact{
		"p": {Name: "Анна", Emails: []string{"anna@romashka.ru"}}}}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	owners := func() map[string]string {
		t.Helper()
		m, err := s.OwnersOfEmails(ctx, []string{"info@romashka.ru", "anna@romashka.ru", "sales@romashka.ru", "nobody@x.ru"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := owners(); len(m) != 2 || m["info@romashka.ru"] != c.ID || m["anna@romashka.ru"] != c.ID {
		t.Fatalf("owners: %v", m)
	}
	emails := []string{"sales@romashka.ru"}
	if _, err := s.UpdateClient(ctx, "m", c.ID, store.ClientPatch{Emails: &emails}); err != nil {
		t.Fatal(err)
	}
	if m := owners(); len(m) != 2 || m["sales@romashka.ru"] != c.ID || m["info@romashka.ru"] != "" {
		t.Fatalf("after the company's address changed: %v", m)
	}
	if err := s.DeleteClient(ctx, "m", c.ID); err != nil {
		t.Fatal(err)
	}
	if m := owners(); len(m) != 0 {
		t.Fatalf("after the client was deleted: %v", m)
	}
}

// A viewer reads a letter of a client they may see, or one no client claims that waits
// in the unsorted queue; anything else is not found, as a missing letter is.
func TestLetterForFollowsTheClientsAndTheQueue(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	client := func(name, manager string) string {
		c := &store.Client{Name: name, ManagerID: manager}
		if err := s.CreateClient(ctx, "m", c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	annas, boriss, nobodys, gone := client("Ромашка", "anna"), client("Завод", "boris"), client("Ничей", ""), client("Удалённый", "anna")
	if err := s.DeleteClient(ctx, "m", gone); err != nil {
		t.Fatal(err)
	}
	letter := func(name string, queued bool, clients ...string) string {
		l := &store.Letter{ID: store.LetterID(name+"@x", ""), MessageID: name + "@x", Subject: name, Clients: clients, Linked: clients}
		if queued {
			if err := s.SetLetterUnsorted(ctx, l, true); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	borisOnly, shared, unassigned := letter("boris", false, boriss), letter("shared", false, boriss, annas), letter("nobody", false, nobodys)
	queued, ignored, ofGone := letter("queued", true), letter("ignored", false), letter("gone", false, gone)
	// Ignoring its sender crashed after the letter's flag was cleared: the queue entry
	// it still has keeps it in /inbox, and sortable.
	halfIgnored := &store.Letter{ID: store.LetterID("half@x", ""), MessageID: "half@x", Subject: "half"}
	if err := s.SetLetterUnsorted(ctx, halfIgnored, true); err != nil {
		t.Fatal(err)
	}
	halfIgnored.Unsorted = false
	if _, err := s.SaveLetters(ctx, []*store.Letter{halfIgnored}); err != nil {
		t.Fatal(err)
	}

	anna := store.Viewer{ManagerID: "anna", Role: store.RoleManager}
	boris := store.Viewer{ManagerID: "boris", Role: store.RoleManager}
	head := store.Viewer{ManagerID: "olga", Role: store.RoleHead}
	for _, c := range []struct {
		v    store.Viewer
		id   string
		sees bool
	}{
		{anna, borisOnly, false}, {boris, borisOnly, true}, {head, borisOnly, true},
		{anna, shared, true}, {anna, unassigned, true}, {anna, queued, true}, {boris, queued, true},
		{anna, ignored, false}, {head, ignored, false}, {anna, ofGone, false}, {anna, "mid:missing", false},
		{anna, halfIgnored.ID, true},
	} {
		l, err := s.LetterFor(ctx, c.v, c.id)
		switch {
		case c.sees && (err != nil || l == nil || l.ID != c.id):
			t.Errorf("%s does not get %s: %v", c.v.ManagerID, c.id, err)
		case !c.sees && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s reads %s: %+v %v", c.v.ManagerID, c.id, l, err)
		}
	}
}
