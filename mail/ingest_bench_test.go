package mail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkIngest reads the 10,000 generated letters (10% with attachments) into the
// embedded engine through the poller and the Ingester, against 400 clients, and
// compares with a raw fetch of the same mailbox (the fastest of three); then a second
// run that finds nothing new. The server runs in a process of its own, so peak RSS is
// the reading side's: the Ingester, the poller and the embedded engine. One
// measurement per run (CRM_BENCH_LETTERS=30000 for a bigger mailbox):
//
//	go test -run '^$' -bench 'Ingest$' -benchtime 1x ./mail/
func BenchmarkIngest(b *testing.B) {
	procmem.LimitByDefault(os.Getenv) // as crm does
	acc := benchAccount(b)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for b.Loop() {
		st := storetest.New(b)
		var cs []*store.Client
		for i := 1; i <= 400; i++ {
			cs = append(cs, &store.Client{Name: fmt.Sprintf("Клиент %d", i),
				Contacts: map[string]store.Contact{"p": {Name: "П", Emails: []string{fmt.Sprintf("p1@client%d.ru", i)}}}})
		}
		st.CreateClients(ctx, "bench", cs)

		raw := fastestRawFetch(b, acc)

		// The peak is the ingestion's, whatever ran before in this test binary.
		procmem.Settle()
		in := NewIngester(st, IngestOptions{OwnDomains: []string{"company.ru"}})
		progress := StoreProgress{St: st}
		start := time.Now()
		n, err := NewPoller(acc, progress, in.Store, log).SyncOnce(ctx)
		if err != nil || n != benchLetters {
			b.Fatalf("ingest: %d letters, %v", n, err)
		}
		first := time.Since(start)
		start = time.Now()
		if n, err := NewPoller(acc, progress, in.Store, log).SyncOnce(ctx); err != nil || n != 0 {
			b.Fatalf("second run: %d letters, %v", n, err)
		}
		second := time.Since(start)

		b.ReportMetric(float64(benchLetters)/raw.Seconds(), "raw-letters/s")
		b.ReportMetric(float64(benchLetters)/first.Seconds(), "ingest-letters/s")
		b.ReportMetric(100*raw.Seconds()/first.Seconds(), "ingest-%-of-raw")
		b.ReportMetric(100*second.Seconds()/first.Seconds(), "second-run-%")
		b.ReportMetric(procmem.PeakMB(), "peak-RSS-MB")
	}
}
