package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// BenchmarkBirthdaySelection runs the greeting job over CRM_BENCH_CONTACTS contacts
// (default 100,000) with birthdays spread over the year: the directory gives the
// candidates, each is read, and the day's greetings go to a loopback SMTP server. It
// reports the time of the first pass (the day's greetings sent) and of a second pass
// (all greeted: selection only).
//
//	go test -run '^$' -bench BirthdaySelection -benchtime 1x -timeout 30m ./scheduler/
func BenchmarkBirthdaySelection(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CRM_BENCH_CONTACTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)) // 12:00 in Moscow
	st := storetest.OnClock(b, c)
	const batch = 1000
	start := time.Now()
	for off := 0; off < n; off += batch {
		var cs []*store.Client
		for i := off; i < min(off+batch, n); i++ {
			day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365)
			cs = append(cs, &store.Client{Name: fmt.Sprintf("Клиент %d", i), Contacts: map[string]store.Contact{"p": {
				Name: fmt.Sprintf("Контакт %d", i), Emails: []string{fmt.Sprintf("c%d@example.ru", i)},
				Birthday: &store.Birthday{Month: int(day.Month()), Day: day.Day()}, Consent: store.Consent{Given: true}}}})
		}
		for _, err := range st.CreateClients(ctx, "bench", cs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d contacts in %v", n, time.Since(start).Round(time.Second))
	srv := smtptest.Start(b)
	srv.Discard = true
	g, err := scheduler.NewGreeter(st, templates.FS, scheduler.GreeterOptions{From: "hello@crm.test"})
	if err != nil {
		b.Fatal(err)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	if err := st.Directory().Sync(ctx); err != nil { // crm serve loads it at start
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		s := scheduler.New(st, nil, scheduler.Options{Now: c.Now, Location: moscow, GreetingHour: 10, Greeter: g, Sender: smtptest.Sender{Port: srv.Port()}})
		t0 := time.Now()
		sent, err := s.Greetings(ctx)
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(t0)
		t0 = time.Now()
		if again, err := s.Greetings(ctx); err != nil || again != 0 {
			b.Fatalf("second pass: %d, %v", again, err)
		}
		b.ReportMetric(first.Seconds(), "s-first-pass")
		b.ReportMetric(time.Since(t0).Seconds(), "s-selection")
		b.ReportMetric(float64(sent), "greetings")
	}
}

// BenchmarkLateDigests counts the late-digest notices of CRM_BENCH_MANAGERS managers
// (default 250) who join after their hour, once while the service runs and once while
// it is down, next to as many whose hour passed while it was down: only these get the
// late mark (they and the first day's joiners: 2×n). It reports the notices and the
// time of the catch-up pass.
//
//	go test -run '^$' -bench LateDigests -benchtime 1x ./scheduler/
func BenchmarkLateDigests(b *testing.B) {
	n := 250
	if v, err := strconv.Atoi(os.Getenv("CRM_BENCH_MANAGERS")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		// Monday 23 November 2026, 08:00 in Moscow.
		c := storetest.NewClock(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC))
		st := storetest.OnClock(b, c)
		add := func(group string) map[string]bool {
			ids := map[string]bool{}
			for i := range n {
				m := storetest.Manager(b, st, store.Manager{Name: fmt.Sprintf("%s %d", group, i), TelegramID: int64(len(group)*100_000 + i + 1),
					TimeZone: "Europe/Moscow", DigestHour: 9})
				ids[m.ID] = true
			}
			return ids
		}
		inbox := &inbox{}
		s := scheduler.New(st, inbox, scheduler.Options{Now: c.Now, Owner: "bench"})
		pass := func() int {
			sent, err := s.Digests(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return sent
		}
		late := func(of map[string]bool) (k int) {
			for _, d := range inbox.digests {
				if d.Late && (of == nil || of[d.ManagerID]) {
					k++
				}
			}
			return k
		}
		add("old")
		pass()
		c.Add(time.Hour) // 09:00, the service running
		pass()
		c.Add(time.Hour) // 10:00: they join after their hour, the service running
		add("joined")
		for range 5 {
			c.Add(time.Minute)
			pass()
		}
		lateWhileUp := late(nil)
		// Tuesday: the service is down from Monday 10:05 to 10:30; more join at 10:00.
		c.Set(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
		joinedDown := add("joined while down")
		c.Add(30 * time.Minute)
		t0 := time.Now()
		sent := pass()
		b.ReportMetric(time.Since(t0).Seconds(), "s-catch-up-pass")
		b.ReportMetric(float64(lateWhileUp), "late-while-up")
		b.ReportMetric(float64(late(joinedDown)), "late-to-joined-while-down")
		b.ReportMetric(float64(late(nil)-lateWhileUp), "late-after-downtime")
		b.ReportMetric(float64(sent), "digests-catch-up")
	}
}
