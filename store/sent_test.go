package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A queued batch records its letters: each recipient's Message-ID leads to that
// recipient alone, and a Message-ID changed in any part leads nowhere. A letter read
// from a Sent folder counts as sent to its To and Cc; one read from the inbox does not.
func TestSentLettersAreKnownByMessageID(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	list := &store.BatchList{Recipients: []store.BatchRecipient{
		{ClientID: "a", ContactID: "1", Email: "anna@romashka.ru"},
		{ClientID: "b", ContactID: "1", Email: "Ivan@Vector.ru"},
	}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "c", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	stored, err := s.BatchList(ctx, store.BatchID("c", 1, 0))
	if err != nil || stored.Sent.ID != list.Sent.ID || !slices.Equal(stored.Sent.Key, list.Sent.Key) || len(list.Sent.Key) == 0 {
		t.Fatalf("the list's record: %+v %v", stored, err)
	}
	sentTo := func(id string) []string {
		t.Helper()
		to, err := s.SentTo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return to
	}
	id := stored.Sent.MessageID(1, "company.ru")
	if got := sentTo("<" + strings.ToUpper(id) + ">"); !slices.Equal(got, []string{"ivan@vector.ru"}) {
		t.Fatalf("recipient 1 of %s: %q", id, got)
	}
	if got := sentTo(stored.Sent.MessageID(0, "company.ru")); !slices.Equal(got, []string{"anna@romashka.ru"}) {
		t.Fatalf("recipient 0: %q", got)
	}
	other := store.NewSentKey()
	forged := []string{
		stored.Sent.MessageID(2, "company.ru"),                                       // no such recipient
		strings.Replace(id, ".1.", ".0.", 1),                                         // another recipient with recipient 1's signature
		store.SentKey{ID: stored.Sent.ID, Key: other.Key}.MessageID(0, "company.ru"), // signed with another key
		other.MessageID(0, "company.ru"),                                             // no such record
		"offer.7@company.ru", "",
	}
	for _, f := range forged {
		if got := sentTo(f); got != nil {
			t.Errorf("%q leads to %q", f, got)
		}
	}

	out := &store.Letter{ID: store.LetterID("out.1@company.ru", ""), MessageID: "out.1@company.ru", Outgoing: true,
		From: store.MailAddress{Email: "sales@company.ru"}, To: []store.MailAddress{{Email: "Olga@Vector.ru"}}, Cc: []store.MailAddress{{Email: "boss@vector.ru"}}}
	in := &store.Letter{ID: store.LetterID("in.1@vector.ru", ""), MessageID: "in.1@vector.ru",
		From: store.MailAddress{Email: "olga@vector.ru"}, To: []store.MailAddress{{Email: "sales@company.ru"}}}
	if _, err := s.SaveLetters(ctx, []*store.Letter{out, in}); err != nil {
		t.Fatal(err)
	}
	if got := sentTo("<out.1@company.ru>"); !slices.Equal(got, []string{"olga@vector.ru", "boss@vector.ru"}) {
		t.Fatalf("a letter from the Sent folder: %q", got)
	}
	if got := sentTo("in.1@vector.ru"); got != nil {
		t.Fatalf("an incoming letter counts as sent: %q", got)
	}
}
