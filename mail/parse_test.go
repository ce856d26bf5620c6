package mail_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/imaptest"
	"golang.org/x/text/encoding/charmap"
)

// The letters in testdata/*.eml are written to look like what Russian and
// international mailers send (The Bat!, Outlook, Gmail, Postfix, qmail); their names
// say what each one is for. They also seed FuzzParse.

func parseFile(t *testing.T, name string) *mail.Letter {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	l := mail.Parse(raw, mail.ParseOptions{})
	if l == nil {
		t.Fatalf("%s: Parse returned nil", name)
	}
	sum := sha256.Sum256(raw)
	if l.Hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("%s: Hash %q is not the SHA-256 of the raw letter", name, l.Hash)
	}
	return l
}

func parseString(raw string) *mail.Letter { return mail.Parse([]byte(raw), mail.ParseOptions{}) }

func hasProblem(l *mail.Letter, part string) bool {
	return slices.ContainsFunc(l.Problems, func(p string) bool { return strings.Contains(p, part) })
}

func noProblems(t *testing.T, l *mail.Letter) {
	t.Helper()
	if len(l.Problems) > 0 {
		t.Errorf("problems in a well-formed letter: %q", l.Problems)
	}
}

func moscow(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("MSK", 3*3600)).UTC()
}

func cp1251(s string) string {
	b, _ := charmap.Windows1251.NewEncoder().String(s)
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseWindows1251SubjectSenderBodyAndAttachmentName(t *testing.T) {
	l := parseFile(t, "windows1251_subject_body_and_attachment_name.eml")
	noProblems(t, l)
	if l.Subject != "Счёт на оплату №15 за ноябрь" {
		t.Errorf("Subject = %q", l.Subject)
	}
	if l.From != (mail.Address{Name: "Анна Петрова", Email: "anna.petrova@romashka.ru"}) {
		t.Errorf("From = %+v, want the decoded name and a lower-case address", l.From)
	}
	if len(l.To) != 1 || l.To[0].Name != "Отдел продаж" || l.To[0].Email != "sales@company.ru" {
		t.Errorf("To = %+v", l.To)
	}
	if len(l.Cc) != 1 || l.Cc[0].Email != "buh@romashka.ru" {
		t.Errorf("Cc = %+v", l.Cc)
	}
	if l.MessageID != "20261123100000.4F2A@romashka.ru" {
		t.Errorf("MessageID = %q", l.MessageID)
	}
	if want := moscow(2026, 11, 23, 10, 0); !l.Date.Equal(want) || l.Date.Location() != time.UTC {
		t.Errorf("Date = %v, want %v in UTC", l.Date, want)
	}
	if !strings.Contains(l.Text, "Направляем счёт на оплату поставки за ноябрь.\nСумма: 148 500 руб.") || !strings.HasSuffix(l.Text, "ООО «Ромашка»") {
		t.Errorf("Text = %q", l.Text)
	}
	if len(l.Attachments) != 1 {
		t.Fatalf("attachments: %+v", l.Attachments)
	}
	a := l.Attachments[0]
	if a.Name != "Счёт №15 от 23.11.2026.pdf" || a.MIME != "application/pdf" || !bytes.HasPrefix(a.Content, []byte("%PDF-1.4\n")) ||
		a.Size != int64(len(a.Content)) || a.NotStored != "" {
		t.Errorf("attachment = %q %q size %d content %q %q", a.Name, a.MIME, a.Size, a.Content, a.NotStored)
	}
}

func TestParseKOI8RSubjectSenderAndBody(t *testing.T) {
	l := parseFile(t, "koi8r_subject_and_body.eml")
	noProblems(t, l)
	if l.Subject != "Запрос прайс-листа" || l.From.Name != "Пётр Сидоров" || l.From.Email != "petr@vector.ru" {
		t.Errorf("Subject %q From %+v", l.Subject, l.From)
	}
	want := "Здравствуйте!\n\nПрошу прислать прайс-лист на ёмкости 200 литров\nи условия доставки до Екатеринбурга.\n\nПётр Сидоров, ООО \"Вектор\""
	if l.Text != want {
		t.Errorf("Text = %q\nwant   %q", l.Text, want)
	}
	if want := time.Date(2026, 11, 24, 4, 15, 0, 0, time.UTC); !l.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", l.Date, want)
	}
}

func TestParseHTMLOnlyLetterIsReducedToReadableText(t *testing.T) {
	l := parseFile(t, "utf8_html_only.eml")
	noProblems(t, l)
	want := "Коммерческое предложение\n\n" +
		"Здравствуйте, Иван!\n\n" +
		"Предлагаем поставку ёмкостей по цене 4 500 ₽ & бесплатную доставку.\n" +
		"Подробности — на нашем сайте.\n\n" +
		"- Объём 200 л\n- Пищевой пластик\n\n" +
		"Телефон: +7 (495) 123-45-67\n\n" +
		"«Ромашка» © 2026"
	if l.Text != want {
		t.Errorf("Text = %q\nwant   %q", l.Text, want)
	}
	if !strings.Contains(l.HTML, `<script>trackOpen("xyz");</script>`) || !strings.Contains(l.HTML, "&laquo;Ромашка&raquo;") {
		t.Errorf("HTML is not kept as sent: %q", l.HTML)
	}
	if l.Preview != want {
		t.Errorf("Preview = %q", l.Preview)
	}
}

func TestParseHTMLReductionRules(t *testing.T) {
	for _, tc := range []struct{ name, html, want string }{
		{"br is a line break, text runs collapse", "<div>Строка  1<br>Строка\n\t2<br/><br>Строка 3</div>", "Строка 1\nСтрока 2\n\nСтрока 3"},
		{"links keep their text only", `<p>См. <a href="https://x.ru/a?b=1&amp;c=2">прайс</a>.</p>`, "См. прайс."},
		{"entities are decoded", "<p>&laquo;A&raquo; &amp; B &lt;C&gt; &#1046; &#x416; 5&nbsp;000</p>", "«A» & B <C> Ж Ж 5 000"},
		{"script, style, head and title are dropped", "<html><head><title>T</title><style>p{x:y}</style></head><body><script>alert(1)</script><p>Текст</p></body></html>", "Текст"},
		{"a head that is never closed ends at body", "<head><title>T</title><body><p>Текст</p>", "Текст"},
		{"at most one blank line in a row", "<p>A</p><p></p><p></p><div><br><br><br><br></div><p>B</p>", "A\n\nB"},
		{"blockquote lines are quoted", "<p>Да.</p><blockquote><p>Вопрос?</p></blockquote><p>Спасибо</p>", "Да.\n\n> Вопрос?\n\nСпасибо"},
		{"pre keeps its lines", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"table cells are separated", "<table><tr><td>ИНН</td><td>7701234567</td></tr><tr><td>КПП</td><td>770101001</td></tr></table>", "ИНН 7701234567\nКПП 770101001"},
		{"comments and conditional comments are dropped", "<!--[if mso]><p>Outlook only</p><![endif]--><p>Всем</p>", "Всем"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString("From: a@b.ru\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tc.html)
			if l.Text != tc.want {
				t.Errorf("Text = %q, want %q", l.Text, tc.want)
			}
		})
	}
}

func TestParseAlternativeTakesTextFromPlainPartAndKeepsHTML(t *testing.T) {
	l := parseFile(t, "alternative_plain_and_html.eml")
	noProblems(t, l)
	if l.Text != "Иван, добрый день!\n\nДоговор подписали, скан во вложении следующего письма." {
		t.Errorf("Text = %q", l.Text)
	}
	if !strings.Contains(l.HTML, "<b>подписали</b>") {
		t.Errorf("HTML = %q", l.HTML)
	}
	if l.Subject != "Re: Договор" || l.From.Name != "Petrov, Ivan" || l.From.Email != "ivan@vector.ru" {
		t.Errorf("Subject %q From %+v", l.Subject, l.From)
	}
	if len(l.To) != 2 || l.To[0] != (mail.Address{Name: "Anna", Email: "anna@company.ru"}) || l.To[1].Email != "sales@company.ru" {
		t.Errorf("To = %+v", l.To)
	}
	if l.InReplyTo != "offer.4@company.ru" || !slices.Equal(l.References, []string{"lead.1@company.ru", "offer.4@company.ru"}) {
		t.Errorf("InReplyTo %q References %q", l.InReplyTo, l.References)
	}
	if want := moscow(2026, 11, 26, 16, 30); !l.Date.Equal(want) {
		t.Errorf("Date with a (MSK) comment = %v, want %v", l.Date, want)
	}
	if len(l.Attachments) != 0 {
		t.Errorf("the alternatives became attachments: %+v", l.Attachments)
	}
}

func TestParseNestedMixedAlternativeWithTwoAttachments(t *testing.T) {
	l := parseFile(t, "mixed_alternative_two_attachments.eml")
	noProblems(t, l)
	if l.Text != "Высылаю договор и спецификацию.\nИван" || !strings.Contains(l.HTML, "<p>Иван</p>") {
		t.Errorf("Text %q HTML %q", l.Text, l.HTML)
	}
	if len(l.Attachments) != 2 {
		t.Fatalf("attachments: %+v", l.Attachments)
	}
	pdf, xlsx := l.Attachments[0], l.Attachments[1]
	if pdf.Name != "Договор поставки.pdf" || pdf.MIME != "application/pdf" || !bytes.HasPrefix(pdf.Content, []byte("%PDF")) {
		t.Errorf("RFC 2047 UTF-8 file name: %q %q", pdf.Name, pdf.MIME)
	}
	if xlsx.Name != "Спецификация к договору.xlsx" {
		t.Errorf("RFC 2231 KOI8-R file name in two sections: %q", xlsx.Name)
	}
	wantX := append([]byte("PK\x03\x04"), bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 4)...)
	if xlsx.Size != int64(len(wantX)) || !bytes.Equal(xlsx.Content, wantX) {
		t.Errorf("xlsx: size %d, content differs: %v", xlsx.Size, !bytes.Equal(xlsx.Content, wantX))
	}
}

func TestParseReplyPreviewDropsQuoteAndSignatureButTextKeepsThem(t *testing.T) {
	l := parseFile(t, "reply_quote_under_pishet.eml")
	noProblems(t, l)
	if l.Preview != "Иван, согласны на ваши условия.\nПришлите, пожалуйста, договор до пятницы." {
		t.Errorf("Preview = %q", l.Preview)
	}
	for _, s := range []string{"-- \nАнна Петрова", "Иван Петров пишет:", "> Предлагаем скидку 5%", ">> Старая переписка"} {
		if !strings.Contains(l.Text, s) {
			t.Errorf("Text lost %q: %q", s, l.Text)
		}
	}
	if l.InReplyTo != "offer.1@company.ru" || l.Subject != "Re: Скидка" {
		t.Errorf("InReplyTo %q Subject %q", l.InReplyTo, l.Subject)
	}
}

func TestParsePreviewIsCutAtTwoThousandCharacters(t *testing.T) {
	letter := func(body string) *mail.Letter {
		return mail.Parse([]byte("From: a@client.ru\r\nSubject: long\r\nContent-Type: text/plain; charset=utf-8\r\n"+
			"Content-Transfer-Encoding: 8bit\r\n\r\n"+body), mail.ParseOptions{})
	}
	for _, n := range []int{1999, 2000} {
		if l := letter(strings.Repeat("ж", n)); l.Preview != strings.Repeat("ж", n) {
			t.Errorf("%d characters: preview of %d characters, %q…", n, utf8.RuneCountInString(l.Preview), l.Preview[:20])
		}
	}
	for _, body := range []string{strings.Repeat("ж", 2001), strings.Repeat("ж", 3000), strings.Repeat("жжжжжжжжж\r\n", 400)} {
		l := letter(body)
		text := strings.ReplaceAll(body, "\r", "")
		if l.Preview != string([]rune(text)[:1999])+"…" {
			t.Errorf("%d bytes: preview of %d characters ending %q", len(body), utf8.RuneCountInString(l.Preview), l.Preview[len(l.Preview)-20:])
		}
		if l.Text != strings.TrimSpace(text) {
			t.Errorf("%d bytes: the text was cut too: %d characters", len(body), utf8.RuneCountInString(l.Text))
		}
	}
	// A quote under a long letter is not looked for: the preview is full anyway.
	l := letter(strings.Repeat("текст письма\r\n", 400) + "Иван Петров пишет:\r\n> старое\r\n")
	if !strings.HasSuffix(l.Preview, "…") || !strings.Contains(l.Text, "> старое") {
		t.Errorf("long letter with a quote: preview ends %q", l.Preview[len(l.Preview)-20:])
	}
}

func TestParseForwardedLetterPreviewEndsAtForwardedMessage(t *testing.T) {
	l := parseFile(t, "forwarded_gmail.eml")
	noProblems(t, l)
	if l.Preview != "Коллеги, посмотрите письмо клиента, нужен ответ сегодня." {
		t.Errorf("Preview = %q", l.Preview)
	}
	if !strings.Contains(l.Text, "В партии 4471 обнаружен брак.") || l.Subject != "Fwd: Претензия по партии 4471" {
		t.Errorf("Text %q Subject %q", l.Text, l.Subject)
	}
	if l.MessageID != "CAF=fwd.3@mail.gmail.com" {
		t.Errorf("MessageID = %q", l.MessageID)
	}
}

func TestParseOutlookRussianReplyHeaderEndsPreview(t *testing.T) {
	l := parseFile(t, "outlook_reply_russian_header.eml")
	noProblems(t, l)
	if l.Preview != "Договорились, жду счёт." {
		t.Errorf("Preview = %q", l.Preview)
	}
	if !strings.Contains(l.Text, "Отправлено: понедельник, 23 ноября 2026 г. 10:00\nКому:") || strings.Contains(l.Text, "\r") {
		t.Errorf("Text = %q", l.Text)
	}
	if l.Subject != "RE: Поставка ёмкостей" || l.To[0].Name != "Иван Петров" {
		t.Errorf("Subject %q To %+v", l.Subject, l.To)
	}
}

func TestParsePreviewEndsAtEveryKindOfReplyHeader(t *testing.T) {
	const own = "Спасибо, получили."
	for _, tc := range []struct{ name, tail string }{
		{"On ... wrote:", "On Mon, Nov 23, 2026 at 10:00 AM Ivan Petrov <ivan@x.ru> wrote:\n> old"},
		{"On ... wrote: wrapped by Gmail", "On Mon, Nov 23, 2026 at 10:00 AM Ivan Petrovich Sidorov-Ivanov <\nivan.petrovich@example-company.ru> wrote:\n\nold text"},
		{"Thunderbird пишет:", "23.11.2026 10:00, Иван Петров пишет:\nold"},
		{"Gmail in Russian", "пн, 23 нояб. 2026 г. в 10:00, Иван Петров <ivan@x.ru>:\n\nold"},
		{"Mail.ru", "Понедельник, 23 ноября 2026, 10:00 +03:00 от Иван <ivan@x.ru>:\nold"},
		{"Original Message", "-----Original Message-----\nFrom: Ivan\nold"},
		{"Исходное сообщение", "-------- Исходное сообщение --------\nОт: Иван\nold"},
		{"Пересылаемое сообщение", "----- Пересылаемое сообщение -----\nold"},
		{"Forwarded message", "---------- Forwarded message ---------\nFrom: Ivan <ivan@x.ru>\nold"},
		{"Apple Mail forward", "Begin forwarded message:\n\nFrom: Ivan\nold"},
		{"Outlook English", "From: Ivan Petrov <ivan@x.ru>\nSent: Monday, November 23, 2026 10:00 AM\nTo: Anna\nSubject: RE: offer\n\nold"},
		{"Outlook Russian", "От: Иван Петров <ivan@x.ru>\nОтправлено: 23 ноября 2026 г. 10:00\nКому: Анна\nТема: предложение\n\nold"},
		{"Outlook after a line of underscores", "________________________________\nОт: Иван Петров\nОтправлено: 23 ноября 2026 г. 10:00\n\nold"},
		{"Outlook bold header as text", "*From:* Ivan Petrov <ivan@x.ru>\n*Sent:* Monday, November 23, 2026 10:00\n\nold"},
		{"signature", "-- \nАнна Петрова\n+7 495 000-00-00"},
		{"quoted lines only", "> old\n>> older"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := own + "\n\n" + tc.tail + "\n"
			l := parseString("From: a@b.ru\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text)
			if l.Preview != own {
				t.Errorf("Preview = %q, want %q", l.Preview, own)
			}
			if l.Text != strings.TrimRight(text, "\n") {
				t.Errorf("Text = %q, want everything", l.Text)
			}
		})
	}
	t.Run("a From: line alone in the text is not a reply header", func(t *testing.T) {
		text := "From: our warehouse in Tver\nTo: your office in Moscow\nDelivery on Monday."
		if l := parseString("From: a@b.ru\r\n\r\n" + text); l.Preview != text {
			t.Errorf("Preview = %q", l.Preview)
		}
	})
	t.Run("at most 2000 characters", func(t *testing.T) {
		l := parseString("From: a@b.ru\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("Длинное письмо. ", 500))
		if n := utf8.RuneCountInString(l.Preview); n > 2000 || n < 1900 {
			t.Errorf("Preview has %d characters", n)
		}
		if utf8.RuneCountInString(l.Text) != 16*500-1 {
			t.Errorf("Text was cut: %d characters", utf8.RuneCountInString(l.Text))
		}
	})
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

func TestParseBoundaryNeverClosedKeepsTextAndWhatCameOfTheAttachment(t *testing.T) {
	l := parseFile(t, "broken_boundary_never_closed.eml")
	if l.Text != "Фото брака во вложении." || l.Subject != "Фото брака" {
		t.Errorf("Text %q Subject %q", l.Text, l.Subject)
	}
	if len(l.Attachments) != 1 || l.Attachments[0].Name != "brak.jpg" || !bytes.HasPrefix(l.Attachments[0].Content, []byte{0xFF, 0xD8, 0xFF}) {
		t.Errorf("the cut attachment: %+v", l.Attachments)
	}
	if !hasProblem(l, "closing boundary is missing") {
		t.Errorf("problems: %q", l.Problems)
	}
}

func TestParseBase64AttachmentsInEveryLineLayout(t *testing.T) {
	payload := make([]byte, 20000)
	for i := range payload {
		payload[i] = byte(i*7 + i/251)
	}
	enc := base64.StdEncoding.EncodeToString(payload)
	lines := func(widths ...int) string { // enc cut into lines of these widths, the last repeated
		var b strings.Builder
		for rest, i := enc, 0; rest != ""; i++ {
			w := min(widths[min(i, len(widths)-1)], len(rest))
			b.WriteString(rest[:w] + "\r\n")
			rest = rest[w:]
		}
		return b.String()
	}
	half := base64.StdEncoding.EncodeToString(payload[:10001]) // ends in padding
	cases := []struct {
		name, body string
		want       []byte
		junk       bool
	}{
		{"76 a line", lines(76), payload, false},
		{"75 a line: groups across lines", lines(75), payload, false},
		{"a short line among full ones", lines(76, 76, 10, 76), payload, false},
		{"one line", enc + "\r\n", payload, false},
		{"bare LF", strings.ReplaceAll(lines(76), "\r\n", "\n"), payload, false},
		{"padding mid-part (blocks run together)", half + "\r\n" + base64.StdEncoding.EncodeToString(payload[10001:]) + "\r\n",
			payload, false},
		{"a stray character", lines(76)[:300] + "!" + lines(76)[300:], payload, true},
		{"blank lines", strings.ReplaceAll(lines(76), "\r\n", "\r\n\r\n"), payload, false},
	}
	for _, c := range cases {
		raw := "From: a@client.ru\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\nсм. вложение\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n" +
			"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n" + c.body + "--b--\r\n"
		l := mail.Parse([]byte(raw), mail.ParseOptions{})
		if len(l.Attachments) != 1 || !bytes.Equal(l.Attachments[0].Content, c.want) {
			t.Errorf("%s: attachments %d, content differs", c.name, len(l.Attachments))
		}
		if hasProblem(l, "not base64") != c.junk {
			t.Errorf("%s: problems %q", c.name, l.Problems)
		}
	}
}

func TestParseBadBase64SkipsStrayCharactersAndKeepsTheText(t *testing.T) {
	l := parseFile(t, "broken_bad_base64.eml")
	if l.Text != "Добрый день! Оплату произвели сегодня, платёжка во вложении." {
		t.Errorf("Text = %q", l.Text)
	}
	if !hasProblem(l, "not base64") {
		t.Errorf("problems: %q", l.Problems)
	}
}

func TestParseLettersWithMissingOrNoHeaders(t *testing.T) {
	l := parseFile(t, "missing_headers.eml")
	if l.MessageID != "" || l.From != (mail.Address{}) || !l.Date.IsZero() || l.Subject != "" || l.Text != "Письмо без отправителя и даты." {
		t.Errorf("missing headers: %+v", l)
	}
	l = parseFile(t, "headers_only.eml")
	if l.Subject != "Только заголовки" || l.MessageID != "headers-only@vector.ru" || l.Text != "" || l.Preview != "" || len(l.Attachments) != 0 {
		t.Errorf("only headers: %+v", l)
	}
	l = parseFile(t, "empty.eml")
	if l.Hash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" || !hasProblem(l, "empty") {
		t.Errorf("0 bytes: %+v", l)
	}
	l = parseString("просто текст без заголовков\nвторая строка")
	if l.Text != "просто текст без заголовков\nвторая строка" || !hasProblem(l, "no header") {
		t.Errorf("no header at all: Text %q problems %q", l.Text, l.Problems)
	}
	l = parseString("From a@b.ru Mon Nov 23 10:00:00 2026\nFrom: a@b.ru\nSubject: mbox\n\nтело")
	if l.From.Email != "a@b.ru" || l.Subject != "mbox" || l.Text != "тело" {
		t.Errorf("an mbox From line: %+v", l)
	}
	l = parseString("From: a@b.ru\r\nSubject: no blank line\r\nТекст письма сразу после заголовков\r\n")
	if l.Subject != "no blank line" || l.Text != "Текст письма сразу после заголовков" {
		t.Errorf("no blank line after the header: %+v", l)
	}
}

func TestParseUnknownCharsetAndRaw8BitHeadersAreReadAsWindows1251(t *testing.T) {
	l := parseFile(t, "unknown_charset_windows1251_text.eml")
	if l.Text != "Высылаем акт сверки за третий квартал." || l.Subject != "Акт сверки" {
		t.Errorf("Text %q Subject %q", l.Text, l.Subject)
	}
	if len(l.Attachments) != 1 || l.Attachments[0].Name != "Акт сверки.doc" {
		t.Errorf("attachments: %+v", l.Attachments)
	}
	if !hasProblem(l, `unknown charset "x-user-defined-rus"`) {
		t.Errorf("problems: %q", l.Problems)
	}
	if want := moscow(2026, 11, 23, 16, 0); !l.Date.Equal(want) {
		t.Errorf("Date without a weekday and seconds = %v", l.Date)
	}
	// An unknown charset on text that is valid UTF-8 stays UTF-8.
	l = parseString("From: a@b.ru\r\nContent-Type: text/plain; charset=x-strange\r\n\r\nПривет")
	if l.Text != "Привет" || !hasProblem(l, "unknown charset") {
		t.Errorf("UTF-8 under an unknown charset: %q %q", l.Text, l.Problems)
	}
	// No charset at all on KOI8-R text: the letter case tells it from windows-1251.
	koi, _ := charmap.KOI8R.NewEncoder().String("Добрый день, высылаем счёт")
	l = parseString("From: a@b.ru\r\n\r\n" + koi)
	if l.Text != "Добрый день, высылаем счёт" {
		t.Errorf("KOI8-R without a charset: %q", l.Text)
	}
}

func TestParseInlineImageWithoutNameGetsNumberedNameAndExtension(t *testing.T) {
	l := parseFile(t, "html_inline_image_without_name_and_invitation.eml")
	noProblems(t, l)
	if len(l.Attachments) != 2 {
		t.Fatalf("attachments: %+v", l.Attachments)
	}
	if a := l.Attachments[0]; a.Name != "attachment-1.ics" || a.MIME != "text/calendar" || !strings.HasPrefix(string(a.Content), "BEGIN:VCALENDAR") {
		t.Errorf("the invitation: %q %q %q", a.Name, a.MIME, a.Content)
	}
	if a := l.Attachments[1]; a.Name != "attachment-2.png" || a.MIME != "image/png" || !bytes.HasPrefix(a.Content, []byte("\x89PNG")) {
		t.Errorf("the inline image: %q %q", a.Name, a.MIME)
	}
	if l.Text != "See you on Monday.\n\n> old quoted text" || l.Preview != "See you on Monday." {
		t.Errorf("Text %q Preview %q", l.Text, l.Preview)
	}
}

func TestParseAttachmentNamesInEveryEncoding(t *testing.T) {
	name := "Прайс 2026.xls"
	pct := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
		return b.String()
	}
	koi, _ := charmap.KOI8R.NewEncoder().String(name)
	for _, tc := range []struct{ name, header string }{
		{"RFC 2231 UTF-8", "Content-Disposition: attachment; filename*=UTF-8''" + pct(name)},
		{"RFC 2231 windows-1251 with a language", "Content-Disposition: attachment; filename*=windows-1251'ru'" + pct(cp1251(name))},
		{"RFC 2231 KOI8-R continuations", "Content-Disposition: attachment; filename*0*=koi8-r''" + pct(koi[:5]) + "; filename*1*=" + pct(koi[5:]) + "; filename*2=\"\""},
		{"RFC 2047 windows-1251 in quotes", "Content-Disposition: attachment; filename=\"=?windows-1251?B?" + b64(cp1251(name)) + "?=\""},
		{"RFC 2047 split into two words", "Content-Disposition: attachment; filename=\"=?UTF-8?B?" + b64("Прайс") + "?= =?UTF-8?B?" + b64(" 2026.xls") + "?=\""},
		{"only a name in Content-Type", "Content-Type: application/vnd.ms-excel; name=\"=?koi8-r?Q?" + strings.ReplaceAll(pct(koi), "%", "=") + "?=\""},
		{"raw UTF-8", "Content-Disposition: attachment; filename=\"" + name + "\""},
		{"raw windows-1251 without quotes", "Content-Disposition: attachment; filename=" + cp1251(name)},
		{"a Windows path", "Content-Disposition: attachment; filename=\"C:\\Users\\anna\\Desktop\\" + name + "\""},
		{"filename* wins over filename", "Content-Disposition: attachment; filename=\"price.xls\"; filename*=utf-8''" + pct(name)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := "Content-Type: application/vnd.ms-excel\r\n"
			if strings.HasPrefix(tc.header, "Content-Type") {
				ct = ""
			}
			l := parseString("From: a@b.ru\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nтекст\r\n--x\r\n" +
				ct + tc.header + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("xls") + "\r\n--x--\r\n")
			if len(l.Attachments) != 1 || l.Attachments[0].Name != name || string(l.Attachments[0].Content) != "xls" {
				t.Errorf("attachments %+v problems %q", l.Attachments, l.Problems)
			}
		})
	}
}

func TestParseEncodedWordsInSubjectBestEffort(t *testing.T) {
	utf := []byte("Счёт")
	for _, tc := range []struct{ name, subject, want string }{
		{"plain", "Re: price", "Re: price"},
		{"B without padding", "=?UTF-8?B?" + strings.TrimRight(b64("Счёт на оплату"), "=") + "?=", "Счёт на оплату"},
		{"Q lower case with underscores", "=?utf-8?q?" + "=D0=A1=D1=87=D1=91=D1=82_=E2=84=9615" + "?=", "Счёт №15"},
		{"a character split between two words", "=?UTF-8?B?" + base64.StdEncoding.EncodeToString(utf[:3]) + "?= =?UTF-8?B?" + base64.StdEncoding.EncodeToString(utf[3:]) + "?=", "Счёт"},
		{"two charsets and text around", "Fwd: =?windows-1251?B?" + b64(cp1251("Акт")) + "?= =?koi8-r?B?" + b64(func() string { s, _ := charmap.KOI8R.NewEncoder().String(" сверки"); return s }()) + "?= (2)", "Fwd: Акт сверки (2)"},
		{"RFC 2231 language in the word", "=?utf-8*ru?B?" + b64("Привет") + "?=", "Привет"},
		{"unknown charset guessed", "=?x-cp-rus?B?" + b64(cp1251("Привет")) + "?=", "Привет"},
		{"not an encoded word", "=?what is this?=", "=?what is this?="},
		{"raw UTF-8", "Коммерческое предложение", "Коммерческое предложение"},
		{"raw windows-1251", cp1251("Коммерческое предложение"), "Коммерческое предложение"},
		{"folded", "=?UTF-8?B?" + b64("Длинная ") + "?=\r\n =?UTF-8?B?" + b64("тема") + "?=", "Длинная тема"},
		{"control characters", "a\tb\x00c", "a b c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString("From: a@b.ru\r\nSubject: " + tc.subject + "\r\n\r\nx")
			if l.Subject != tc.want {
				t.Errorf("Subject = %q, want %q (problems %q)", l.Subject, tc.want, l.Problems)
			}
		})
	}
}

func TestParseAddressListsKeepWhatCanBeRead(t *testing.T) {
	for _, tc := range []struct {
		name, to string
		want     []mail.Address
		problem  bool
	}{
		{"ordinary", "Anna <Anna@Romashka.ru>, \"Petrov, Ivan\" <ivan@vector.ru>",
			[]mail.Address{{"Anna", "anna@romashka.ru"}, {"Petrov, Ivan", "ivan@vector.ru"}}, false},
		{"encoded name", "=?utf-8?B?" + b64("Анна") + "?= <anna@romashka.ru>", []mail.Address{{"Анна", "anna@romashka.ru"}}, false},
		{"encoded word inside quotes", "\"=?utf-8?B?" + b64("Анна") + "?=\" <anna@romashka.ru>", []mail.Address{{"Анна", "anna@romashka.ru"}}, false},
		{"group with no members", "undisclosed-recipients:;", nil, false},
		{"semicolons", "anna@romashka.ru; ivan@vector.ru", []mail.Address{{"", "anna@romashka.ru"}, {"", "ivan@vector.ru"}}, true},
		{"address as an unquoted name", "ivan@vector.ru <ivan@vector.ru>, Anna <anna@romashka.ru>",
			[]mail.Address{{"ivan@vector.ru", "ivan@vector.ru"}, {"Anna", "anna@romashka.ru"}}, true},
		{"garbage between good ones", "anna@romashka.ru, <<<>>>, Ivan <IVAN@VECTOR.RU>", []mail.Address{{"", "anna@romashka.ru"}, {"Ivan", "ivan@vector.ru"}}, true},
		{"raw windows-1251 name", cp1251("Анна Петрова") + " <anna@romashka.ru>", []mail.Address{{"Анна Петрова", "anna@romashka.ru"}}, true},
		{"unknown charset in the name", "=?x-unknown?B?" + b64(cp1251("Анна")) + "?= <anna@romashka.ru>", []mail.Address{{"Анна", "anna@romashka.ru"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString("From: a@b.ru\r\nTo: " + tc.to + "\r\n\r\nx")
			if !slices.Equal(l.To, tc.want) {
				t.Errorf("To = %+v, want %+v", l.To, tc.want)
			}
			if got := len(l.Problems) > 0; got != tc.problem {
				t.Errorf("problems %q, want some: %v", l.Problems, tc.problem)
			}
		})
	}
}

func TestParseDatesInSeveralFormatsToUTC(t *testing.T) {
	want := moscow(2026, 11, 23, 10, 0)
	for _, tc := range []struct {
		date string
		want time.Time
	}{
		{"Mon, 23 Nov 2026 10:00:00 +0300", want},
		{"Mon, 23 Nov 2026 10:00:00 +0300 (MSK)", want},
		{"Mon, 23 Nov 2026 10:00:00 MSK", want},
		{"23 Nov 2026 10:00 +0300", want},
		{"Mon, 23 Nov 26 10:00:00 +0300", want},
		{"Mon, 23 Nov 2026 07:00:00 GMT", want},
		{"Monday, 23 Nov 2026 10:00:00 +0300", want},
		{"Mon, 23 Nov 2026 10:00:00 +03:00", want},
		{"2026-11-23T10:00:00+03:00", want},
		{"2026-11-23 07:00:00", want},
		{"23.11.2026 10:00:00 +0300", want},
		{"Mon Nov 23 07:00:00 2026", want},
		{"", time.Time{}},
		{"вчера вечером", time.Time{}},
	} {
		l := parseString("From: a@b.ru\r\nDate: " + tc.date + "\r\n\r\nx")
		if !l.Date.Equal(tc.want) || (!l.Date.IsZero() && l.Date.Location() != time.UTC) {
			t.Errorf("Date %q = %v, want %v", tc.date, l.Date, tc.want)
		}
		if tc.date == "вчера вечером" && !hasProblem(l, "Date") {
			t.Errorf("an unreadable date is not noted: %q", l.Problems)
		}
	}
}

func TestParseMessageIDsWithoutAngleBrackets(t *testing.T) {
	l := parseString("Message-ID: <ABC.123@Mail.Romashka.ru>\r\nIn-Reply-To: <prev@x.ru> (Anna's message of Monday)\r\n" +
		"References: <a@x.ru> <b@x.ru>\r\n\t<c@x.ru>\r\n\r\nx")
	if l.MessageID != "ABC.123@Mail.Romashka.ru" || l.InReplyTo != "prev@x.ru" || !slices.Equal(l.References, []string{"a@x.ru", "b@x.ru", "c@x.ru"}) {
		t.Errorf("ids: %q %q %q", l.MessageID, l.InReplyTo, l.References)
	}
	l = parseString("Message-ID: 12345.JavaMail.root@host\r\nReferences: <no-at-sign> <x@y> broken<\r\n\r\nx")
	if l.MessageID != "12345.JavaMail.root@host" || !slices.Equal(l.References, []string{"no-at-sign", "x@y"}) {
		t.Errorf("broken ids: %q %q", l.MessageID, l.References)
	}
}

func TestParseFormatFlowedTextIsJoined(t *testing.T) {
	l := parseString("From: a@b.ru\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n" +
		"Это длинная строка, которую \r\nпочтовик разбил на две.\r\n\r\n> цитата, тоже \r\n> разбитая\r\n-- \r\nподпись\r\n")
	want := "Это длинная строка, которую почтовик разбил на две.\n\n> цитата, тоже разбитая\n-- \nподпись"
	if l.Text != want {
		t.Errorf("Text = %q\nwant   %q", l.Text, want)
	}
}

func TestParseBrokenMIMEStructures(t *testing.T) {
	for _, tc := range []struct{ name, raw, text, problem string }{
		{"multipart without a boundary parameter",
			"Content-Type: multipart/mixed\r\n\r\n--zz\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nтекст\r\n--zz--\r\n", "текст", "without a boundary"},
		{"boundary that never appears",
			"Content-Type: multipart/mixed; boundary=nope\r\n\r\nпросто текст\r\n", "просто текст", "no part starts"},
		{"a part with a broken header line",
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nмусор в заголовке\r\nContent-Transfer-Encoding: 8bit\r\n\r\nтекст\r\n--b--\r\n", "текст", "header lines skipped"},
		{"LF and CRLF mixed",
			"Content-Type: multipart/alternative; boundary=b\n\n--b\r\nContent-Type: text/plain; charset=utf-8\n\nтекст\r\n--b\nContent-Type: text/html\r\n\r\n<p>html</p>\n--b--\n", "текст", ""},
		{"unknown transfer encoding",
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nтекст", "текст", "Content-Transfer-Encoding"},
		{"garbage Content-Type",
			"Content-Type: ;;;\r\n\r\nтекст", "текст", ""},
		{"an unclosed quote in a parameter",
			"Content-Type: text/plain; charset=\"windows-1251\r\n\r\n" + cp1251("текст"), "текст", ""},
		{"a header field named in Russian among good ones",
			"From: a@b.ru\r\nТема: привет\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nтекст", "текст", "header lines skipped"},
		{"parameters without values and duplicates",
			"Content-Type: text/plain; charset=utf-8; charset=koi8-r; format; =x\r\n\r\nтекст", "текст", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString(tc.raw)
			if l.Text != tc.text {
				t.Errorf("Text = %q, want %q (problems %q)", l.Text, tc.text, l.Problems)
			}
			if tc.problem != "" && !hasProblem(l, tc.problem) {
				t.Errorf("problems %q, want one about %q", l.Problems, tc.problem)
			}
		})
	}
	t.Run("nesting deeper than the limit", func(t *testing.T) {
		raw := "Content-Type: text/plain\r\n\r\nдно"
		for i := range 40 {
			b := "b" + strings.Repeat("x", i)
			raw = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + raw + "\r\n--" + b + "--\r\n"
		}
		l := parseString(raw)
		if !hasProblem(l, "nested deeper") {
			t.Errorf("problems %q", l.Problems)
		}
	})
}

// bigLetter is a letter with a text part and a base64 attachment of size bytes.
func bigLetter(size int) []byte {
	var buf bytes.Buffer
	buf.Grow(size*4/3 + size/25 + 1024)
	buf.WriteString("Message-ID: <big@vector.ru>\r\nFrom: ivan@vector.ru\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nВидео с объекта во вложении.\r\n--B\r\n" +
		"Content-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"object.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	chunk := make([]byte, 57)
	line := make([]byte, 76)
	for off := 0; off < size; off += 57 {
		n := min(57, size-off)
		for i := range n {
			chunk[i] = byte(off + i)
		}
		base64.StdEncoding.Encode(line, chunk[:n])
		buf.Write(line[:base64.StdEncoding.EncodedLen(n)])
		buf.WriteString("\r\n")
	}
	buf.WriteString("--B--\r\n")
	return buf.Bytes()
}

func TestParse30MBAttachmentIsCountedButNotStored(t *testing.T) {
	const size = 30 << 20
	raw := bigLetter(size)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	l := mail.Parse(raw, mail.ParseOptions{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("parsed a %d MB letter in %v, allocating %d MB", len(raw)>>20, elapsed, (after.TotalAlloc-before.TotalAlloc)>>20)
	if len(l.Attachments) != 1 {
		t.Fatalf("attachments: %+v", len(l.Attachments))
	}
	a := l.Attachments[0]
	if a.Size != size || a.Content != nil || a.NotStored != "larger than 10 MB" || a.Name != "object.mp4" {
		t.Errorf("attachment: name %q size %d content %d bytes, NotStored %q", a.Name, a.Size, len(a.Content), a.NotStored)
	}
	if l.Text != "Видео с объекта во вложении." || len(l.Problems) != 0 {
		t.Errorf("Text %q problems %q", l.Text, l.Problems)
	}
	// About the limit is held while the rest is counted, not the 30 MB (nor 3 times
	// it); the margin is for whatever else the test binary allocates meanwhile.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 25<<20 {
		t.Errorf("Parse allocated %d MB for a 30 MB attachment with a 10 MB limit", alloc>>20)
	}
}

func TestParseMaxAttachmentKeepsContentUpToTheLimitExactly(t *testing.T) {
	raw := bigLetter(1000)
	if a := mail.Parse(raw, mail.ParseOptions{MaxAttachment: 1000}).Attachments[0]; a.Size != 1000 || len(a.Content) != 1000 || a.NotStored != "" {
		t.Errorf("at the limit: size %d content %d %q", a.Size, len(a.Content), a.NotStored)
	}
	if a := mail.Parse(raw, mail.ParseOptions{MaxAttachment: 999}).Attachments[0]; a.Size != 1000 || a.Content != nil || a.NotStored != "larger than 999 bytes" {
		t.Errorf("one byte over: size %d content %d %q", a.Size, len(a.Content), a.NotStored)
	}
	if a := mail.Parse(raw, mail.ParseOptions{MaxAttachment: 512}).Attachments[0]; a.NotStored != "larger than 512 bytes" {
		t.Errorf("NotStored = %q", a.NotStored)
	}
}

func TestParseGeneratedMailboxLettersWithoutProblems(t *testing.T) {
	for i, raw := range imaptest.GenerateLetters(60, 7) {
		l := mail.Parse(raw, mail.ParseOptions{})
		if len(l.Problems) > 0 || l.MessageID != imaptest.MessageID(i, 7, false) || l.Subject == "" || l.From.Name == "" || l.Text == "" || l.Date.IsZero() {
			t.Fatalf("letter %d: id %q subject %q from %+v problems %q", i, l.MessageID, l.Subject, l.From, l.Problems)
		}
		if strings.Contains(l.Subject, "=?") || strings.Contains(l.From.Name, "=?") || !utf8.ValidString(l.Text) {
			t.Fatalf("letter %d not decoded: %q %q", i, l.Subject, l.From.Name)
		}
		for _, a := range l.Attachments {
			if !strings.HasPrefix(a.Name, "Счёт_") || !bytes.HasPrefix(a.Content, []byte("%PDF")) {
				t.Fatalf("letter %d attachment %q", i, a.Name)
			}
		}
	}
}

func BenchmarkParseGeneratedLetters(b *testing.B) {
	letters := imaptest.GenerateLetters(200, 3)
	size := 0
	for _, raw := range letters {
		size += len(raw)
	}
	b.SetBytes(int64(size / len(letters)))
	b.ResetTimer()
	for i := range b.N {
		mail.Parse(letters[i%len(letters)], mail.ParseOptions{})
	}
}
