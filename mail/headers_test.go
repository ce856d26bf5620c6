package mail_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"golang.org/x/text/encoding/charmap"
)

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
