package mail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// bounceWorld is a store with 100 clients, contact i of client i addressed
// p<i>@shop<i>.ru, and an ingester of the shared mailbox.
type bounceWorld struct {
	t   *testing.T
	st  *store.Store
	in  *mail.Ingester
	uid uint32
}

func newBounceWorld(t *testing.T) *bounceWorld {
	t.Helper()
	st := storetest.New(t)
	var cs []*store.Client
	for i := range 100 {
		cs = append(cs, &store.Client{Name: fmt.Sprintf("Магазин %d", i), ManagerID: "m1",
			Contacts: map[string]store.Contact{"p": {Name: "П", Emails: []string{shopAddr(i)}}}})
	}
	for _, err := range st.CreateClients(context.Background(), "test", cs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &bounceWorld{t: t, st: st, in: mail.NewIngester(st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, Now: lettersClock})}
}

func shopAddr(i int) string { return fmt.Sprintf("p%d@shop%d.ru", i, i) }

// read ingests letters as the poller hands them over, from the inbox or, with sent,
// from the Sent folder.
func (w *bounceWorld) read(sent bool, raws ...[]byte) {
	w.t.Helper()
	var batch []mail.Fetched
	for _, raw := range raws {
		w.uid++
		f := mail.Fetched{Account: "sales", Folder: "INBOX", UID: w.uid, Raw: raw}
		if sent {
			f.Folder, f.Sent = "Sent", true
		}
		batch = append(batch, f)
	}
	for _, b := range [][]mail.Fetched{batch, nil} {
		if err := w.in.Store(context.Background(), b); err != nil {
			w.t.Fatal(err)
		}
	}
}

// bounced lists the addresses marked as bouncing, of all 100 and of extra.
func (w *bounceWorld) bounced(extra ...string) []string {
	w.t.Helper()
	var out []string
	for i := range 100 {
		extra = append(extra, shopAddr(i))
	}
	for _, a := range extra {
		hit, err := w.st.FindByEmail(context.Background(), a)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, hit.Client.Contacts[hit.ContactID].BouncedEmails...)
	}
	return out
}

// queue lists the unsorted queue as "subject" or "subject (unknown bounce)".
func (w *bounceWorld) queue() []string {
	w.t.Helper()
	q, err := w.st.UnsortedLetters(context.Background(), 50)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, l := range q {
		s := l.Subject
		if l.UnknownBounce {
			s += " (unknown bounce)"
		}
		out = append(out, s)
	}
	return out
}

// dsn is a delivery report (RFC 3464) from the mail server, about the letter with
// Message-ID original ("": none returned), saying it failed for every one of failed.
func dsn(id, subject, original string, failed ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nFrom: MAILER-DAEMON@mx.company.ru\r\nTo: sales@company.ru\r\nSubject: %s\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"+
		"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"+
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.company.ru\r\n", id, subject)
	for _, a := range failed {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n", a)
	}
	if original != "" {
		fmt.Fprintf(&b, "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <%s>\r\nFrom: news@company.ru\r\nSubject: Offer\r\n", original)
	}
	b.WriteString("--r--\r\n")
	return []byte(b.String())
}

func same(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(want, ",")
}

// Anyone can send the shared mailbox a report naming any addresses: one about a
// letter the CRM never sent marks none of them and waits in the queue, marked as a
// bounce of unknown origin.
func TestForgedBounceMarksNothingAndWaitsAsUnknown(t *testing.T) {
	w := newBounceWorld(t)
	var all []string
	for i := range 100 {
		all = append(all, shopAddr(i))
	}
	w.read(false,
		dsn("f1@mx", "Forged, unknown letter", "never.sent@company.ru", all...),
		dsn("f2@mx", "Forged, nothing returned", "", all...),
		dsn("f3@mx", "Forged, our form", store.NewSentKey().MessageID(0, "company.ru"), all...))
	if got := w.bounced(); len(got) != 0 {
		t.Fatalf("forged reports marked %d addresses: %q", len(got), got)
	}
	if got := w.queue(); len(got) != 3 || !strings.HasSuffix(got[0], " (unknown bounce)") ||
		!strings.HasSuffix(got[1], " (unknown bounce)") || !strings.HasSuffix(got[2], " (unknown bounce)") {
		t.Fatalf("the queue: %q", got)
	}
}

// A report about a campaign letter or a greeting the CRM sent marks that letter's
// recipient, and nobody else it names: not even another recipient of the same batch.
func TestBounceOfALetterTheCRMSentMarksItsRecipientOnly(t *testing.T) {
	w := newBounceWorld(t)
	ctx := context.Background()
	list := &store.BatchList{}
	for i := range 3 {
		list.Recipients = append(list.Recipients, store.BatchRecipient{ClientID: "c", ContactID: "p", Email: shopAddr(i)})
	}
	if err := w.st.QueueBatch(ctx, &store.Batch{CampaignID: "autumn", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	greeting := &store.Sent{SentKey: store.NewSentKey(), To: []string{shopAddr(10)}, What: "delivery birthday"}
	if err := w.st.RecordSent(ctx, greeting); err != nil {
		t.Fatal(err)
	}
	w.read(false,
		dsn("b1@mx", "Campaign letter 1", list.Sent.MessageID(1, "company.ru"), shopAddr(1), shopAddr(0), shopAddr(50)),
		dsn("b2@mx", "Greeting", greeting.MessageID(0, "company.ru"), shopAddr(10), shopAddr(11)))
	if got := w.bounced(); !same(got, shopAddr(1), shopAddr(10)) {
		t.Fatalf("marked %q, want the two letters' recipients", got)
	}
	if got := w.queue(); len(got) != 0 {
		t.Fatalf("reports about the CRM's letters went to the queue: %q", got)
	}
}

// A report naming a letter the CRM sent, but an address that letter did not go to,
// marks nothing.
func TestBounceOfALetterTheCRMSentForAnotherAddressMarksNothing(t *testing.T) {
	w := newBounceWorld(t)
	ctx := context.Background()
	list := &store.BatchList{Recipients: []store.BatchRecipient{{ClientID: "c", ContactID: "p", Email: shopAddr(0)}, {ClientID: "d", ContactID: "p", Email: shopAddr(1)}}}
	if err := w.st.QueueBatch(ctx, &store.Batch{CampaignID: "autumn", Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	w.read(false, dsn("o1@mx", "Right letter, other address", list.Sent.MessageID(0, "company.ru"), shopAddr(1), shopAddr(2)))
	if got := w.bounced(); len(got) != 0 {
		t.Fatalf("marked %q", got)
	}
	if got := w.queue(); !same(got, "Right letter, other address (unknown bounce)") {
		t.Fatalf("the queue: %q", got)
	}
}

// A letter from the shared mailbox's Sent folder was sent by the CRM's people: a report
// about it marks its recipient, also a plain-text bounce quoting it.
func TestBounceOfALetterFromTheSentFolderMarksItsRecipient(t *testing.T) {
	w := newBounceWorld(t)
	w.read(true, letter("out.1@company.ru", "sales@company.ru", shopAddr(5)+", "+shopAddr(6), "Offer", "text"))
	plain := "Message-ID: <b2@mx>\r\nFrom: MAILER-DAEMON@mx.hoster.ru\r\nTo: sales@company.ru\r\nSubject: failure notice\r\n\r\n" +
		"<" + shopAddr(6) + ">:\r\n<" + shopAddr(7) + ">:\r\n550 5.1.1 Mailbox does not exist\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n" +
		"Message-ID: <out.1@company.ru>\r\nTo: " + shopAddr(6) + "\r\n\r\nOffer\r\n"
	w.read(false, dsn("b1@mx", "Report", "out.1@company.ru", shopAddr(5), shopAddr(8)), []byte(plain))
	if got := w.bounced(); !same(got, shopAddr(5), shopAddr(6)) {
		t.Fatalf("marked %q, want the letter's recipients", got)
	}
	if got := w.queue(); len(got) != 0 {
		t.Fatalf("the queue: %q", got)
	}
}
