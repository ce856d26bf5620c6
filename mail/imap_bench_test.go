package mail

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/crm-team/crm/mail/imaptest"
)

const benchLetters = 10_000

// rawFetchServer is one server per test binary holding 10,000 generated letters
// (~400 MB: most 5-30 KB, 10% with a 100-300 KB attachment).
var rawFetchServer = sync.OnceValues(func() (*imaptest.Server, error) {
	srv, err := imaptest.Start()
	if err != nil {
		return nil, err
	}
	srv.AddLetters("INBOX", imaptest.GenerateLetters(benchLetters, 42))
	return srv, nil
})

// BenchmarkRawFetch reads the whole mailbox per iteration (SyncOnce with a fresh
// progress and a sink that does nothing): the ceiling of the IMAP side of ingestion.
func BenchmarkRawFetch(b *testing.B) {
	srv, err := rawFetchServer()
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	nop := func(_ context.Context, batch []Fetched) error {
		for _, f := range batch {
			total += int64(len(f.Raw))
		}
		return nil
	}
	acc := account(srv)
	acc.Folders = []string{"INBOX"}
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
