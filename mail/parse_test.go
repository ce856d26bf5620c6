package mail_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crm-team/crm/mail"
	"golang.org/x/text/encoding/charmap"
)

func cp1251(s string) string {
	b, _ := charmap.Windows1251.NewEncoder().String(s)
	return b
}

func koi8(s string) string {
	b, _ := charmap.KOI8R.NewEncoder().String(s)
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseWindows1251WithRussianAttachmentName(t *testing.T) {
	raw := "Message-ID: <1@romashka.ru>\r\nFrom: =?windows-1251?B?" + b64(cp1251("Анна")) + "?= <Anna@Romashka.ru>\r\n" +
		"To: sales@company.ru\r\nSubject: =?windows-1251?B?" + b64(cp1251("Счёт на оплату")) + "?=\r\n" +
		"Date: Mon, 23 Nov 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(cp1251("Добрый день! Счёт во вложении.")) + "\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?windows-1251?B?" + b64(cp1251("счёт.pdf")) + "?=\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64("%PDF-1.4") + "\r\n--b1--\r\n"
	l := mail.Parse([]byte(raw), mail.ParseOptions{})
	if l.Subject != "Счёт на оплату" || l.From.Email != "anna@romashka.ru" || l.From.Name != "Анна" || l.MessageID != "1@romashka.ru" {
		t.Fatalf("headers: %+v", l)
	}
	if !strings.Contains(l.Text, "Счёт во вложении") || l.Date.Hour() != 7 {
		t.Fatalf("text %q date %v", l.Text, l.Date)
	}
	if len(l.Attachments) != 1 || l.Attachments[0].Name != "счёт.pdf" || string(l.Attachments[0].Content) != "%PDF-1.4" {
		t.Fatalf("attachments: %+v", l.Attachments)
	}
}

func TestParseKOI8RAndHTMLOnly(t *testing.T) {
	raw := "From: petr@vector.ru\r\nSubject: =?koi8-r?B?" + b64(koi8("Привет")) + "?=\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n" + koi8("Текст в KOI8-R") + "\r\n"
	l := mail.Parse([]byte(raw), mail.ParseOptions{})
	if l.Subject != "Привет" || !strings.Contains(l.Text, "Текст в KOI8-R") || l.MessageID != "" || l.Hash == "" {
		t.Fatalf("koi8: %+v", l)
	}
	raw = "From: a@b.ru\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>Строка&nbsp;1</p><p>Строка 2<br>Строка 3</p><script>x()</script></body></html>"
	l = mail.Parse([]byte(raw), mail.ParseOptions{})
	if l.Text != "Строка\u00a01\n\nСтрока 2\nСтрока 3" && !strings.Contains(l.Text, "Строка 2\nСтрока 3") {
		t.Fatalf("html text: %q", l.Text)
	}
	if strings.Contains(l.Text, "x()") || strings.Contains(l.Text, "p{}") {
		t.Fatalf("script or style kept: %q", l.Text)
	}
}

func TestParsePreviewTrimsQuotesButTextKeepsThem(t *testing.T) {
	body := "Согласны, присылайте договор.\n\n--\nАнна\n\n23.11.2026, 10:00, Иван пишет:\n> Предлагаем скидку\n"
	l := mail.Parse([]byte("From: a@b.ru\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+body), mail.ParseOptions{})
	if l.Preview != "Согласны, присылайте договор." || !strings.Contains(l.Text, "Предлагаем скидку") {
		t.Fatalf("preview %q text %q", l.Preview, l.Text)
	}
	l = mail.Parse([]byte("From: a@b.ru\r\n\r\nКоротко.\r\n\r\nОт: Иван <i@x.ru>\r\nОтправлено: пн\r\nСтарое\r\n"), mail.ParseOptions{})
	if l.Preview != "Коротко." {
		t.Fatalf("outlook preview %q", l.Preview)
	}
}

func TestParseDeliveryStatusBounce(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.company.ru\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n" +
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.company.ru\r\n\r\n" +
		"Final-Recipient: rfc822; Gone@Romashka.ru\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n" +
		"--r--\r\n"
	l := mail.Parse([]byte(raw), mail.ParseOptions{})
	if l.Bounce == nil || len(l.Bounce.Recipients) != 1 || l.Bounce.Recipients[0] != "gone@romashka.ru" || l.Bounce.Status != "5.1.1" || l.Bounce.Action != "failed" {
		t.Fatalf("bounce: %+v", l.Bounce)
	}
}

func TestParseBrokenLettersAndHugeAttachment(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":           "",
		"headers only":    "From: a@b.ru\r\nSubject: x\r\n",
		"no headers":      "просто текст без заголовков",
		"open boundary":   "From: a@b.ru\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nначало",
		"bad base64":      "From: a@b.ru\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@###\r\n",
		"bad address":     "From: <<<>>>\r\nTo: ,,,@@\r\n\r\nx",
		"unknown charset": "From: a@b.ru\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n" + cp1251("Привет") + "\r\n",
	} {
		l := mail.Parse([]byte(raw), mail.ParseOptions{})
		if l == nil || l.Hash == "" || !utf8.ValidString(l.Text) || !utf8.ValidString(l.Subject) {
			t.Fatalf("%s: %+v", name, l)
		}
		if name == "unknown charset" && !strings.Contains(l.Text, "Привет") {
			t.Fatalf("unknown charset read as %q", l.Text)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("From: a@b.ru\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nВложение\r\n--B\r\n")
	buf.WriteString("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	chunk := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 57)) + "\r\n"
	for range 30 << 20 / 57 {
		buf.WriteString(chunk)
	}
	buf.WriteString("--B--\r\n")
	l := mail.Parse(buf.Bytes(), mail.ParseOptions{})
	if len(l.Attachments) != 1 || l.Attachments[0].Size < 29<<20 || l.Attachments[0].Content != nil || l.Attachments[0].NotStored == "" {
		t.Fatalf("30 MB attachment: %+v", l.Attachments)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b.ru\r\nSubject: =?koi8-r?B?" + b64(koi8("Тест")) + "?=\r\n\r\nтело"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>a</p>\r\n--x--"))
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b\r\n--r--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		l := mail.Parse(raw, mail.ParseOptions{MaxAttachment: 1 << 10})
		if l == nil || l.Hash == "" {
			t.Fatal("no letter")
		}
		for _, s := range []string{l.Subject, l.Text, l.Preview, l.From.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
	})
}
