package mail_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/crm-team/crm/mail"
)

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
