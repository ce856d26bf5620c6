package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestLeaseIsHeldByOneOwnerUntilItRunsOut(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := storetest.New(t, func(o *store.Options) { o.Now = clock })

	take := func(owner string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "digests", owner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("a") {
		t.Fatal("a free lease was refused")
	}
	if take("b") {
		t.Fatal("b took a's running lease")
	}
	if !take("a") {
		t.Fatal("a could not renew its own lease")
	}
	if who, _, _ := s.LeaseHolder(ctx, "digests"); who != "a" {
		t.Fatalf("holder %q, want a", who)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if !take("b") {
		t.Fatal("b could not take a lease that ran out")
	}
	if take("a") {
		t.Fatal("a took the lease back from b")
	}
	if err := s.ReleaseLease(ctx, "digests", "b"); err != nil {
		t.Fatal(err)
	}
	if !take("a") {
		t.Fatal("a released lease stays taken")
	}
}

func TestClaimIsWonOnceAcrossConcurrentCallers(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var wg sync.WaitGroup
	wins := make([]bool, 6)
	for i := range wins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Claim(ctx, "digest/m1/2026-11-23")
			if err != nil {
				t.Error(err)
			}
			wins[i] = ok
		}()
	}
	wg.Wait()
	n := 0
	for _, w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d callers won one claim", n)
	}
	if err := s.Unclaim(ctx, "digest/m1/2026-11-23"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Claim(ctx, "digest/m1/2026-11-23"); !ok {
		t.Fatal("a claim given back cannot be taken again")
	}
}

func TestRemindersAtFollowsSnoozeAndDone(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	due := time.Date(2026, 11, 23, 10, 5, 30, 0, time.UTC)
	a := &store.Task{AssigneeID: "m1", Due: due, Text: "call back"}
	b := &store.Task{AssigneeID: "m1", Due: due.Add(20 * time.Second), Text: "send the quote"}
	for _, task := range []*store.Task{a, b} {
		if err := s.CreateTask(ctx, "m1", task); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(minute time.Time) []string {
		t.Helper()
		got, err := s.RemindersAt(ctx, minute)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, task := range got {
			out = append(out, task.Text)
		}
		return out
	}
	if got := ids(due); len(got) != 2 {
		t.Fatalf("10:05 holds %v, want both tasks", got)
	}
	if _, err := s.SetTaskState(ctx, "m1", a.ID, store.TaskSnoozed, due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTaskState(ctx, "m1", b.ID, store.TaskDone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := ids(due); len(got) != 0 {
		t.Fatalf("10:05 still holds %v after a snooze and a done", got)
	}
	if got := ids(due.Add(time.Hour)); len(got) != 1 || got[0] != "call back" {
		t.Fatalf("11:05 holds %v, want the snoozed task", got)
	}
}

func TestJobCursorNeverMovesBack(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	if _, ok, err := s.JobCursor(ctx, "reminders"); ok || err != nil {
		t.Fatalf("a new job has a cursor: %v %v", ok, err)
	}
	late := time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	for _, at := range []time.Time{late, late.Add(-time.Hour)} {
		if err := s.SetJobCursor(ctx, "reminders", at); err != nil {
			t.Fatal(err)
		}
	}
	if at, _, _ := s.JobCursor(ctx, "reminders"); !at.Equal(late) {
		t.Fatalf("cursor %v, want %v", at, late)
	}
}

// A batch is held by one instance at a time: the one that stopped writing for a whole
// ttl is taken over, and from then on its writes are refused and change nothing.
func TestBatchHoldIsTakenOverAndTheOldOwnerRefused(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := storetest.New(t, func(o *store.Options) { o.Now = clock })
	list := &store.BatchList{Recipients: []store.BatchRecipient{{ClientID: "a", ContactID: "1"}, {ClientID: "b", ContactID: "1"}}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "c", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	id := store.BatchID("c", 1, 0)
	take := func(owner string) (*store.Batch, bool) {
		t.Helper()
		b, err := s.Batch(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := s.TakeBatch(ctx, b, owner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return b, ok
	}
	a, ok := take("a")
	if !ok {
		t.Fatal("a free batch was refused")
	}
	stale, _ := s.Batch(ctx, id) // read before b's take: its claim is lost
	if _, ok := take("b"); ok {
		t.Fatal("b took a's batch while a holds it")
	}
	a.States = "Sq"
	if ok, err := s.SaveBatchProgress(ctx, a, "a", time.Minute); !ok || err != nil {
		t.Fatalf("a saving its own batch: %v %v", ok, err)
	}
	advance(30 * time.Second) // a renews late but in time
	if ok, err := s.SaveBatchProgress(ctx, a, "a", time.Minute); !ok || err != nil {
		t.Fatalf("a saving after 30 s: %v %v", ok, err)
	}

	advance(2 * time.Minute) // a stopped writing
	b, ok := take("b")
	if !ok || b.States != "Sq" {
		t.Fatalf("b taking over: %v, states %q", ok, b.States)
	}
	if ok, err := s.TakeBatch(ctx, stale, "c", time.Minute); ok || err != nil {
		t.Fatalf("a head read before b's take was taken again: %v %v", ok, err)
	}
	a.States = "SS"
	if ok, err := s.SaveBatchProgress(ctx, a, "a", time.Minute); ok || err != nil {
		t.Fatalf("a's save after the takeover: %v %v", ok, err)
	}
	if ok, err := s.RenewBatch(ctx, id, "a", a.Takes, time.Minute); ok || err != nil {
		t.Fatalf("a's renewal after the takeover: %v %v", ok, err)
	}
	if err := s.ReleaseBatch(ctx, a, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Batch(ctx, id); h.Owner != "b" || h.States != "Sq" {
		t.Fatalf("after a's late writes: owner %q, states %q", h.Owner, h.States)
	}
}

// Campaigns an earlier version left "running" are moved to where their run is:
// preparing while nothing is queued, sending otherwise.
func TestMigrateMovesRunningCampaigns(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	ids := map[string]string{}
	for name, batches := range map[string]int{"queued": 3, "not yet": 0} {
		c := &store.Campaign{Name: name, Subject: "S", Text: "T", State: "running", Run: 1, Batches: batches}
		if err := s.SaveCampaign(ctx, "head", c); err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]store.CampaignState{"queued": store.CampaignSending, "not yet": store.CampaignPreparing} {
		if c, err := s.Campaign(ctx, ids[name]); err != nil || c.State != want || c.Run != 1 {
			t.Errorf("%s: %+v %v, want %s", name, c, err, want)
		}
	}
}

// A preparation's progress written while the campaign moves (a pause, the runner's
// next state) never undoes the move: the embedded engine writes a document back whole.
func TestCampaignMovesSurviveThePreparationsProgress(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	for i := range 30 {
		c := &store.Campaign{Name: fmt.Sprintf("c%d", i), Subject: "S", Text: "T", State: store.CampaignPreparing, Run: 1}
		if err := s.SaveCampaign(ctx, "head", c); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.SetPrepared(ctx, c.ID, 1, 1, false); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := s.MoveCampaign(ctx, "head", c.ID, "", []store.CampaignState{store.CampaignPreparing}, func(c *store.Campaign) {
				c.State = store.CampaignSending
			}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if got, err := s.Campaign(ctx, c.ID); err != nil || got.State != store.CampaignSending || got.Batches != 1 {
			t.Fatalf("round %d: %+v %v", i, got, err)
		}
	}
}

// A recipient queued with a problem is skipped, with the problem as the reason.
func TestQueueBatchSkipsWhoseLetterDidNotRender(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	list := &store.BatchList{Recipients: []store.BatchRecipient{{ClientID: "a", ContactID: "1", Email: "a@x.ru"},
		{ClientID: "b", ContactID: "1", Email: "b@x.ru", Problem: "text:2: no field Nmae"}}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "c", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	b, err := s.Batch(ctx, store.BatchID("c", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ReplyCount{{Reply: "text:2: no field Nmae", N: 1}}
	if b.States != "qx" || b.Counts.Skipped != 1 || b.Counts.Queued != 1 || !reflect.DeepEqual(store.SkipReasons([]store.Batch{*b}, 3), want) {
		t.Fatalf("queued: %q %+v %+v", b.States, b.Counts, store.SkipReasons([]store.Batch{*b}, 3))
	}
}

// A draft replaced after someone started it is left as started.
func TestReplaceDraftLeavesAStartedCampaign(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Campaign{Name: "Осень", Subject: "Скидки", Text: "Здравствуйте"}
	if err := s.SaveCampaign(ctx, "head", c); err != nil {
		t.Fatal(err)
	}
	edit := *c
	edit.Subject = "Скидки до 30%"
	if err := s.ReplaceDraft(ctx, "head", &edit); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, c.ID); got.Subject != "Скидки до 30%" {
		t.Fatalf("the draft was not replaced: %+v", got)
	}
	if _, err := s.MoveCampaign(ctx, "head", c.ID, "", []store.CampaignState{store.CampaignDraft}, func(c *store.Campaign) {
		c.State, c.Run = store.CampaignPreparing, 1
	}); err != nil {
		t.Fatal(err)
	}
	late := edit
	late.Subject = "Опоздавшая правка"
	if err := s.ReplaceDraft(ctx, "head", &late); !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("replacing a started campaign: %v", err)
	}
	if got, _ := s.Campaign(ctx, c.ID); got.Subject != "Скидки до 30%" || got.State != store.CampaignPreparing || got.Run != 1 {
		t.Fatalf("the started campaign changed: %+v", got)
	}
}

// A batch's list reads back as it was queued, and so does one stored before lists
// were deflated.
func TestBatchListRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var rs []store.BatchRecipient
	for i := range 700 {
		rs = append(rs, store.BatchRecipient{ClientID: fmt.Sprintf("client-%d", i), ContactID: "p1", Email: fmt.Sprintf("c%d@example.ru", i),
			ContactName: "Иванов Иван Петрович", ClientName: fmt.Sprintf("ООО «Ромашка %d»", i), City: "Казань",
			Custom: map[string]string{"car": "Lada"}})
	}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "c", Run: 1}, &store.BatchList{Recipients: rs}); err != nil {
		t.Fatal(err)
	}
	old := store.BatchID("c", 1, 1)
	s.StoreListUndeflatedForTest(ctx, t, &store.BatchList{ID: old, Recipients: rs[:3]})
	for id, want := range map[string][]store.BatchRecipient{store.BatchID("c", 1, 0): rs, old: rs[:3]} {
		got, err := s.BatchList(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Recipients, want) {
			t.Fatalf("list %s: %d recipients read back differ from the %d queued", id, len(got.Recipients), len(want))
		}
	}
}
