package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/imaptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// seedClients makes client1.ru … client400.ru, each with one known address, so that the
// generated letters match one client each: p1@ by address, p2@…p5@ by domain.
func seedClients(t *testing.T, st *store.Store) {
	t.Helper()
	var cs []*store.Client
	for i := 1; i <= 400; i++ {
		cs = append(cs, &store.Client{Name: fmt.Sprintf("Клиент %d", i), ManagerID: "m1",
			Contacts: map[string]store.Contact{"p": {Name: "П", Emails: []string{fmt.Sprintf("p1@client%d.ru", i)}}}})
	}
	for _, err := range st.CreateClients(context.Background(), "test", cs) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// emailEntries counts the letters in every timeline.
func emailEntries(t *testing.T, st *store.Store) int {
	t.Helper()
	n := 0
	if err := st.EachClient(context.Background(), func(c *store.Client) error {
		n += int(c.TimelineSeq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A crash in the middle of a batch, a restart, and a UIDVALIDITY change: every letter
// ends up in exactly one timeline entry.
func TestMailboxExactlyOnceAcrossCrashAndResync(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	seedClients(t, st)
	srv := imaptest.NewServer(t)
	letters := imaptest.GenerateLetters(1000, 7)
	srv.AddLetters("INBOX", letters)
	acc := mail.Account{Name: "sales", Host: srv.Host(), Port: srv.Port(), Security: "none", User: imaptest.User,
		Password: imaptest.Password, Folders: []string{"INBOX"}, SentFolders: []string{}, BatchSize: 200}
	// The clock stands still: entries are made when a pass ends, not linkDelay later.
	in := mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, Now: lettersClock})
	progress := mail.StoreProgress{St: st}
	log := slog.New(slog.DiscardHandler)

	// The "crash": halfway through the third batch, after half its letters are stored.
	calls := 0
	crashing := func(ctx context.Context, batch []mail.Fetched) error {
		calls++
		if calls == 3 {
			if err := in.Store(ctx, batch[:len(batch)/2]); err != nil {
				return err
			}
			return errors.New("crash")
		}
		return in.Store(ctx, batch)
	}
	if _, err := mail.NewPoller(acc, progress, crashing, log).SyncOnce(ctx); err == nil {
		t.Fatal("the crash did not stop the sync")
	}
	if n := emailEntries(t, st); n != 0 {
		t.Fatalf("after the crash: %d entries, want none yet (they are made when a pass ends)", n)
	}
	// A new process takes up the 500 letters stored before the crash.
	in = mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, Now: lettersClock})
	n, err := mail.NewPoller(acc, progress, in.Store, log).SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 600 {
		t.Fatalf("the restart delivered %d letters, want 600: progress was saved after two batches of 200", n)
	}
	if got := emailEntries(t, st); got != 1000 {
		t.Fatalf("after the restart: %d timeline entries, want 1000", got)
	}

	// The server renumbers the folder: everything is read again, nothing is added.
	srv.RecreateFolder("INBOX")
	srv.AddLetters("INBOX", letters)
	if n, err := mail.NewPoller(acc, progress, in.Store, log).SyncOnce(ctx); err != nil || n != 1000 {
		t.Fatalf("resync: %d letters, %v", n, err)
	}
	if got := emailEntries(t, st); got != 1000 {
		t.Fatalf("after the resync: %d timeline entries, want 1000", got)
	}
	if q, _ := st.UnsortedLetters(ctx, 5); len(q) != 0 {
		t.Fatalf("letters from known domains went unsorted: %+v", q)
	}

	// A bounce of a campaign letter marks the address and stays out of the timeline.
	list := &store.BatchList{Recipients: []store.BatchRecipient{{ClientID: "c", ContactID: "p", Email: "p1@client7.ru"}}}
	if err := st.QueueBatch(ctx, &store.Batch{CampaignID: "autumn", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	srv.AddLetters("INBOX", [][]byte{dsn("dsn1@mx.company.ru", "Undelivered", list.Sent.MessageID(0, "company.ru"), "p1@client7.ru")})
	if _, err := mail.NewPoller(acc, progress, in.Store, log).SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	hit, err := st.FindByEmail(ctx, "p1@client7.ru")
	if err != nil || len(hit.Client.Contacts[hit.ContactID].BouncedEmails) != 1 {
		t.Fatalf("bounce: %+v %v", hit, err)
	}
	if got := emailEntries(t, st); got != 1000 {
		t.Fatalf("the bounce cluttered a timeline: %d", got)
	}
	if q, _ := st.UnsortedLetters(ctx, 5); len(q) != 0 {
		t.Fatalf("the bounce went unsorted: %+v", q)
	}
}
