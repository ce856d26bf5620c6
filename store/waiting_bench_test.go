package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkWaitingLetters measures the unsorted queue's sender index on a queue of
// 10,000 letters (CRM_BENCH_WAITING sets another size), from 2,500 addresses at 1,000
// company domains and 500 addresses at gmail.com:
//
//   - queue: putting one more letter in the queue, index included (what the mailbox
//     pays for a letter nobody matched);
//
//   - claim: a new company client with one of the addresses: its letters and its
//     domain's (about 10) move into its history;
//
//   - claim-none: a new client nothing waits for (the usual case);
//
//   - senders: the import's one read of the whole index;
//
//   - scan: reading the queue whole, what a claim without the index would do.
//
//     go test -run '^$' -bench WaitingLetters -benchtime 100x ./store/
func BenchmarkWaitingLetters(b *testing.B) {
	ctx := context.Background()
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CRM_BENCH_WAITING")); err == nil && v > 0 {
		n = v
	}
	s := storetest.New(b)
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	sender := func(i int) string {
		if i%6 == 5 {
			return fmt.Sprintf("person%d@gmail.com", i%500)
		}
		return fmt.Sprintf("u%d@company%d.ru", i%2500, i%1000)
	}
	letter := func(id string, i int) *store.Letter {
		return &store.Letter{ID: store.LetterID(id, ""), MessageID: id, Subject: "Коммерческое предложение " + id,
			From: store.MailAddress{Email: sender(i)}, Date: day.Add(time.Duration(i) * time.Minute), Preview: "Добрый день, высылаем цены"}
	}
	start := time.Now()
	err := runParallel(n, 4, func(i int) error {
		l := letter(fmt.Sprintf("%d@seed", i), i)
		if err := s.SetLetterUnsorted(ctx, l, true); err != nil {
			return err
		}
		_, err := s.SaveLetters(ctx, []*store.Letter{l})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("queued %d letters in %v", n, time.Since(start).Round(time.Second))

	b.Run(fmt.Sprintf("queue/%dk", n/1000), func(b *testing.B) {
		measure(b, func(i int) error {
			return s.SetLetterUnsorted(ctx, letter(fmt.Sprintf("%d@more", i), n+i), true)
		})
	})
	claim := func(b *testing.B, email func(i int) string, want func(int) bool) {
		clients := make([]*store.Client, b.N)
		for i := range clients {
			clients[i] = storetest.Client(b, s, "Клиент "+email(i), "", store.Contact{Name: "Контакт", Emails: []string{email(i)}})
		}
		total := 0
		measure(b, func(i int) error {
			moved, err := s.ClaimWaitingLetters(ctx, "bench", clients[i])
			if err == nil && !want(len(moved)) {
				err = fmt.Errorf("client %d took %d letters", i, len(moved))
			}
			total += len(moved)
			return err
		})
		b.ReportMetric(float64(total)/float64(b.N), "letters/claim")
	}
	taken := 0 // domains claimed by earlier runs of the sub-benchmark
	b.Run(fmt.Sprintf("claim/%dk", n/1000), func(b *testing.B) {
		if taken+b.N > 800 {
			b.Skip("every domain with letters waiting is taken")
		}
		// Addresses of distinct domains, each with letters waiting.
		first := taken
		taken += b.N
		claim(b, func(i int) string { return sender(first + i) }, func(moved int) bool { return moved > 0 })
	})
	strangers := 0
	b.Run(fmt.Sprintf("claim-none/%dk", n/1000), func(b *testing.B) {
		first := strangers
		strangers += b.N
		claim(b, func(i int) string { return fmt.Sprintf("nobody%d@elsewhere%d.ru", first+i, first+i) }, func(moved int) bool { return moved == 0 })
	})
	b.Run(fmt.Sprintf("senders/%dk", n/1000), func(b *testing.B) {
		measure(b, func(int) error {
			_, err := s.WaitingSenders(ctx)
			return err
		})
	})
	b.Run(fmt.Sprintf("scan/%dk", n/1000), func(b *testing.B) {
		measure(b, func(int) error {
			_, err := s.UnsortedLetters(ctx, 1)
			return err
		})
	})
}
