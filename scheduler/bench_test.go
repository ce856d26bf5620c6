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
	g, err := scheduler.NewGreeter(st, "hello@crm.test", templates.FS)
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
