package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/imaptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// counted is a mail.Metrics that counts per mailbox, as crm serve's counters do.
type counted struct {
	mu                     sync.Mutex
	read, stored, unsorted map[string]int
	passes                 map[string]int
}

func newCounted() *counted {
	return &counted{read: map[string]int{}, stored: map[string]int{}, unsorted: map[string]int{}, passes: map[string]int{}}
}

func (c *counted) LettersRead(mailbox string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read[mailbox] += n
}

func (c *counted) MailboxRead(mailbox string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passes[mailbox]++
}

func (c *counted) LettersStored(mailbox string, stored, unsorted int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stored[mailbox] += stored
	c.unsorted[mailbox] += unsorted
}

func letterFrom(from string, i int) []byte {
	return fmt.Appendf(nil, "Message-ID: <m%d@x.ru>\r\nFrom: %s\r\nTo: sales@company.ru\r\nSubject: hello\r\n"+
		"Date: Mon, 12 Jan 2026 10:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nПисьмо %d.\r\n", i, from, i)
}

// A poll of a mailbox counts the letters read, stored and left unsorted under the
// mailbox's name, and the complete pass; a second poll reads nothing new.
func TestMetricsCountLettersPerMailbox(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	if err := st.CreateClient(ctx, "test", &store.Client{Name: "Ромашка", ManagerID: "m1",
		Contacts: map[string]store.Contact{"p": {Name: "П", Emails: []string{"ivan@romashka.ru"}}}}); err != nil {
		t.Fatal(err)
	}
	srv := imaptest.NewServer(t)
	srv.AddLetters("INBOX", [][]byte{letterFrom("ivan@romashka.ru", 1), letterFrom("ivan@romashka.ru", 2),
		letterFrom("stranger@unknown.org", 3)})
	m := newCounted()
	in := mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, Now: lettersClock, Metrics: m})
	acc := mail.Account{Name: "sales", Host: srv.Host(), Port: srv.Port(), Security: "none", User: imaptest.User,
		Password: imaptest.Password, Folders: []string{"INBOX"}, SentFolders: []string{}}
	p := mail.NewPoller(acc, mail.StoreProgress{St: st}, in.Store, slog.New(slog.DiscardHandler))
	p.SetMetrics(m)
	for range 2 {
		if _, err := p.SyncOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m.read["sales"] != 3 || m.stored["sales"] != 3 || m.unsorted["sales"] != 1 || m.passes["sales"] != 2 {
		t.Errorf("read %v, stored %v, unsorted %v, passes %v; want 3 read, 3 stored, 1 unsorted, 2 passes of sales",
			m.read, m.stored, m.unsorted, m.passes)
	}
	// Without metrics the same reading works.
	bare := mail.NewPoller(acc, mail.StoreProgress{St: st}, mail.NewIngester(st, mail.IngestOptions{Now: lettersClock}).Store, nil)
	if _, err := bare.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
}
