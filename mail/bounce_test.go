package mail_test

import (
	"context"
	"fmt"
	"slices"
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

func TestParseDeliveryStatusNotificationBounce(t *testing.T) {
	l := parseFile(t, "bounce_dsn_user_unknown.eml")
	noProblems(t, l)
	b := l.Bounce
	if b == nil {
		t.Fatal("no Bounce for an RFC 3464 report")
	}
	if !slices.Equal(b.Recipients, []string{"gone.client@romashka.ru"}) || b.Status != "5.1.1" || b.Action != "failed" {
		t.Errorf("Bounce = %+v", b)
	}
	if b.Diagnostic != "550 5.1.1 <gone.client@romashka.ru>: Recipient address rejected: User unknown" {
		t.Errorf("Diagnostic (folded, smtp; dropped) = %q", b.Diagnostic)
	}
	if !strings.Contains(l.Text, "could not\nbe delivered") {
		t.Errorf("Text is not the report's human part: %q", l.Text)
	}
	if len(l.Attachments) != 1 || l.Attachments[0].MIME != "text/rfc822-headers" {
		t.Errorf("the returned headers: %+v", l.Attachments)
	}
}

// A bounce names the letter it is about: the Message-ID in the header it returns, as
// text/rfc822-headers, as a whole message/rfc822 (also base64), or quoted in the text
// of a plain-text bounce; a report returning nothing names none.
func TestParseBounceNamesTheLetterItReturns(t *testing.T) {
	if l := parseFile(t, "bounce_dsn_user_unknown.eml"); l.Bounce == nil || l.Bounce.Original != "offer.7@company.ru" {
		t.Errorf("text/rfc822-headers: %+v", l.Bounce)
	}
	if l := parseFile(t, "bounce_plain_text_qmail.eml"); l.Bounce == nil || l.Bounce.Original != "" {
		t.Errorf("a quoted copy without a Message-ID: %+v", l.Bounce)
	}
	report := func(returned string) string {
		return "From: MAILER-DAEMON@mx.company.ru\r\nSubject: Undelivered\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n" +
			"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.company.ru\r\n\r\n" +
			"Final-Recipient: rfc822; gone@vector.ru\r\nAction: failed\r\nStatus: 5.1.1\r\n" + returned + "--r--\r\n"
	}
	original := "Message-ID: <Sent.42@Company.ru>\r\nFrom: sales@company.ru\r\nTo: gone@vector.ru\r\n\r\nBody with\r\nMessage-ID: <not.this@x>\r\n"
	for _, tc := range []struct{ name, raw, want string }{
		{"message/rfc822", report("--r\r\nContent-Type: message/rfc822\r\n\r\n" + original), "Sent.42@Company.ru"},
		{"base64 message/rfc822", report("--r\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(original) + "\r\n"), "Sent.42@Company.ru"},
		{"nothing returned", report(""), ""},
		{"plain text quoting the letter",
			"From: MAILER-DAEMON@mx.hoster.ru\r\nTo: sales@company.ru\r\nSubject: failure notice\r\n\r\n" +
				"<gone@vector.ru>:\r\n550 5.1.1 Mailbox does not exist\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n" + original,
			"Sent.42@Company.ru"},
		{"plain text quoting a body line only",
			"From: MAILER-DAEMON@mx.hoster.ru\r\nTo: sales@company.ru\r\nSubject: failure notice\r\n\r\n" +
				"<gone@vector.ru>:\r\n550 5.1.1 Mailbox does not exist\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n" +
				"To: gone@vector.ru\r\n\r\nMessage-ID: <not.this@x>\r\n",
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString(tc.raw)
			if l.Bounce == nil || l.Bounce.Original != tc.want || !slices.Equal(l.Bounce.Recipients, []string{"gone@vector.ru"}) {
				t.Errorf("Bounce = %+v, want the original %q", l.Bounce, tc.want)
			}
		})
	}
}

func TestParseDeliveryStatusDelayedAndSeveralRecipients(t *testing.T) {
	report := func(status string) string {
		return "From: MAILER-DAEMON@mx.company.ru\r\nSubject: Delivery Status Notification\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n" +
			"--r\r\nContent-Type: text/plain\r\n\r\nReport.\r\n" +
			"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.company.ru\r\n\r\n" + status + "--r--\r\n"
	}
	l := parseString(report("Final-Recipient: rfc822; slow@vector.ru\r\nAction: delayed\r\nStatus: 4.4.7\r\n"))
	if l.Bounce == nil || l.Bounce.Action != "delayed" || l.Bounce.Status != "4.4.7" || len(l.Bounce.Recipients) != 0 {
		t.Errorf("a delayed report must mark no address: %+v", l.Bounce)
	}
	l = parseString(report("Final-Recipient: rfc822; ok@vector.ru\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n" +
		"Final-Recipient: RFC822; <One@Vector.ru>\r\nAction: failed\r\nStatus: 5.2.2 (mailbox full)\r\n\r\n" +
		"Final-Recipient: rfc822;two@vector.ru\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
	if l.Bounce == nil || !slices.Equal(l.Bounce.Recipients, []string{"one@vector.ru", "two@vector.ru"}) || l.Bounce.Status != "5.2.2" {
		t.Errorf("failed recipients only: %+v", l.Bounce)
	}
	l = parseString(report("Final-Recipient: rfc822; ok@vector.ru\r\nAction: delivered\r\nStatus: 2.0.0\r\n"))
	if l.Bounce != nil {
		t.Errorf("a success report is no bounce: %+v", l.Bounce)
	}
}

func TestParsePlainTextBouncesAreRecognisedOnlyWhenClear(t *testing.T) {
	l := parseFile(t, "bounce_plain_text_qmail.eml")
	if l.Bounce == nil || !slices.Equal(l.Bounce.Recipients, []string{"old.manager@vector.ru"}) || l.Bounce.Status != "5.1.1" || l.Bounce.Action != "failed" {
		t.Errorf("qmail bounce: %+v", l.Bounce)
	}
	for _, tc := range []struct {
		name, raw string
		want      []string // nil: no Bounce
	}{
		{"Exim list of failed addresses",
			"From: Mail Delivery System <Mailer-Daemon@mx.hoster.ru>\r\nTo: sales@company.ru\r\nSubject: Mail delivery failed: returning message to sender\r\n\r\n" +
				"This message was created automatically by mail delivery software.\r\n\r\nA message that you sent could not be delivered to one or more of its\r\n" +
				"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n  nobody@vector.ru\r\n    host mx.vector.ru [192.0.2.1]\r\n    SMTP error from remote mail server after RCPT TO:<nobody@vector.ru>:\r\n    550 5.1.1 User unknown\r\n",
			[]string{"nobody@vector.ru"}},
		{"Gmail",
			"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nTo: sales@company.ru\r\nSubject: Delivery Status Notification (Failure)\r\n\r\n" +
				"Address not found\r\n\r\nYour message wasn't delivered to lost@gmail.com because the address couldn't be found.\r\n",
			[]string{"lost@gmail.com"}},
		{"Russian subject, Postfix text",
			"From: postmaster@mail.ru\r\nTo: sales@company.ru\r\nSubject: =?utf-8?B?" + b64("Недоставленное сообщение") + "?=\r\n\r\n" +
				"<Gone@Vector.ru>: host mx.vector.ru said: 550 5.1.1 no such user\r\n",
			[]string{"gone@vector.ru"}},
		{"a bounce subject but no clearly marked address",
			"From: MAILER-DAEMON@mx.hoster.ru\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nSomething went wrong with ivan@vector.ru maybe.\r\n", nil},
		{"postmaster writing about something else",
			"From: postmaster@vector.ru\r\nSubject: New password policy\r\n\r\n<all@vector.ru>: please change your passwords\r\n", nil},
		{"a client quoting a bounce",
			"From: ivan@vector.ru\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n<anna@romashka.ru>: host said 550 5.1.1\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString(tc.raw)
			switch {
			case tc.want == nil && l.Bounce != nil:
				t.Errorf("unexpected Bounce: %+v", l.Bounce)
			case tc.want != nil && (l.Bounce == nil || !slices.Equal(l.Bounce.Recipients, tc.want)):
				t.Errorf("Bounce = %+v, want recipients %q", l.Bounce, tc.want)
			}
		})
	}
}
