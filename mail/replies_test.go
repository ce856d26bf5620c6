package mail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

type alerts struct{ got []mail.ReplyAlert }

func (a *alerts) ReplyOverdue(_ context.Context, r mail.ReplyAlert) error {
	a.got = append(a.got, r)
	return nil
}

func reply(id, inReplyTo, to string) []byte {
	return []byte(fmt.Sprintf("Message-ID: <%s>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nFrom: sales@company.ru\r\nTo: %s\r\n"+
		"Subject: Re: вопрос\r\nDate: Mon, 23 Nov 2026 11:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nОтвет\r\n", id, inReplyTo, inReplyTo, to))
}

// Letters a client sent on Monday at 10:00 with a 4 working hour limit: the one left
// unanswered alerts its manager after 14:00 and the manager's head after 18:00; the
// ones answered by mail (also when the answer is read first) or marked handled alert
// nobody.
func TestReplyTimeAlertsManagerThenHead(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	msk, _ := time.LoadLocation("Europe/Moscow")
	now := time.Date(2026, 11, 23, 10, 5, 0, 0, msk)
	clock := func() time.Time { return now }
	head := &store.Manager{Name: "Ольга", Role: store.RoleHead, Active: true}
	if err := st.CreateManager(ctx, "test", head); err != nil {
		t.Fatal(err)
	}
	other := &store.Manager{Name: "Другой руководитель", Role: store.RoleHead, Active: true}
	if err := st.CreateManager(ctx, "test", other); err != nil {
		t.Fatal(err)
	}
	mgr := &store.Manager{Name: "Иван", Role: store.RoleManager, HeadID: head.ID, Active: true}
	if err := st.CreateManager(ctx, "test", mgr); err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Name: "Ромашка", ManagerID: mgr.ID, Contacts: map[string]store.Contact{"p": {Name: "Анна", Emails: []string{"anna@romashka.ru"}}}}
	if err := st.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	in := mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, ReplySLA: 4 * time.Hour,
		Calendar: store.DefaultWorkCalendar(msk), Now: clock})
	ingest := func(fs ...mail.Fetched) {
		t.Helper()
		for _, batch := range [][]mail.Fetched{fs, nil} {
			if err := in.Store(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	from := "Анна <anna@romashka.ru>"
	ingest(
		mail.Fetched{Account: "sales", Folder: "Sent", Sent: true, UID: 1, Raw: reply("r4@company.ru", "4@x", "anna@romashka.ru")}, // read first
		mail.Fetched{Account: "sales", Folder: "INBOX", UID: 1, Raw: letter("1@x", from, "sales@company.ru", "Не отвечено", "текст")},
		mail.Fetched{Account: "sales", Folder: "INBOX", UID: 2, Raw: letter("2@x", from, "sales@company.ru", "Отвечено", "текст")},
		mail.Fetched{Account: "sales", Folder: "INBOX", UID: 3, Raw: letter("3@x", from, "sales@company.ru", "Обработано", "текст")},
		mail.Fetched{Account: "sales", Folder: "INBOX", UID: 4, Raw: letter("4@x", from, "sales@company.ru", "Ответ раньше", "текст")},
	)
	// A conversation: the client writes twice, and the answer names the first letter only.
	followUp := []byte("Message-ID: <6@x>\r\nIn-Reply-To: <5@x>\r\nReferences: <5@x>\r\nFrom: anna@romashka.ru\r\n" +
		"To: sales@company.ru\r\nSubject: Re: Доставка\r\nDate: Mon, 23 Nov 2026 10:30:00 +0300\r\n\r\nНапоминаю\r\n")
	ingest(mail.Fetched{Account: "sales", Folder: "INBOX", UID: 5, Raw: letter("5@x", from, "sales@company.ru", "Доставка", "текст")},
		mail.Fetched{Account: "sales", Folder: "INBOX", UID: 6, Raw: followUp})
	if l, err := st.Letter(ctx, store.LetterID("6@x", "")); err != nil || l.ThreadID != store.LetterID("5@x", "") {
		t.Fatalf("the follow-up's thread: %+v %v", l, err)
	}
	ingest(mail.Fetched{Account: "sales", Folder: "Sent", Sent: true, UID: 2, Raw: reply("r2@company.ru", "2@x", "anna@romashka.ru")},
		mail.Fetched{Account: "sales", Folder: "Sent", Sent: true, UID: 3, Raw: reply("r5@company.ru", "5@x", "anna@romashka.ru")})
	if err := st.MarkLetterHandled(ctx, mgr.ID, store.LetterID("3@x", "")); err != nil {
		t.Fatal(err)
	}

	a := &alerts{}
	watch := mail.NewReplyWatch(st, a, mail.ReplyWatchOptions{Now: clock})
	check := func(at time.Time, want int) {
		t.Helper()
		now = at
		n, err := watch.Check(ctx)
		if err != nil || n != want || len(a.got) != want {
			t.Fatalf("at %s: %d alerts sent (%+v), %v; want %d", at.Format("15:04"), n, a.got, err, want)
		}
	}
	check(time.Date(2026, 11, 23, 13, 59, 0, 0, msk), 0)
	check(time.Date(2026, 11, 23, 14, 1, 0, 0, msk), 1)
	if got := a.got[0]; got.To != mgr.ID || got.Escalated || got.Subject != "Не отвечено" || got.ClientID != c.ID {
		t.Fatalf("the manager's alert: %+v", got)
	}
	a.got = nil
	check(time.Date(2026, 11, 23, 17, 0, 0, 0, msk), 0) // told once
	check(time.Date(2026, 11, 23, 18, 1, 0, 0, msk), 1)
	if got := a.got[0]; got.To != head.ID || !got.Escalated || got.ManagerName != "Иван" {
		t.Fatalf("the head's alert: %+v", got)
	}
	a.got = nil
	check(time.Date(2026, 11, 30, 12, 0, 0, 0, msk), 0)

	// A letter older than the last days (a first reading of an old mailbox) starts no clock.
	old := []byte("Message-ID: <old@x>\r\nFrom: anna@romashka.ru\r\nTo: sales@company.ru\r\nSubject: Давнее\r\n" +
		"Date: Mon, 2 Nov 2026 10:00:00 +0300\r\n\r\nтекст\r\n")
	ingest(mail.Fetched{Account: "sales", Folder: "INBOX", UID: 7, Raw: old})
	check(time.Date(2026, 12, 10, 12, 0, 0, 0, msk), 0)
}
