package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

func TestMorningDigestAtTheManagersHourOnceAndWeeklyForHeads(t *testing.T) {
	ctx := context.Background()
	// Monday 23 November 2026, 08:30 in Vladivostok (UTC+10).
	c := storetest.NewClock(time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	srv := smtptest.Start(t)
	head := storetest.Manager(t, st, store.Manager{Name: "Глава", Role: store.RoleHead, TelegramID: 1, TimeZone: "Asia/Vladivostok"})
	vera := storetest.Manager(t, st, store.Manager{Name: "Вера", TelegramID: 2, TimeZone: "Asia/Vladivostok", HeadID: head.ID})
	storetest.Manager(t, st, store.Manager{Name: "Без телеграма", TimeZone: "Asia/Vladivostok"})
	cl := storetest.Client(t, st, "Ромашка", vera.ID,
		storetest.Person("Именинница Сегодня", "today@x.ru", 11, 23, true),
		storetest.Person("Послезавтра", "", 11, 25, true),
		storetest.Person("Через неделю", "", 11, 30, true))
	storetest.Client(t, st, "Чужой", head.ID, storetest.Person("Чужой Именинник", "", 11, 23, true))
	for _, task := range []store.Task{
		{AssigneeID: vera.ID, ClientID: cl.ID, Due: c.Now().Add(3 * time.Hour), Text: "позвонить"},
		{AssigneeID: vera.ID, ClientID: cl.ID, Due: c.Now().Add(-30 * time.Hour), Text: "старое"},
		{AssigneeID: vera.ID, Due: c.Now().Add(30 * time.Hour), Text: "завтра"},
	} {
		if err := st.CreateTask(ctx, vera.ID, &task); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AwaitReplies(ctx, []store.AwaitedReply{{LetterID: "mid:1", Clients: []string{cl.ID}, From: "today@x.ru",
		Subject: "Счёт", ReceivedAt: c.Now().Add(-10 * time.Hour), DueAt: c.Now().Add(-6 * time.Hour), EscalateAt: c.Now()}}); err != nil {
		t.Fatal(err)
	}
	n := &inbox{}
	g, err := scheduler.NewGreeter(st, templates.FS, scheduler.GreeterOptions{From: "hello@crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	charts := &weekCharts{}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one", Greeter: g, Sender: smtptest.Sender{Port: srv.Port()}, Charts: charts})

	if got := run(t, s.Digests); got != 0 {
		t.Fatalf("%d digests at 08:30, before the hour", got)
	}
	c.Add(31 * time.Minute) // 09:01
	if got := run(t, s.Digests); got != 3 {
		t.Fatalf("%d messages at 09:01, want Вера's and the head's digests and the head's weekly summary", got)
	}
	c.Add(time.Minute)
	if got := run(t, s.Digests); got != 0 {
		t.Fatalf("%d more messages a minute later", got)
	}
	var d notice.Digest
	for _, x := range n.digests {
		if x.ManagerID == vera.ID {
			d = x
		}
	}
	if len(d.Today) != 1 || d.Today[0].Text != "позвонить" || len(d.Overdue) != 1 || d.Overdue[0].Text != "старое" || d.Late {
		t.Fatalf("Вера's tasks: today %+v, overdue %+v, late %v", d.Today, d.Overdue, d.Late)
	}
	if len(d.Birthdays) != 2 || d.Birthdays[0].ContactName != "Именинница Сегодня" || d.Birthdays[0].Greeting != notice.GreetingPlanned ||
		d.Birthdays[1].ContactName != "Послезавтра" || d.Birthdays[1].Greeting != "" {
		t.Fatalf("Вера's birthdays: %+v", d.Birthdays)
	}
	if len(d.Awaiting) != 1 || d.Awaiting[0].Subject != "Счёт" {
		t.Fatalf("Вера's letters waiting: %+v", d.Awaiting)
	}
	if len(n.weeklies) != 1 || n.weeklies[0].HeadID != head.ID || len(n.weeklies[0].Rows) != 1 ||
		n.weeklies[0].Rows[0].Name != "Вера" || n.weeklies[0].Rows[0].NewClients != 0 || n.weeklies[0].Total.Awaiting != 1 ||
		n.weeklies[0].Total.Overdue != 1 || len(n.weeklies[0].Pictures) != 1 || charts.asked != head.ID+" "+n.weeklies[0].From.String() {
		t.Fatalf("weekly: %+v, charts asked for %q", n.weeklies, charts.asked)
	}

	// Tuesday: a digest again, no weekly summary; the service was down until 11:00.
	c.Add(26 * time.Hour)
	if got := run(t, s.Digests); got != 2 || len(n.weeklies) != 1 {
		t.Fatalf("Tuesday 11:02: %d messages, %d weeklies", got, len(n.weeklies))
	}
	if last := n.digests[len(n.digests)-1]; !last.Late {
		t.Fatal("a digest two hours after its hour is not marked late")
	}
}

// weekCharts draws one picture for whoever asks (the reports are cmd's; this checks
// the scheduler asks for the right week and passes the pictures on).
type weekCharts struct{ asked string }

func (c *weekCharts) WeeklyCharts(_ context.Context, head store.Manager, from, _ time.Time) ([]notice.Picture, error) {
	c.asked = head.ID + " " + from.String()
	return []notice.Picture{{Name: "funnel.png", Caption: "Воронка", PNG: []byte("png")}}, nil
}

// The late mark says the service was down at the manager's hour: never for a manager
// who joined after it, nor for a digest that waited while the service ran.
func TestLateDigestOnlyWhenTheServiceWasDownAtTheHour(t *testing.T) {
	ctx := context.Background()
	// Monday 23 November 2026, 08:50 in Moscow (UTC+3).
	c := storetest.NewClock(time.Date(2026, 11, 23, 5, 50, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга", TelegramID: 1, TimeZone: "Europe/Moscow", DigestHour: 9})
	petr := storetest.Manager(t, st, store.Manager{Name: "Пётр", TelegramID: 2, TimeZone: "Europe/Moscow", DigestHour: 10})
	n := &inbox{}
	s := scheduler.New(st, n, scheduler.Options{Now: c.Now, Owner: "one"})
	lateOnes := func() (late []string) {
		for _, d := range n.digests {
			if d.Late {
				late = append(late, d.ManagerID)
			}
		}
		return late
	}

	if got := run(t, s.Digests); got != 0 {
		t.Fatalf("%d digests at 08:50", got)
	}
	c.Add(11 * time.Minute) // 09:01, the service running
	if got := run(t, s.Digests); got != 1 || n.digests[0].ManagerID != olga.ID {
		t.Fatalf("09:01: %d digests %+v, want Ольга's", got, n.digests)
	}
	// Пётр moves his hour to 9 at 09:30: his digest comes now, and the service did run
	// at 09:00, so it is not late.
	c.Add(29 * time.Minute)
	if _, err := st.UpdateManager(ctx, petr.ID, petr.ID, map[string]any{"digestHour": 9}); err != nil {
		t.Fatal(err)
	}
	if got := run(t, s.Digests); got != 1 || n.digests[1].ManagerID != petr.ID {
		t.Fatalf("09:30: %d digests %+v, want Пётр's", got, n.digests)
	}
	// A manager who joins at 09:40 has missed nothing: their first digest is tomorrow.
	c.Add(10 * time.Minute)
	nina := storetest.Manager(t, st, store.Manager{Name: "Нина", TelegramID: 3, TimeZone: "Europe/Moscow", DigestHour: 9})
	for range 3 {
		if got := run(t, s.Digests); got != 0 {
			t.Fatalf("%d digests for a manager who joined after her hour: %+v", got, n.digests[2:])
		}
		c.Add(time.Minute)
	}
	if late := lateOnes(); len(late) != 0 {
		t.Fatalf("late digests while the service ran: %v", late)
	}

	// Tuesday: the service is down from Monday evening until 10:30. Ирина is added
	// (from the command line) at 10:00, after her hour.
	c.Set(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
	storetest.Manager(t, st, store.Manager{Name: "Ирина", TelegramID: 4, TimeZone: "Europe/Moscow", DigestHour: 9})
	c.Add(30 * time.Minute)
	if got := run(t, s.Digests); got != 3 {
		t.Fatalf("10:30 after the downtime: %d digests, want Ольга's, Пётр's and Нина's", got)
	}
	c.Add(time.Minute)
	if got := run(t, s.Digests); got != 0 {
		t.Fatalf("%d digests again", got)
	}
	late := map[string]bool{}
	for _, id := range lateOnes() {
		late[id] = true
	}
	if len(lateOnes()) != 3 || !late[olga.ID] || !late[petr.ID] || !late[nina.ID] {
		t.Fatalf("late digests after the downtime: %v (Ольга %s, Пётр %s, Нина %s)", lateOnes(), olga.ID, petr.ID, nina.ID)
	}
}
