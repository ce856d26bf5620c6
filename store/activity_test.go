package store_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// activityBase is a team of two and a client of Anna's, on a clock the test moves, in
// Moscow's time zone.
type activityBase struct {
	s           *store.Store
	now         *time.Time
	anna, boris string
	client      string
}

func newActivityBase(t *testing.T, start time.Time) activityBase {
	t.Helper()
	now := start
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.New(t, func(o *store.Options) {
		o.Now = func() time.Time { return now }
		o.Location = msk
	})
	ctx := context.Background()
	b := activityBase{s: s, now: &now}
	for i, name := range []string{"Анна", "Борис"} {
		m := &store.Manager{Name: name, TelegramID: int64(501 + i)}
		if err := s.CreateManager(ctx, "test", m); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			b.anna = m.ID
		} else {
			b.boris = m.ID
		}
	}
	c := &store.Client{Name: "ООО Ромашка", ManagerID: b.anna}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	b.client = c.ID
	return b
}

// happen writes one of everything the activity report counts, at the base's clock:
// Boris's call and note, a letter in (Anna's: her client), a paid order, Anna's task
// done an hour late, a letter answered within its limit and one answered late.
func (b activityBase) happen(t *testing.T, tag string) {
	t.Helper()
	ctx := context.Background()
	now := *b.now
	for _, it := range []store.Interaction{
		{Kind: store.InteractionCall, AuthorID: b.boris, Call: &store.Call{Direction: "out", Outcome: "no_answer"}},
		{Kind: store.InteractionNote, AuthorID: b.boris, Text: "перезвонить"},
		{Kind: store.InteractionEmailIn, Mail: &store.MailRef{Subject: "Счёт"}},
		{Kind: store.InteractionMailing, Text: "рассылка"}, // not activity
	} {
		if _, err := b.s.AppendInteraction(ctx, b.client, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.s.CreateOrder(ctx, b.boris, &store.Order{ClientID: b.client, Amount: 150000, State: store.OrderPaid}); err != nil {
		t.Fatal(err)
	}
	task := &store.Task{AssigneeID: b.anna, ClientID: b.client, Due: now.Add(-time.Hour), Text: "КП"}
	if err := b.s.CreateTask(ctx, "test", task); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a second tap changes nothing
		if _, err := b.s.SetTaskState(ctx, b.anna, task.ID, store.TaskDone, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.s.AwaitReplies(ctx, []store.AwaitedReply{
		{LetterID: tag + "-soon", Clients: []string{b.client}, ReceivedAt: now, DueAt: now.Add(time.Hour), EscalateAt: now.Add(2 * time.Hour)},
		{LetterID: tag + "-late", Clients: []string{b.client}, ReceivedAt: now, DueAt: now.Add(-time.Minute), EscalateAt: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.s.MarkAnswered(ctx, []string{tag + "-soon", tag + "-late", tag + "-never-awaited"}, "mail"); err != nil {
			t.Fatal(err)
		}
	}
}

var wantActivity = store.Activity{
	"boris": {store.ActCalls: 1, store.ActCallPrefix + "no_answer": 1, store.ActNotes: 1},
	"anna": {store.ActMailIn: 1, store.ActOrders: 1, store.ActRevenue: 150000, store.ActInvoiced: 150000, store.ActTasksDone: 1, store.ActTasksLate: 1,
		store.ActRepliesOnTime: 1, store.ActRepliesLate: 1},
}

// named renames the managers' IDs to anna and boris.
func (b activityBase) named(a store.Activity) store.Activity {
	out := store.Activity{}
	for m, counts := range a {
		switch m {
		case b.anna:
			m = "anna"
		case b.boris:
			m = "boris"
		}
		out[m] = counts
	}
	return out
}

func sameActivity(got, want store.Activity) bool {
	return maps.EqualFunc(got, want, func(a, b map[string]int64) bool { return maps.Equal(a, b) })
}

func TestActivityIsCountedByCompanyDay(t *testing.T) {
	// 22:30 UTC on 9 March is 01:30 on 10 March in Moscow.
	b := newActivityBase(t, time.Date(2026, 3, 9, 22, 30, 0, 0, time.UTC))
	b.happen(t, "a")
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, msk)
	got, err := b.s.ActivityBetween(ctx, day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !sameActivity(b.named(got), wantActivity) {
		t.Fatalf("10 March: %v\nwant %v", b.named(got), wantActivity)
	}
	if got, err := b.s.ActivityBetween(ctx, day.AddDate(0, 0, -1), day); err != nil || len(got) != 0 {
		t.Fatalf("9 March: %v, %v", got, err)
	}
}

func TestBackfillActivityCountsWhatCameBefore(t *testing.T) {
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	b := newActivityBase(t, start)
	ctx := context.Background()
	b.happen(t, "old")
	// As an older version left it: the events stored, nothing counted.
	*b.now = start.AddDate(0, 0, 1)
	b.s.ForgetActivityForTest(ctx, t, *b.now)
	b.happen(t, "new") // counted as it happens, and not again by the backfill
	for round := range 2 {
		n, err := b.s.BackfillActivity(ctx)
		if want := []int{10, 0}[round]; err != nil || n != want {
			t.Fatalf("backfill %d: %d events, %v; want %d", round, n, err, want)
		}
	}
	// Orders paid in full by client: the old one from the backfill, the new one counted
	// as it happened.
	var paid int64
	if err := b.s.DailyPaidOrders(ctx, start.AddDate(0, 0, -1), start.AddDate(0, 0, 3), func(_ time.Time, client string, n int64) error {
		if client == b.client {
			paid += n
		}
		return nil
	}); err != nil || paid != 2 {
		t.Fatalf("orders paid in full: %d, %v; want 2", paid, err)
	}
	for _, day := range []time.Time{start, start.AddDate(0, 0, 1)} {
		from := day.Truncate(24 * time.Hour).Add(-3 * time.Hour) // Moscow's midnight
		got, err := b.s.ActivityBetween(ctx, from, from.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !sameActivity(b.named(got), wantActivity) {
			t.Fatalf("%s: %v\nwant %v", day.Format(time.DateOnly), b.named(got), wantActivity)
		}
	}
}
