package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The history job numbers every pending line into its timeline, on the instance that
// holds its lease only.
func TestHistoryNumbersPendingLinesOnOneInstance(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	lines := map[string][]store.Interaction{}
	for i := range 450 { // more than a round
		cl := storetest.Client(t, st, fmt.Sprintf("Клиент %d", i), "")
		lines[cl.ID] = []store.Interaction{{Kind: store.InteractionMailing, Text: "Зима", SourceKey: "mailing/w/1/" + cl.ID}}
	}
	if err := st.ShowMailings(ctx, lines); err != nil {
		t.Fatal(err)
	}
	one := scheduler.New(st, nil, scheduler.Options{Now: c.Now, Owner: "one"})
	two := scheduler.New(st, nil, scheduler.Options{Now: c.Now, Owner: "two"})
	if n, err := one.History(ctx); n != 450 || err != nil {
		t.Fatalf("one: %d %v", n, err)
	}
	if err := st.ShowMailings(ctx, lines); err != nil { // the same lines again: nothing new
		t.Fatal(err)
	}
	if n, err := two.History(ctx); n != 0 || err != nil {
		t.Fatalf("two, while one holds the lease: %d %v", n, err)
	}
	if n, err := one.History(ctx); n != 450 || err != nil {
		t.Fatalf("one again: %d %v", n, err)
	}
	for id := range lines {
		items, _, err := st.Timeline(ctx, id, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Seq != 1 || items[0].Text != "Зима" {
			t.Fatalf("%s: %+v", id, items)
		}
	}
}
