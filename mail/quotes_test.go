package mail_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crm-team/crm/mail"
)

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
