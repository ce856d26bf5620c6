package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// matchWorld is a store with clients and an ingester that links every batch's
// letters when its pass ends.
type matchWorld struct {
	t  *testing.T
	st *store.Store
	in *mail.Ingester
}

func newMatchWorld(t *testing.T, opts mail.IngestOptions) *matchWorld {
	st := storetest.New(t)
	opts.OwnDomains = []string{"company.ru"}
	if opts.Now == nil {
		opts.Now = lettersClock
	}
	return &matchWorld{t: t, st: st, in: mail.NewIngester(st, opts)}
}

func (w *matchWorld) client(name, site string, emails ...string) *store.Client {
	w.t.Helper()
	c := &store.Client{Name: name, ManagerID: "m1", Website: site, Contacts: map[string]store.Contact{"p": {Name: "Контакт", Emails: emails}}}
	if err := w.st.CreateClient(context.Background(), "test", c); err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *matchWorld) ingest(raws ...[]byte) {
	w.t.Helper()
	var batch []mail.Fetched
	for i, raw := range raws {
		batch = append(batch, mail.Fetched{Account: "sales", Folder: "INBOX", UID: uint32(i + 1), Raw: raw})
	}
	for _, b := range [][]mail.Fetched{batch, nil} {
		if err := w.in.Store(context.Background(), b); err != nil {
			w.t.Fatal(err)
		}
	}
}

// subjects lists the letters in a client's history, newest first.
func (w *matchWorld) subjects(c *store.Client) string {
	items, _, err := w.st.Timeline(context.Background(), c.ID, 0, 20)
	if err != nil {
		w.t.Fatal(err)
	}
	var s []string
	for _, it := range items {
		s = append(s, it.Mail.Subject)
	}
	return strings.Join(s, ",")
}

func (w *matchWorld) unsorted() string {
	q, err := w.st.UnsortedLetters(context.Background(), 20)
	if err != nil {
		w.t.Fatal(err)
	}
	var s []string
	for _, l := range q {
		s = append(s, l.Subject)
	}
	return strings.Join(s, ",")
}

// A letter from a subdomain belongs to the client of the closest domain above it; a
// public mail service's subdomain and the company's own match nobody.
func TestIngestMatchesASubdomainByItsCompany(t *testing.T) {
	w := newMatchWorld(t, mail.IngestOptions{})
	vector := w.client("Вектор", "https://www.vector.ru", "boss@gmail.com")
	beta := w.client("Бета", "", "office@beta.ru")
	betaSpb := w.client("Бета СПб", "", "office@spb.beta.ru")
	w.ingest(
		letter("1@x", "petr@spb.vector.ru", "sales@company.ru", "Филиал Вектора", "текст"),
		letter("2@x", "ivan@sklad.msk.vector.ru", "sales@company.ru", "Склад Вектора", "текст"),
		letter("3@x", "oleg@spb.beta.ru", "sales@company.ru", "Бета из Питера", "текст"),
		letter("4@x", "oleg@kazan.beta.ru", "sales@company.ru", "Бета из Казани", "текст"),
		letter("5@x", "someone@corp.mail.ru", "sales@company.ru", "Почтовый сервис", "текст"),
		letter("6@x", "ivan@msk.company.ru", "sales@company.ru", "Коллега", "текст"),
	)
	if got := w.subjects(vector); got != "Склад Вектора,Филиал Вектора" {
		t.Fatalf("Вектор: %s", got)
	}
	if got := w.subjects(beta); got != "Бета из Казани" {
		t.Fatalf("Бета: %s", got)
	}
	if got := w.subjects(betaSpb); got != "Бета из Питера" {
		t.Fatalf("Бета СПб: %s", got)
	}
	if got := w.unsorted(); got != "Почтовый сервис,Коллега" && got != "Коллега,Почтовый сервис" {
		t.Fatalf("unsorted: %s", got)
	}
}

// forward is a colleague's letter with a client's letter attached whole.
func forward(id, from, original string) []byte {
	return []byte("Message-ID: <" + id + ">\r\nFrom: " + from + "\r\nTo: sales@company.ru\r\nSubject: Fwd: заказ\r\n" +
		"Date: " + lettersDay.Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Клиент пишет, займитесь.\r\n--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" +
		"Message-ID: <orig-" + id + ">\r\nFrom: " + original + "\r\nTo: ivan@company.ru\r\nSubject: заказ\r\n" +
		"Date: " + lettersDay.Format(time.RFC1123Z) + "\r\n\r\nХотим заказать.\r\n--b1--\r\n")
}

// A letter a colleague forwards is matched by the forwarded letter's sender: attached
// whole, or forwarded in the text as Gmail, Mail.ru, Yandex and Outlook do it. A
// forward from outside the company is not, and a colleague's letter starts no reply
// clock.
func TestIngestForwardedLetterMatchesTheOriginalSender(t *testing.T) {
	w := newMatchWorld(t, mail.IngestOptions{ReplySLA: 4 * time.Hour, Calendar: store.DefaultWorkCalendar(time.UTC)})
	romashka := w.client("Ромашка", "", "anna@romashka.ru")
	vector := w.client("Вектор", "vector.ru")
	beta := w.client("Бета", "", "office@beta.ru")
	gamma := w.client("Гамма", "", "info@gamma.ru")
	w.ingest(
		forward("fw1@company.ru", "Иван <ivan@company.ru>", "Анна <anna@romashka.ru>"),
		letter("fw2@company.ru", "ivan@msk.company.ru", "sales@company.ru", "Fwd: счёт",
			"Посмотрите\r\n\r\n---------- Forwarded message ---------\r\nFrom: Пётр <petr@spb.vector.ru>\r\n"+
				"Date: Mon, 23 Nov 2026 at 09:00\r\nSubject: счёт\r\nTo: <ivan@company.ru>\r\n\r\nПришлите счёт"),
		letter("fw3@company.ru", "olga@company.ru", "sales@company.ru", "Fwd: доставка",
			"\r\n\r\n-------- Пересылаемое сообщение --------\r\n23.11.2026, 09:00, \"Олег\" <office@beta.ru>:\r\n\r\nКогда доставка?"),
		letter("fw4@company.ru", "olga@company.ru", "sales@company.ru", "FW: договор",
			"Для вас\r\n\r\n________________________________\r\nFrom: Инна [mailto:info@gamma.ru]\r\n"+
				"Sent: Monday, November 23, 2026 9:00 AM\r\nTo: Olga\r\nSubject: договор\r\n\r\nДоговор во вложении"),
		forward("fw5@other.ru", "stranger@other.ru", "Анна <anna@romashka.ru>"),
	)
	if got := w.subjects(romashka); got != "Fwd: заказ" {
		t.Fatalf("Ромашка: %s", got)
	}
	if got := w.subjects(vector); got != "Fwd: счёт" {
		t.Fatalf("Вектор: %s", got)
	}
	if got := w.subjects(beta); got != "Fwd: доставка" {
		t.Fatalf("Бета: %s", got)
	}
	if got := w.subjects(gamma); got != "FW: договор" {
		t.Fatalf("Гамма: %s", got)
	}
	if got := w.unsorted(); got != "Fwd: заказ" {
		t.Fatalf("unsorted: %q, want the forward from outside", got)
	}
	if open, err := w.st.AwaitedReplies(context.Background()); err != nil || len(open) != 0 {
		t.Fatalf("reply clocks for colleagues' letters: %+v %v", open, err)
	}
}
