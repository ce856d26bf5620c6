package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

func newGreeting(t *testing.T, st *store.Store, c *storetest.Clock, srv *smtptest.Server, owner string) *scheduler.Scheduler {
	t.Helper()
	g, err := scheduler.NewGreeter(st, templates.FS, scheduler.GreeterOptions{From: "hello@crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	return scheduler.New(st, &inbox{}, scheduler.Options{Now: c.Now, Owner: owner, Location: moscow,
		GreetingHour: 10, Greeter: g, Sender: smtptest.Sender{Port: srv.Port()}})
}

func TestBirthdayGreetingsAcrossTimeZonesAnd29February(t *testing.T) {
	ctx := context.Background()
	// 28 February 2027 (not a leap year), 10:05 in Moscow.
	c := storetest.NewClock(time.Date(2027, 2, 28, 7, 5, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	srv := smtptest.Start(t)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга Петрова", Email: "olga@crm.test"})

	vlad := storetest.Person("Сидоров Пётр Ильич", "petr@vostok.ru", 2, 28, true)
	vlad.TimeZone = "Asia/Vladivostok" // 17:05 there: greeted
	york := storetest.Person("John Smith", "john@ny.com", 2, 28, true)
	york.TimeZone, york.Language = "America/New_York", "en" // 02:05 there: not yet
	bounced := storetest.Person("Bounced Person", "gone@x.ru", 2, 28, true)
	bounced.BouncedEmails = []string{"gone@x.ru"}
	romashka := storetest.Client(t, st, "ООО «Ромашка»", olga.ID,
		storetest.Person("Иванова Анна Сергеевна", "anna@romashka.ru", 2, 28, true),
		storetest.Person("Леап Год Родионович", "leap@romashka.ru", 2, 29, true),
		storetest.Person("Без Согласия", "no@romashka.ru", 2, 28, false),
		storetest.Person("Завтра Именинник", "tomorrow@romashka.ru", 3, 1, true),
		vlad, york, bounced)
	lutik := storetest.Client(t, st, "Лютик", olga.ID, storetest.Person("Выключено Поздравление", "off@lutik.ru", 2, 28, true))
	off := true
	if _, err := st.UpdateClient(ctx, "test", lutik.ID, store.ClientPatch{GreetingsOff: &off}); err != nil {
		t.Fatal(err)
	}

	s := newGreeting(t, st, c, srv, "one")
	if got := run(t, s.Greetings); got != 3 {
		t.Fatalf("%d greetings at 10:05 Moscow, want 3 (Anna, 29 February, Vladivostok)", got)
	}
	for _, to := range []string{"anna@romashka.ru", "leap@romashka.ru", "petr@vostok.ru"} {
		msgs := srv.To(to)
		if len(msgs) != 1 {
			t.Fatalf("%s got %d greetings", to, len(msgs))
		}
		if from := msgs[0].Header("From"); from != "Ольга Петрова <hello@crm.test>" {
			t.Fatalf("From %q: not on the manager's behalf", from)
		}
	}
	if subj := srv.To("anna@romashka.ru")[0].Header("Subject"); subj != "С днём рождения, Анна Сергеевна!" {
		t.Fatalf("subject %q", subj)
	}
	for _, to := range []string{"no@romashka.ru", "tomorrow@romashka.ru", "john@ny.com", "gone@x.ru", "off@lutik.ru"} {
		if n := len(srv.To(to)); n != 0 {
			t.Fatalf("%s got %d greetings", to, n)
		}
	}

	// Later passes and another instance after a restart greet nobody twice; New York
	// is greeted at 10:00 its time.
	c.Add(10 * time.Minute)
	if got := run(t, s.Greetings); got != 0 {
		t.Fatalf("the second pass sent %d", got)
	}
	c.Set(time.Date(2027, 2, 28, 15, 5, 0, 0, time.UTC))
	other := newGreeting(t, st, c, srv, "two")
	if got := run(t, other.Greetings); got != 1 || len(srv.To("john@ny.com")) != 1 {
		t.Fatalf("at 10:05 in New York: %d sent, John has %d", got, len(srv.To("john@ny.com")))
	}
	if subj := srv.To("john@ny.com")[0].Header("Subject"); subj != "Happy birthday, John!" {
		t.Fatalf("English greeting subject %q", subj)
	}
	if n := srv.Count(); n != 4 {
		t.Fatalf("%d messages in all, want 4", n)
	}
	smtptest.RecordedOnly(t, st, srv.Messages())

	// Each greeting is one line in the timeline.
	items, _, err := st.Timeline(ctx, romashka.ID, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	greeted := 0
	for _, it := range items {
		if it.Kind == store.InteractionBirthday {
			greeted++
		}
	}
	if greeted != 4 {
		t.Fatalf("%d greetings in Ромашка's timeline, want 4", greeted)
	}
}

func TestGreetingRepliesDeferAndFail(t *testing.T) {
	c := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) // 11:00 Moscow
	st := storetest.OnClock(t, c)
	srv := smtptest.Start(t)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга"})
	cl := storetest.Client(t, st, "Ромашка", olga.ID,
		storetest.Person("Busy Box", "busy@x.ru", 11, 23, true),
		storetest.Person("No Such", "nosuch@x.ru", 11, 23, true))
	srv.Refuse("busy@x.ru", 451)
	srv.Refuse("nosuch@x.ru", 550)
	s := newGreeting(t, st, c, srv, "one")
	if got := run(t, s.Greetings); got != 0 {
		t.Fatalf("%d sent while both are refused", got)
	}
	busy := delivery(t, st, scheduler.GreetingID(2026, cl.ID, "p1"))
	nosuch := delivery(t, st, scheduler.GreetingID(2026, cl.ID, "p2"))
	if busy.State != store.DeliveryDeferred || busy.NextTry == nil || !strings.Contains(busy.LastReply, "451") {
		t.Fatalf("451: %+v, want deferred with a next try", busy)
	}
	if nosuch.State != store.DeliveryFailed || !strings.Contains(nosuch.LastReply, "550") {
		t.Fatalf("550: %+v, want failed with the reply", nosuch)
	}
	// Before the next try nothing is sent; after it the mailbox takes the greeting.
	srv.Accept("busy@x.ru")
	srv.Accept("nosuch@x.ru")
	c.Add(30 * time.Second)
	run(t, s.Greetings)
	if len(srv.To("busy@x.ru")) != 0 {
		t.Fatal("the deferred greeting was retried before its time")
	}
	c.Add(2 * time.Minute)
	if got := run(t, s.Greetings); got != 1 || len(srv.To("busy@x.ru")) != 1 {
		t.Fatalf("after the retry time: %d sent", got)
	}
	if len(srv.To("nosuch@x.ru")) != 0 {
		t.Fatal("a failed greeting was sent again")
	}
}

func TestGreetingWaitsForADeadServer(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	srv := smtptest.Start(t)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга"})
	cl := storetest.Client(t, st, "Ромашка", olga.ID, storetest.Person("Anna", "anna@x.ru", 11, 23, true))
	s := newGreeting(t, st, c, srv, "one")
	srv.Stop()
	if _, err := s.Greetings(ctx); err == nil {
		t.Fatal("no error while the server is down")
	}
	if d := delivery(t, st, scheduler.GreetingID(2026, cl.ID, "p1")); d.State != store.DeliveryQueued {
		t.Fatalf("state %q while the server is down, want queued", d.State)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c.Add(10 * time.Minute)
	if got := run(t, s.Greetings); got != 1 || len(srv.To("anna@x.ru")) != 1 {
		t.Fatalf("after the server came back: %d sent", got)
	}
}

// A greeter without a sender says what is missing in its own words (crm serve sets
// both or neither).
func TestGreetingWithoutSenderSaysWhatIsMissing(t *testing.T) {
	c := storetest.NewClock(time.Date(2027, 2, 28, 7, 5, 0, 0, time.UTC)) // 10:05 in Moscow
	st := storetest.OnClock(t, c)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга Петрова", Email: "olga@crm.test"})
	storetest.Client(t, st, "ООО «Ромашка»", olga.ID, storetest.Person("Иванова Анна Сергеевна", "anna@romashka.ru", 2, 28, true))
	g, err := scheduler.NewGreeter(st, templates.FS, scheduler.GreeterOptions{From: "hello@crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	s := scheduler.New(st, &inbox{}, scheduler.Options{Now: c.Now, Owner: "one", Location: moscow, GreetingHour: 10, Greeter: g})
	if _, err := s.Greetings(context.Background()); err == nil || !strings.Contains(err.Error(), "no SMTP server") || strings.Contains(err.Error(), "CRM_") {
		t.Fatalf("err = %v, want what is missing, and no setting of crm's", err)
	}
}
