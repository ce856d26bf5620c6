package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

type notices struct{ got []mail.LetterNotice }

func (n *notices) LetterArrived(_ context.Context, l mail.LetterNotice) error {
	n.got = append(n.got, l)
	return nil
}

// lettersDay is the Date of the test letters; the ingesters' clock stands an hour
// later, so the letters are fresh (they notify and start reply clocks) whatever day
// the tests run.
var lettersDay = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("MSK", 3*3600))

func lettersClock() time.Time { return lettersDay.Add(time.Hour) }

func letter(id, from, to, subject, body string) []byte {
	return []byte(fmt.Sprintf("Message-ID: <%s>\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", id, from, to, subject, lettersDay.Format(time.RFC1123Z), body))
}

func TestIngestMatchesByAddressDomainBothAndNobody(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	mk := func(name, manager string, site string, emails ...string) *store.Client {
		c := &store.Client{Name: name, ManagerID: manager, Website: site, Contacts: map[string]store.Contact{"p": {Name: "Контакт", Emails: emails}}}
		if err := st.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	romashka := mk("Ромашка", "m1", "", "anna@romashka.ru")
	vector := mk("Вектор", "m2", "vector.ru", "boss@gmail.com")
	n := &notices{}
	in := mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, Notifier: n, Now: lettersClock})

	batch := []mail.Fetched{
		{Account: "sales", Folder: "INBOX", UID: 1, Raw: letter("1@x", "Anna <anna@romashka.ru>", "sales@company.ru", "По адресу", "текст")},
		{Account: "sales", Folder: "INBOX", UID: 2, Raw: letter("2@x", "ivan@vector.ru", "sales@company.ru", "По домену", "текст")},
		{Account: "sales", Folder: "INBOX", UID: 3, Raw: letter("3@x", "anna@romashka.ru", "sales@company.ru, boss@gmail.com", "Обоим", "текст")},
		{Account: "sales", Folder: "INBOX", UID: 4, Raw: letter("4@x", "stranger@gmail.com", "sales@company.ru", "Никому", "текст")},
		{Account: "sales", Folder: "Sent", Sent: true, UID: 1, Raw: letter("5@x", "sales@company.ru", "anna@romashka.ru", "Ответ", "текст")},
	}
	// The poller's empty batch after a pass makes the timeline entries.
	if err := in.Store(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if items, _, _ := st.Timeline(ctx, romashka.ID, 0, 20); len(items) != 0 || len(n.got) != 0 {
		t.Fatalf("entries made before the pass ended: %d, notices %d", len(items), len(n.got))
	}
	if err := in.Store(ctx, nil); err != nil {
		t.Fatal(err)
	}
	subjects := func(c *store.Client) string {
		items, _, _ := st.Timeline(ctx, c.ID, 0, 20)
		var s []string
		for _, it := range items {
			s = append(s, string(it.Kind)+":"+it.Mail.Subject)
		}
		return strings.Join(s, ",")
	}
	if got := subjects(romashka); got != "email_out:Ответ,email_in:Обоим,email_in:По адресу" {
		t.Fatalf("Ромашка's timeline: %s", got)
	}
	if got := subjects(vector); got != "email_in:Обоим,email_in:По домену" {
		t.Fatalf("Вектор's timeline: %s", got)
	}
	q, _ := st.UnsortedLetters(ctx, 10)
	if len(q) != 1 || q[0].Subject != "Никому" {
		t.Fatalf("unsorted: %+v", q)
	}
	if len(n.got) != 4 {
		t.Fatalf("notices: %+v", n.got)
	}

	// The same letters again (a resync): nothing new anywhere.
	if err := in.Store(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := in.Store(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := subjects(romashka); strings.Count(got, ",") != 2 {
		t.Fatalf("a second pass duplicated: %s", got)
	}
	if len(n.got) != 4 {
		t.Fatalf("a second pass notified again: %d", len(n.got))
	}
}

// Timeline entries made and then a stop before their records were cleared: a restarted
// ingester takes the records up and makes each entry once.
func TestIngestRestartAfterStopMidLinkAddsNoSecondEntry(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	c := &store.Client{Name: "Ромашка", Contacts: map[string]store.Contact{"p": {Name: "Анна", Emails: []string{"anna@romashka.ru"}}}}
	if err := st.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	opts := mail.IngestOptions{OwnDomains: []string{"company.ru"}, Now: lettersClock}
	in := mail.NewIngester(st, opts)
	var batch []mail.Fetched
	for i := range 3 {
		batch = append(batch, mail.Fetched{Account: "sales", Folder: "INBOX", UID: uint32(i + 1),
			Raw: letter(fmt.Sprintf("%d@x", i), "anna@romashka.ru", "sales@company.ru", fmt.Sprintf("Письмо %d", i), "текст")})
	}
	if err := in.Store(ctx, batch); err != nil {
		t.Fatal(err)
	}
	in.SetCrash(func(step string) error { return errors.New("crash at " + step) })
	if err := in.Store(ctx, nil); err == nil {
		t.Fatal("the crash did not stop the batch")
	}
	if items, _, _ := st.Timeline(ctx, c.ID, 0, 20); len(items) != 3 {
		t.Fatalf("before the restart: %d entries, want the 3 made before the crash", len(items))
	}

	// A new process; the same letters come again (their progress was not saved) and one more.
	in = mail.NewIngester(st, opts)
	batch = append(batch, mail.Fetched{Account: "sales", Folder: "INBOX", UID: 4,
		Raw: letter("3@x", "anna@romashka.ru", "sales@company.ru", "Письмо 3", "текст")})
	if err := in.Store(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := in.Store(ctx, nil); err != nil {
		t.Fatal(err)
	}
	items, _, _ := st.Timeline(ctx, c.ID, 0, 20)
	var subjects []string
	for _, it := range items {
		subjects = append(subjects, it.Mail.Subject)
	}
	if len(items) != 4 {
		t.Fatalf("after the restart: %v, want each of the 4 letters once", subjects)
	}
	if left, _ := st.PendingLinks(ctx); len(left) != 0 {
		t.Fatalf("records left: %+v", left)
	}
}
