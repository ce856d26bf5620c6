package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/crm-team/crm/store"
)

// linked stores a letter of a client, with its files' content, as the mailbox does.
func (w *world) linked(c *store.Client, l *store.Letter, files map[string][]byte) *store.Letter {
	w.t.Helper()
	ctx := context.Background()
	if l.ID == "" {
		l.ID = store.LetterID(l.MessageID, "")
	}
	var fs []*store.File
	for i := range l.Attachments {
		a := &l.Attachments[i]
		a.FileID = fmt.Sprintf("%s/%d", l.ID, i)
		fs = append(fs, &store.File{ID: a.FileID, LetterID: l.ID, Name: a.Name, MIME: a.MIME, Size: a.Size, Kind: "attachment",
			Data: files[a.Name], NotStored: a.NotStored, By: "mail"})
	}
	if err := w.st.SaveFiles(ctx, fs); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
		w.t.Fatal(err)
	}
	if err := w.st.LinkLetter(ctx, "mail", l, c.ID); err != nil {
		w.t.Fatal(err)
	}
	return l
}

// The card's letters say, a line each, who wrote (the contact by name, the colleague
// for a sent letter), the address, the date in the manager's zone, the subject and
// the files by name and size.
func TestCardLettersShowWhoWhenSubjectAndFiles(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Asia/Novosibirsk") // UTC+7
	if _, err := w.st.UpdateManager(ctx, "test", anna.m.ID, map[string]any{"email": "anna@company.ru"}); err != nil {
		t.Fatal(err)
	}
	c := w.client(&store.Client{Name: "Завод", ManagerID: anna.m.ID, Contacts: map[string]store.Contact{
		"p": {Name: "Пётр Сидоров", Emails: []string{"petr@zavod.ru"}}}})
	w.linked(c, &store.Letter{MessageID: "in@x", Subject: "Смета <срочно>", From: store.MailAddress{Name: "P. Sidorov", Email: "petr@zavod.ru"},
		Date: time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC), Text: "Добрый день",
		Attachments: []store.LetterAttachment{{Name: "смета.pdf", Size: 12 << 10}, {Name: "чертёж.dwg", Size: 40 << 20, NotStored: "larger than 10 MB"}}},
		map[string][]byte{"смета.pdf": []byte("pdf")})
	w.linked(c, &store.Letter{MessageID: "out@x", Subject: "Re: Смета", From: store.MailAddress{Email: "anna@company.ru"},
		To: []store.MailAddress{{Email: "boss@company.ru"}, {Email: "Petr@Zavod.ru"}}, Date: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC), Outgoing: true, Text: "Высылаю"}, nil)
	w.linked(c, &store.Letter{MessageID: "new@x", Subject: "Вопрос", From: store.MailAddress{Name: "Ольга", Email: "olga@zavod.ru"},
		Date: time.Date(2025, 6, 30, 20, 0, 0, 0, time.UTC)}, nil)

	anna.send("Завод")
	got := anna.tap("Письма")
	lines := strings.Split(got, "\n")
	want := []string{
		"<b>Письма: Завод</b>",
		"",
		"1. 📨 Ольга &lt;olga@zavod.ru&gt; · 01.07.2025 03:00",
		"   <b>Вопрос</b>",
		"",
		"2. 📤 Анна → Пётр Сидоров &lt;petr@zavod.ru&gt; · 21.11 15:00",
		"   <b>Re: Смета</b>",
		"",
		"3. 📨 Пётр Сидоров &lt;petr@zavod.ru&gt; · 20.11 17:05",
		"   <b>Смета &lt;срочно&gt;</b>",
		"   📎 смета.pdf (12 KB), чертёж.dwg (40.0 MB)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("letters:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	read := anna.tap("📖 3")
	anna.expect(read, "Смета &lt;срочно&gt;", "От: P. Sidorov &lt;petr@zavod.ru&gt;", "Дата: пт 20.11.2026 17:05", "Добрый день")
	anna.refuse(read, "Страница")
	var kept, large string
	for _, b := range anna.buttons() {
		if name, data, _ := strings.Cut(b, "="); strings.Contains(name, "смета.pdf") {
			kept = data
		} else if strings.Contains(name, "чертёж.dwg (40.0 MB)") {
			large = data
		}
	}
	anna.expect(anna.tapData(kept), "[document] смета.pdf")
	if doc := anna.last[len(anna.last)-1].Document; doc == nil || doc.Load == nil {
		t.Fatalf("no content to send: %+v", anna.last)
	} else if b, err := doc.Load(ctx); err != nil || string(b) != "pdf" {
		t.Fatalf("the file sent: %q %v", b, err)
	}
	anna.expect(anna.tapData(large), "[notice] Файла «чертёж.dwg» нет в CRM")
}

// A long letter reads page by page, each page within Telegram's limit, the pages
// together the whole text.
func TestLongLetterReadsPageByPage(t *testing.T) {
	w := newWorld(t)
	anna := w.manager("Анна", store.RoleManager, "en", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Plant", ManagerID: anna.m.ID})
	var text strings.Builder
	for i := range 180 {
		fmt.Fprintf(&text, "Line %03d: prices <b>&</b> terms, quoted “as is” — a sentence long enough to fill a page.\n", i)
	}
	// A header as long as it gets: a long subject, many recipients and files, all
	// with characters HTML escapes.
	l := &store.Letter{MessageID: "long@x", Subject: "Price list " + strings.Repeat("<&>", 100), Date: testNow, Text: text.String(),
		From: store.MailAddress{Name: strings.Repeat("\"Buyer\" ", 30), Email: "buyer@plant.com"}}
	for i := range 30 {
		l.To = append(l.To, store.MailAddress{Name: "<Sales & Co>", Email: fmt.Sprintf("sales%d@plant.com", i)})
		l.Attachments = append(l.Attachments, store.LetterAttachment{Name: fmt.Sprintf("%s %d.pdf", strings.Repeat("<&>", 20), i), Size: 1 << 20})
	}
	w.linked(c, l, nil)
	anna.send("Plant")
	anna.tap("E-mails")
	page := anna.tap("📖 1")
	var seen []string
	n := 1
	for ; ; n++ {
		if units := len(utf16.Encode([]rune(page))); units > 4096 {
			t.Fatalf("page %d is %d UTF-16 units long", n, units)
		}
		if !strings.Contains(page, fmt.Sprintf("Page %d of ", n)) {
			t.Fatalf("page %d:\n%s", n, page)
		}
		for _, l := range strings.Split(page, "\n") {
			if strings.HasPrefix(l, "Line ") {
				seen = append(seen, l)
			}
		}
		next := fmt.Sprintf("%d ▶", n+1)
		if !strings.Contains(strings.Join(anna.buttons(), " "), next) {
			break
		}
		page = anna.tap(next)
	}
	if len(seen) != 180 || !strings.HasPrefix(seen[0], "Line 000: prices &lt;b&gt;&amp;&lt;/b&gt;") || !strings.HasPrefix(seen[179], "Line 179") {
		t.Fatalf("the pages hold %d lines, first %q", len(seen), seen[0])
	}
	for i, l := range seen {
		if !strings.HasPrefix(l, fmt.Sprintf("Line %03d:", i)) {
			t.Fatalf("line %d of the pages is %q", i, l)
		}
	}
	if n < 3 {
		t.Fatalf("%d pages: the test reads too short a letter", n)
	}
	if back := anna.tap("◀"); !strings.Contains(back, fmt.Sprintf("Page %d of %d", n-1, n)) {
		t.Fatalf("back one page from %d:\n%s", n, back)
	}
}

// Creating a client from a letter moves every letter waiting from its sender and its
// company domain into the new client's history; a free mail service's domain is no
// company's, and other senders wait on.
func TestNewClientFromALetterTakesTheSendersWaitingLetters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	first := w.queue("1@x", "olga@vector.ru", "Договор")
	w.queue("2@x", "olga@vector.ru", "Счёт")
	w.queue("3@x", "ivan@vector.ru", "Доставка")
	w.queue("4@x", "olga@gmail.com", "Личное")
	spam := w.queue("5@x", "spam@ads.example", "Скидки")

	anna.send("/inbox")
	anna.expect(anna.tap("📖 1"), "Договор", "olga@vector.ru", "Здравствуйте")
	anna.tap("Новый клиент")
	anna.tap("компания")
	anna.send("Вектор")
	for range 4 {
		if strings.Contains(anna.text(), "Проверьте") {
			break
		}
		anna.tap("Пропустить")
	}
	anna.expect(anna.tap("Сохранить"), "создан", "«Договор» добавлено в историю", "перенесено писем: 2")
	hit, err := w.st.FindByEmail(ctx, "olga@vector.ru")
	if err != nil {
		t.Fatal(err)
	}
	items, _, _ := w.st.Timeline(ctx, hit.Client.ID, 0, 10)
	var subjects []string
	for _, it := range items {
		subjects = append(subjects, it.Mail.Subject)
	}
	if len(items) != 3 || items[2].Mail.LetterID != first.ID || !strings.Contains(strings.Join(subjects, ","), "Счёт") ||
		!strings.Contains(strings.Join(subjects, ","), "Доставка") {
		t.Fatalf("the new client's history: %v", subjects)
	}
	queue, _ := w.st.UnsortedLetters(ctx, 10)
	if len(queue) != 2 || (queue[0].LetterID != spam.ID && queue[1].LetterID != spam.ID) {
		t.Fatalf("the queue: %+v", queue)
	}
}

// A contact added to a client brings the letters waiting from their address.
func TestNewContactTakesTheirWaitingLetters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", Kind: store.KindPerson, ManagerID: anna.m.ID})
	w.queue("1@x", "Semen@Mail.ru", "Вопрос")
	other := w.queue("2@x", "masha@mail.ru", "Другое")
	anna.send("Ромашка")
	anna.tap("Контакты")
	anna.tap("Контакт")
	anna.send("Семён")
	anna.tap("Пропустить") // position
	anna.tap("Пропустить") // phone
	anna.send("semen@mail.ru")
	anna.expect(anna.tap("Пропустить"), "Семён", "перенесено писем: 1")
	if items, _, _ := w.st.Timeline(ctx, c.ID, 0, 10); len(items) != 1 || items[0].Mail.Subject != "Вопрос" {
		t.Fatalf("history: %+v", items)
	}
	if queue, _ := w.st.UnsortedLetters(ctx, 10); len(queue) != 1 || queue[0].LetterID != other.ID {
		t.Fatalf("the queue: %+v", queue)
	}
}
