package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func texts(msgs []store.OutMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func TestOutboxLaneIsTakenOverOnlyAfterItsHolderWentSilent(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := storetest.New(t, func(o *store.Options) { o.Now = clock })
	const ttl = 30 * time.Second

	take := func(owner string) (*store.OutboxLane, []store.OutMessage) {
		t.Helper()
		l, msgs, err := s.TakeOutbox(ctx, owner, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return l, msgs
	}
	put := func(l *store.OutboxLane, text string) string {
		t.Helper()
		m := &store.OutMessage{Chat: 1, Text: text, Rows: []store.OutRow{{Buttons: []store.OutButton{{Text: "Done", Data: "t:1:done"}}}}}
		if err := l.Put(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	adopt := func(owner string) (*store.OutboxLane, []store.OutMessage) {
		t.Helper()
		l, msgs, err := s.AdoptOutbox(ctx, owner, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return l, msgs
	}

	a, left := take("a")
	b, _ := take("b")
	if a.Name() == b.Name() || len(left) != 0 {
		t.Fatalf("a has %s (%d left), b has %s", a.Name(), len(left), b.Name())
	}
	// More than a block of numbers, so the lane's hi is written again on the way.
	var ids []string
	for i := range 70 {
		ids = append(ids, put(a, fmt.Sprint(i)))
	}
	var want []string
	for i, id := range ids {
		if i%2 == 0 {
			if err := a.Done(ctx, id); err != nil {
				t.Fatal(err)
			}
		} else {
			want = append(want, fmt.Sprint(i))
		}
	}
	// a crashes: it neither renews nor releases its lane.
	if l, _ := adopt("b"); l != nil {
		t.Fatalf("b took %s while a's hold runs", l.Name())
	}
	advance(ttl + time.Second)
	got, msgs := adopt("b")
	if got == nil || got.Name() != a.Name() {
		t.Fatalf("b adopted %v, want a's lane", got)
	}
	if fmt.Sprint(texts(msgs)) != fmt.Sprint(want) {
		t.Errorf("left in a's lane: %v, want %v (the sent ones never again, in order)", texts(msgs), want)
	}
	if len(msgs) > 0 && fmt.Sprint(msgs[0].Rows) != "[{[{Done t:1:done }]}]" {
		t.Errorf("buttons read back: %v", msgs[0].Rows)
	}
	if l, _ := adopt("c"); l != nil {
		t.Errorf("c adopted %s, which b holds now", l.Name())
	}
	if ok, err := a.Renew(ctx); ok || err != nil {
		t.Errorf("a renewed a lane b took over: %v %v", ok, err)
	}
	if err := a.Put(ctx, &store.OutMessage{Chat: 1, Text: "late"}); !errors.Is(err, store.ErrLaneLost) {
		t.Errorf("a wrote to a lane b took over: %v", err)
	}
	for _, m := range msgs {
		if err := got.Done(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if !got.Idle() {
		t.Error("b's adopted lane is not idle after every message was sent")
	}
	if err := got.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// b stops cleanly with a message left: the next start takes it at once, even
	// while a's old lane is free too.
	put(b, "left at stop")
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, owner := range []string{"d", "e"} {
		_, msgs := take(owner)
		found = append(found, texts(msgs)...)
	}
	if fmt.Sprint(found) != "[left at stop]" {
		t.Errorf("taken after the stop: %v", found)
	}
}

func TestOutboxLanesTakenAtOnceAreDistinct(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	const owners = 8
	// The first round makes the lanes, the second takes them back after a release.
	for round := range 2 {
		lanes := make([]*store.OutboxLane, owners)
		var wg sync.WaitGroup
		for i := range owners {
			wg.Go(func() {
				l, _, err := s.TakeOutbox(ctx, fmt.Sprint("owner", round, i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				lanes[i] = l
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, l := range lanes {
			if l == nil {
				t.FailNow()
			}
			if seen[l.Name()] {
				t.Errorf("round %d: two owners hold %s", round, l.Name())
			}
			seen[l.Name()] = true
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}
