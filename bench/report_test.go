package bench_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkCampaignReport writes the report of a run of CRM_BENCH_RECIPIENTS
// recipients (default 20,000) as CSV, as `crm campaign report -o x.csv` does: the run
// is sent to a server in the process and its lists kept as a finished run keeps
// them (who, not the letters). It reports rows a second and the process's resident memory at rest before
// the report and at its peak: the report reads a batch of 2,000 at a time, so the
// peak does not grow with the run.
//
//	go test -run '^$' -bench CampaignReport -benchtime 1x -timeout 30m ./bench/
//	CRM_BENCH_RECIPIENTS=200000 go test -run '^$' -bench CampaignReport -benchtime 1x -timeout 60m ./bench/
func BenchmarkCampaignReport(b *testing.B) {
	procmem.LimitByDefault(os.Getenv) // as crm does
	n := envInt("CRM_BENCH_RECIPIENTS", 20_000)
	ctx := context.Background()
	st := storetest.New(b)
	seed(b, st, n)
	unsub, err := campaign.NewUnsubscriber(st, "0123456789abcdef-bench", "https://crm.example.com")
	if err != nil {
		b.Fatal(err)
	}
	cs := campaign.NewCampaigns(st, unsub, "news@crm.example.com", time.UTC)
	camp := benchCampaign(b, st, "Report")
	if _, _, err := cs.Start(ctx, "bench", camp.ID); err != nil {
		b.Fatal(err)
	}
	// Start only marks the campaign preparing; a runner queues and sends it, to a
	// server in this process that takes every letter.
	srv := smtptest.Start(b)
	rn := campaign.NewRunner(cs, smtptest.Sender{Port: srv.Port()}, campaign.RunnerOptions{})
	for pass, done := 0, false; !done; pass++ {
		if pass == 50 {
			b.Fatal("the campaign is not done after 50 passes")
		}
		if err := rn.Pass(ctx); err != nil {
			b.Fatal(err)
		}
		c, err := st.Campaign(ctx, camp.ID)
		if err != nil {
			b.Fatal(err)
		}
		done = c.State == store.CampaignDone
	}
	c, err := st.Campaign(ctx, camp.ID)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.DropBatchLetters(ctx, c.ID, c.Run, c.Batches); err != nil {
		b.Fatal(err)
	}
	rec := make([]string, 8)
	for range b.N {
		rest := procmem.Settle()
		t0 := time.Now()
		w := csvio.NewWriter(io.Discard, ';', true)
		rows := 0
		missing, err := cs.Report(ctx, c, 0, func(r campaign.ReportRow) error {
			rows++
			rec = append(rec[:0], r.Client, r.Contact, r.Email, string(r.Outcome), r.Reply, r.Reason, r.ClientID, r.ContactID)
			return w.Write(rec)
		})
		if err == nil {
			err = w.Flush()
		}
		if err != nil || missing != 0 || rows != n {
			b.Fatalf("report: %d rows of %d, %d batches without a list, %v", rows, n, missing, err)
		}
		took := time.Since(t0)
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(took.Seconds(), "s")
		b.ReportMetric(procmem.PeakMB(), "peak-RSS-MB")
		b.ReportMetric(rest, "rest-RSS-MB")
		b.Logf("%d rows in %v", rows, took.Round(time.Millisecond))
	}
}
