package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func mailingLine(campaign, contact string, at time.Time) store.Interaction {
	return store.Interaction{Kind: store.InteractionMailing, At: at, ContactID: contact, AuthorID: "scheduler",
		Text: campaign + " → " + contact, SourceKey: "mailing/" + campaign + "/1/" + contact}
}

// history lists a history's entries as "kind:text", newest first, and says whether
// every one is numbered.
func history(t *testing.T, s *store.Store, clientID string) ([]string, bool) {
	t.Helper()
	items, _, err := s.Timeline(context.Background(), clientID, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	card, err := s.Card(context.Background(), clientID, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Interactions) != len(items) {
		t.Fatalf("the card shows %d entries, the timeline %d", len(card.Interactions), len(items))
	}
	var out []string
	numbered := true
	for _, it := range items {
		out = append(out, string(it.Kind)+":"+it.Text)
		numbered = numbered && it.Seq > 0
	}
	return out, numbered
}

func TestMailingLinesAreShownAtOnceAndNumberedOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := storetest.Client(t, s, "Ромашка", "")
	b := storetest.Client(t, s, "Лютик", "")
	if _, err := s.AppendInteraction(ctx, a.ID, store.Interaction{Kind: store.InteractionNote, Text: "раньше", At: day.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// A campaign's batch: shown in the history at once, on top, not yet numbered.
	err := s.ShowMailings(ctx, map[string][]store.Interaction{
		a.ID: {mailingLine("winter", "p1", day), mailingLine("winter", "p2", day)},
		b.ID: {mailingLine("winter", "p1", day)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, numbered := history(t, s, a.ID)
	if len(got) != 3 || got[2] != "note:раньше" || numbered {
		t.Fatalf("shown: %v (numbered %v)", got, numbered)
	}

	// The next campaign reaches a before the first one's lines are numbered: its
	// lines are numbered at once, and nothing is lost or doubled.
	if err := s.ShowMailings(ctx, map[string][]store.Interaction{a.ID: {mailingLine("spring", "p1", day.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	// The same batch written again (its instance stopped before it was marked).
	if err := s.ShowMailings(ctx, map[string][]store.Interaction{b.ID: {mailingLine("winter", "p1", day)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := history(t, s, a.ID); len(got) != 4 {
		t.Fatalf("with the second campaign: %v", got)
	}
	if got, _ := history(t, s, b.ID); len(got) != 1 {
		t.Fatalf("written again: %v", got)
	}

	// A fold that stopped after numbering a's lines, before it let them go: the
	// next fold numbers each line once.
	if err := s.AppendInteractions(ctx, a.ID, []store.Interaction{mailingLine("winter", "p1", day)}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := s.FoldPendingLines(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	got, numbered = history(t, s, a.ID)
	if len(got) != 4 || !numbered {
		t.Fatalf("numbered: %v (numbered %v)", got, numbered)
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, want := range []string{"mailing:winter → p1", "mailing:winter → p2", "mailing:spring → p1", "note:раньше"} {
		if seen[want] != 1 {
			t.Errorf("%q %d times in %v", want, seen[want], got)
		}
	}
	if got, numbered := history(t, s, b.ID); len(got) != 1 || !numbered {
		t.Fatalf("b numbered: %v %v", got, numbered)
	}
}
