package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

var waitDay = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// queueLetter stores a letter nobody matched as the mailbox does: the queue entry
// first, then the letter.
func queueLetter(t testing.TB, s *store.Store, id, from string, at time.Time) *store.Letter {
	t.Helper()
	ctx := context.Background()
	l := &store.Letter{ID: store.LetterID(id, ""), MessageID: id, Subject: "Письмо " + id, From: store.MailAddress{Email: from},
		Date: at, Preview: "Текст " + id}
	if err := s.SetLetterUnsorted(ctx, l, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveLetters(ctx, []*store.Letter{l}); err != nil {
		t.Fatal(err)
	}
	return l
}

func queuedIDs(t testing.TB, s *store.Store) []string {
	t.Helper()
	q, err := s.UnsortedLetters(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range q {
		ids = append(ids, e.LetterID)
	}
	slices.Sort(ids)
	return ids
}

func subjects(items []store.Interaction) string {
	var out []string
	for _, it := range items {
		if it.Mail != nil {
			out = append(out, it.Mail.Subject)
		}
	}
	return strings.Join(out, ", ")
}

func letterIDs(ls ...*store.Letter) []string {
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	slices.Sort(ids)
	return ids
}

// A company takes the letters waiting from its contacts' addresses and from its
// domain, oldest first, once; a free mail service's domain, another company's and a
// bounce of unknown origin stay in the queue. A person takes only their address's.
func TestClaimWaitingLettersTakesTheAddressesAndTheCompanyDomain(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	fromPetr := queueLetter(t, s, "1@x", "petr@zavod.ru", waitDay)
	fromIvan := queueLetter(t, s, "2@x", "Ivan@Zavod.ru", waitDay.Add(-time.Hour))
	fromFriend := queueLetter(t, s, "3@x", "friend@gmail.com", waitDay.Add(time.Hour))
	otherGmail := queueLetter(t, s, "4@x", "anna@gmail.com", waitDay)
	otherCompany := queueLetter(t, s, "5@x", "x@other.ru", waitDay)
	bounce := &store.Letter{ID: store.LetterID("6@x", ""), Subject: "Undelivered", From: store.MailAddress{Email: "mailer-daemon@zavod.ru"},
		Date: waitDay, UnknownBounce: true}
	if err := s.SetLetterUnsorted(ctx, bounce, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveLetters(ctx, []*store.Letter{bounce}); err != nil {
		t.Fatal(err)
	}

	person := storetest.Client(t, s, "Семён", "", store.Contact{Name: "Семён", Emails: []string{"semen@other.ru"}})
	person.Kind = store.KindPerson
	if got, err := s.ClaimWaitingLetters(ctx, "m", person); err != nil || len(got) != 0 {
		t.Fatalf("a person took letters of their domain: %d %v", len(got), err)
	}

	c := storetest.Client(t, s, "Завод", "", store.Contact{Name: "Пётр", Emails: []string{"petr@zavod.ru", "friend@gmail.com"}})
	got, err := s.ClaimWaitingLetters(ctx, "anna", c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != fromIvan.ID || got[1].ID != fromPetr.ID || got[2].ID != fromFriend.ID {
		t.Fatalf("claimed %v, want Ivan's, Petr's, the friend's", letterIDs(got...))
	}
	items, _, err := s.Timeline(ctx, c.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if subjects(items) != "Письмо 3@x, Письмо 1@x, Письмо 2@x" || items[0].AuthorID != "anna" || items[0].Mail.LetterID != fromFriend.ID {
		t.Fatalf("timeline, newest first: %s (%+v)", subjects(items), items)
	}
	for _, l := range got {
		back, err := s.Letter(ctx, l.ID)
		if err != nil || back.Unsorted || !slices.Equal(back.Clients, []string{c.ID}) || !slices.Equal(back.Linked, []string{c.ID}) {
			t.Fatalf("letter %s after the claim: %+v %v", l.ID, back, err)
		}
	}
	if want := letterIDs(otherGmail, otherCompany, bounce); !slices.Equal(queuedIDs(t, s), want) {
		t.Fatalf("queue %v, want %v", queuedIDs(t, s), want)
	}
	index := s.WaitingIndexForTest(ctx, t)
	if len(index) != 3 || len(index["a:anna@gmail.com"]) != 1 || len(index["a:x@other.ru"]) != 1 || len(index["d:other.ru"]) != 1 {
		t.Fatalf("index after the claim: %v", index)
	}

	again, err := s.ClaimWaitingLetters(ctx, "anna", c)
	if items2, _, _ := s.Timeline(ctx, c.ID, 0, 10); err != nil || len(again) != 0 || len(items2) != 3 {
		t.Fatalf("a second claim: %d letters, %d entries, %v", len(again), len(items2), err)
	}
}

// A claim stopped after the timeline entries, or after the queue entries went, is
// finished by the next one without a second entry; hints of letters no longer queued
// are dropped.
func TestClaimWaitingLettersAfterACrash(t *testing.T) {
	ctx := context.Background()
	crash := errors.New("crash")
	for _, point := range []string{"claim:entries", "claim:dequeued"} {
		s := storetest.New(t)
		queueLetter(t, s, "1@x", "petr@zavod.ru", waitDay)
		queueLetter(t, s, "2@x", "olga@zavod.ru", waitDay.Add(time.Hour))
		c := storetest.Client(t, s, "Завод", "", store.Contact{Name: "Пётр", Emails: []string{"petr@zavod.ru"}})
		s.SetCrash(func(p string) error {
			if p == point {
				return crash
			}
			return nil
		})
		if _, err := s.ClaimWaitingLetters(ctx, "m", c); !errors.Is(err, crash) {
			t.Fatalf("%s: %v", point, err)
		}
		s.SetCrash(nil)
		if len(s.WaitingIndexForTest(ctx, t)) == 0 {
			t.Fatalf("%s left no hints: the test proves nothing", point)
		}
		got, err := s.ClaimWaitingLetters(ctx, "m", c)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"claim:entries": 2, "claim:dequeued": 0}[point]; len(got) != want {
			t.Fatalf("the claim after %s moved %d letters, want %d", point, len(got), want)
		}
		items, _, _ := s.Timeline(ctx, c.ID, 0, 10)
		if subjects(items) != "Письмо 2@x, Письмо 1@x" {
			t.Fatalf("timeline after %s: %s", point, subjects(items))
		}
		if q := queuedIDs(t, s); len(q) != 0 {
			t.Fatalf("queue after %s: %v", point, q)
		}
		if index := s.WaitingIndexForTest(ctx, t); len(index) != 0 {
			t.Fatalf("index after %s: %v", point, index)
		}
	}
}

// A sender with more letters than a head document holds spills into buckets; every
// letter is found, one taken off the queue meanwhile is not, and the index is empty
// after the claim.
func TestClaimWaitingLettersOfAProlificSender(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var all []*store.Letter
	for i := range 230 {
		all = append(all, queueLetter(t, s, fmt.Sprintf("n%d@x", i), "news@shop.ru", waitDay.Add(time.Duration(i)*time.Minute)))
	}
	index := s.WaitingIndexForTest(ctx, t)
	if len(index["a:news@shop.ru"]) != 200 || len(index) < 4 {
		t.Fatalf("no spill: %d documents, head %d", len(index), len(index["a:news@shop.ru"]))
	}
	ignored := all[220]
	if err := s.SetLetterUnsorted(ctx, ignored, false); err != nil {
		t.Fatal(err)
	}
	c := storetest.Client(t, s, "Магазин", "", store.Contact{Name: "Рассылка", Emails: []string{"news@shop.ru"}})
	got, err := s.ClaimWaitingLetters(ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 229 || slices.ContainsFunc(got, func(l *store.Letter) bool { return l.ID == ignored.ID }) {
		t.Fatalf("claimed %d letters", len(got))
	}
	if q := queuedIDs(t, s); len(q) != 0 {
		t.Fatalf("queue: %d left", len(q))
	}
	for id, letters := range s.WaitingIndexForTest(ctx, t) {
		if len(letters) > 0 {
			t.Fatalf("index %s still lists %v", id, letters)
		}
	}
}

// Letters an older version queued without the sender index are indexed once, and are
// then claimed like any other; an import's snapshot of the senders names them.
func TestBackfillWaitingIndex(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	old := &store.Letter{ID: store.LetterID("old@x", ""), Subject: "Старое", From: store.MailAddress{Email: "petr@zavod.ru"}, Date: waitDay}
	bounce := &store.Letter{ID: store.LetterID("dsn@x", ""), Subject: "Undelivered", From: store.MailAddress{Email: "daemon@zavod.ru"},
		Date: waitDay, UnknownBounce: true}
	for _, l := range []*store.Letter{old, bounce} {
		s.QueueUnindexedForTest(ctx, t, l)
		if _, err := s.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
	}
	c := storetest.Client(t, s, "Завод", "", store.Contact{Name: "Ольга", Emails: []string{"olga@zavod.ru"}})
	if w, err := s.WaitingSenders(ctx); err != nil || w.Any(c) {
		t.Fatalf("senders before the backfill: %v", err)
	}
	if n, err := s.BackfillWaitingIndex(ctx); err != nil || n != 1 {
		t.Fatalf("backfill: %d %v", n, err)
	}
	if n, err := s.BackfillWaitingIndex(ctx); err != nil || n != 0 {
		t.Fatalf("second backfill: %d %v", n, err)
	}
	w, err := s.WaitingSenders(ctx)
	if err != nil || !w.Any(c) {
		t.Fatalf("senders after the backfill name no letter for the company: %v", err)
	}
	person := &store.Client{Name: "Ольга", Kind: store.KindPerson, Emails: []string{"olga@zavod.ru"}}
	if w.Any(person) {
		t.Fatal("a person with the company's domain is said to have letters waiting")
	}
	got, err := s.ClaimWaitingLetters(ctx, "m", c)
	if err != nil || len(got) != 1 || got[0].ID != old.ID {
		t.Fatalf("claim after the backfill: %d %v", len(got), err)
	}
	if q := queuedIDs(t, s); !slices.Equal(q, []string{bounce.ID}) {
		t.Fatalf("queue: %v", q)
	}
}
