package csvio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

// An import moves the letters waiting in the unsorted queue from a new client's
// addresses, and for a company from its domain, into the client's history; a client
// already in the base (skipped by the import) and strangers' letters are left alone.
func TestImportMovesWaitingLetters(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	queue := func(id, from string) *store.Letter {
		l := &store.Letter{ID: store.LetterID(id, ""), MessageID: id, Subject: "Письмо " + id, From: store.MailAddress{Email: from}, Date: day}
		if err := s.SetLetterUnsorted(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	queue("1@x", "anna@alfa.ru")
	queue("2@x", "sales@alfa.ru")
	queue("3@x", "ivan@gmail.com")
	stranger := queue("4@x", "someone@gmail.com")
	present := queue("5@x", "old@beta.ru")
	if err := s.CreateClient(ctx, "m1", &store.Client{Name: "Бета", Legal: store.Legal{INN: "6671045120"}}); err != nil {
		t.Fatal(err)
	}
	data := strings.Join([]string{
		"name;kind;inn;contact_name;contact_email",
		"Альфа;компания;7707083893;Анна;anna@alfa.ru",
		"Иван Петров;физлицо;;Иван;ivan@gmail.com",
		"Бета;компания;6671045120;Старый;old@beta.ru", // already present: skipped
	}, "\n")
	rep := importString(t, s, data, csvio.ImportOptions{BatchSize: 1})
	checkCounts(t, rep, 3, 2, 1, 0)
	if rep.Letters != 3 || !strings.Contains(rep.Summary(), "3 letters waiting in the unsorted queue moved") {
		t.Fatalf("letters moved: %d: %s", rep.Letters, rep.Summary())
	}
	all := clients(t, s)
	for name, want := range map[string]int{"Альфа": 2, "Иван Петров": 1, "Бета": 0} {
		items, _, err := s.Timeline(ctx, all[name].ID, 0, 10)
		if err != nil || len(items) != want {
			t.Fatalf("%s: %d entries, want %d (%v)", name, len(items), want, err)
		}
	}
	q, err := s.UnsortedLetters(ctx, 10)
	if err != nil || len(q) != 2 || (q[0].LetterID != stranger.ID && q[1].LetterID != stranger.ID) ||
		(q[0].LetterID != present.ID && q[1].LetterID != present.ID) {
		t.Fatalf("queue after the import: %+v %v", q, err)
	}
	// Importing the file again moves nothing.
	if rep := importString(t, s, data, csvio.ImportOptions{}); rep.Letters != 0 {
		t.Fatalf("second import moved %d letters", rep.Letters)
	}
}
