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
