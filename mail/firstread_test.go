package mail_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/imaptest"
	"github.com/crm-team/crm/store/storetest"
)

// During a long first reading letters reach the histories batch by batch: once the
// first waiting letter has waited a few seconds, the next batch links them all, long
// before the pass ends.
func TestIngestFirstReadingFillsHistoriesAsItGoes(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	seedClients(t, st)
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", imaptest.GenerateLetters(500, 9))
	acc := mail.Account{Name: "sales", Host: srv.Host(), Port: srv.Port(), Security: "none", User: imaptest.User,
		Password: imaptest.Password, Folders: []string{"INBOX"}, SentFolders: []string{}, BatchSize: 100}
	var mu sync.Mutex
	now := lettersClock()
	in := mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"},
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	var seen []int // entries in the histories after each batch
	sink := func(ctx context.Context, batch []mail.Fetched) error {
		if err := in.Store(ctx, batch); err != nil {
			return err
		}
		if len(batch) > 0 {
			seen = append(seen, emailEntries(t, st))
			mu.Lock()
			now = now.Add(mail.LinkDelay / 2) // each batch takes a while to come
			mu.Unlock()
		}
		return nil
	}
	if n, err := mail.NewPoller(acc, mail.StoreProgress{St: st}, sink, slog.New(slog.DiscardHandler)).SyncOnce(ctx); err != nil || n != 500 {
		t.Fatalf("%d letters, %v", n, err)
	}
	// Batch 1 waits, batch 2 comes half the delay later (waits), batch 3 a whole delay
	// after the first links 1-3; batches 4 and 5 the same way, and the pass's end links
	// what waits.
	if want := []int{0, 0, 300, 300, 300}; !slices.Equal(seen, want) {
		t.Fatalf("entries after each batch %v, want %v", seen, want)
	}
	if got := emailEntries(t, st); got != 500 {
		t.Fatalf("after the pass: %d entries", got)
	}
}
