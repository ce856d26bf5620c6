package mail

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/imaptest"
)

// BenchmarkSentLetterArrival measures how long a letter put in the Sent folder takes
// to reach the sink while Run waits with a poll interval of an hour: the server's
// announcement on the watching connection, a pass over the folders, the FETCH. The
// server is go-imap's in-memory one on loopback, so network round trips to a real
// server come on top.
func BenchmarkSentLetterArrival(b *testing.B) {
	srv := imaptest.NewServer(b)
	srv.AddLetters("INBOX", small(100, "in"))
	acc := account(srv)
	acc.PollInterval = time.Hour
	got := make(chan struct{}, 1)
	sink := func(_ context.Context, batch []Fetched) error {
		if len(batch) > 0 {
			got <- struct{}{}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, newProgress(), sink, nil).Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-got // the first pass read INBOX
	for srv.Connections() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		srv.AddLetters("Sent", small(1, fmt.Sprint("sent", i)))
		select {
		case <-got:
		case <-time.After(time.Minute):
			b.Fatal("the letter did not come within a minute")
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
	b.ReportMetric(ms(took[len(took)*95/100]), "p95-ms")
	b.ReportMetric(ms(took[len(took)-1]), "max-ms")
}
