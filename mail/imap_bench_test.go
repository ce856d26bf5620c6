package mail

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/imaptest"
)

// benchLetters is the mailbox's size: 10,000, or CRM_BENCH_LETTERS.
var benchLetters = func() int {
	if n, err := strconv.Atoi(os.Getenv("CRM_BENCH_LETTERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}()

// rawFetchServer is one server per test binary, in a process of its own so that the
// benchmarks' memory is the reading side's alone, holding the generated letters
// (10,000: ~400 MB, most 5-30 KB, 10% with a 100-300 KB attachment).
// It lives as long as the test binary (it ends when its standard input closes).
var rawFetchServer = sync.OnceValues(func() (*imaptest.Child, error) {
	return imaptest.StartChild(benchLetters, 42)
})

// benchAccount reads the benchmarks' server's INBOX.
func benchAccount(tb testing.TB) Account {
	c, err := rawFetchServer()
	if err != nil {
		tb.Fatal(err)
	}
	return Account{Name: "sales", Host: c.Host(), Port: c.Port(), Security: "none", User: imaptest.User,
		Password: imaptest.Password, Folders: []string{"INBOX"}, SentFolders: []string{}}
}

// fastestRawFetch is how long the fastest of three raw fetches of the mailbox takes:
// SyncOnce with a fresh progress and a sink that does nothing. The first fetches
// after the server starts are slower, and a slow one would flatter the comparison.
func fastestRawFetch(b *testing.B, acc Account) time.Duration {
	raw := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		nop := func(context.Context, []Fetched) error { return nil }
		if _, err := NewPoller(acc, newProgress(), nop, nil).SyncOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		raw = min(raw, time.Since(start))
	}
	return raw
}

// BenchmarkRawFetch reads the whole mailbox per iteration (SyncOnce with a fresh
// progress and a sink that does nothing): the ceiling of the IMAP side of ingestion.
func BenchmarkRawFetch(b *testing.B) {
	acc := benchAccount(b)
	var total int64
	nop := func(_ context.Context, batch []Fetched) error {
		for _, f := range batch {
			total += int64(len(f.Raw))
		}
		return nil
	}
	if n, err := NewPoller(acc, newProgress(), nop, nil).SyncOnce(context.Background()); err != nil || n != benchLetters {
		b.Fatalf("warm-up: %d letters, %v", n, err)
	}
	size := total
	for _, batch := range []int{50, 200, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			acc.BatchSize = batch
			b.SetBytes(size) // MB/s
			letters := 0
			for b.Loop() {
				n, err := NewPoller(acc, newProgress(), nop, nil).SyncOnce(context.Background())
				if err != nil || n != benchLetters {
					b.Fatalf("%d letters, %v", n, err)
				}
				letters += n
			}
			b.ReportMetric(float64(letters)/b.Elapsed().Seconds(), "letters/s")
		})
	}
}
