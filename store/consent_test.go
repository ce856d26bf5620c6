package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A contact's edits, its unsubscribing and its bounce marks, done at once, all stay:
// each writes its own fields. Consent goes back on after an unsubscribe only with the
// manager's confirmation, which the audit log keeps; withdrawing it keeps the opt-out.
func TestConsentChangesOnlyThroughItsActions(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "Альфа", Contacts: map[string]store.Contact{"p": {Name: "Иван", Emails: []string{"ivan@alfa.ru", "i@alfa.ru"},
		Position: "менеджер", Birthday: &store.Birthday{Month: 3, Day: 8}, Consent: store.Consent{Given: true}}}}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	contact := func() store.Contact {
		t.Helper()
		got, err := s.Client(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Contacts["p"]
	}

	position, phones := "директор", []string{"8 916 123-45-67"}
	var wg sync.WaitGroup
	for _, do := range []func() error{
		func() error {
			_, err := s.UpdateContact(ctx, "m", c.ID, "p", store.ContactPatch{Position: &position, Birthday: &store.Birthday{}})
			return err
		},
		func() error {
			_, err := s.UpdateContact(ctx, "m", c.ID, "p", store.ContactPatch{Phones: &phones})
			return err
		},
		func() error { _, err := s.Unsubscribe(ctx, c.ID, "p", "one-click", "autumn"); return err },
		func() error { _, err := s.MarkBounced(ctx, "ivan@alfa.ru"); return err },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := do(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p := contact()
	if p.Position != "директор" || p.Birthday != nil || !slices.Equal(p.Phones, []string{"+79161234567"}) ||
		p.Consent.UnsubscribedAt == nil || p.Consent.UnsubscribedVia != "one-click" || !slices.Equal(p.BouncedEmails, []string{"ivan@alfa.ru"}) {
		t.Fatalf("after the writes at once: %+v", p)
	}
	if hit, err := s.FindByPhone(ctx, "+79161234567"); err != nil || hit.ContactID != "p" {
		t.Fatalf("the new phone's key: %+v %v", hit, err)
	}

	before, _ := s.Client(ctx, c.ID)
	if _, err := s.GiveConsent(ctx, "m", c.ID, "p", false); !errors.Is(err, store.ErrUnsubscribed) {
		t.Fatalf("consent without the confirmation: %v", err)
	}
	if _, err := s.WithdrawConsent(ctx, "m", c.ID, "p"); err != nil {
		t.Fatal(err)
	}
	if p := contact(); p.Consent.Given || p.Consent.UnsubscribedAt == nil {
		t.Fatalf("withdrawn: %+v", p.Consent)
	}
	if _, err := s.GiveConsent(ctx, "m", c.ID, "p", true); err != nil {
		t.Fatal(err)
	}
	p = contact()
	if e, why := store.MailableEmail(p); e != "i@alfa.ru" || p.Consent.Method != "manager" || !slices.Equal(p.BouncedEmails, []string{"ivan@alfa.ru"}) {
		t.Fatalf("back: %q (%s), %+v", e, why, p)
	}
	log, err := s.AuditLog(ctx, c.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	var back *store.AuditEntry
	for i, e := range log {
		if e.Action == "contact.resubscribe" {
			back = &log[i]
		}
	}
	if back == nil || back.ActorID != "m" || back.Changes["confirmed"] != store.ResubscribeConfirmation || back.Changes["leftVia"] != "one-click" ||
		back.Changes["leftAt"] == nil {
		t.Fatalf("the return's audit entry: %+v", back)
	}
	// A patch that changes nothing and consent given again write nothing: only the
	// withdrawal and the return were written.
	if _, err := s.UpdateContact(ctx, "m", c.ID, "p", store.ContactPatch{Position: &position, Phones: &phones}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GiveConsent(ctx, "m", c.ID, "p", false); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.Client(ctx, c.ID); after.Version != before.Version+2 {
		t.Fatalf("version %d -> %d", before.Version, after.Version)
	}
}
