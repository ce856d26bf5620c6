package telegram_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/store"
)

// A client's letters on a phone: the card's list, a long letter read page by page by
// editing one message, its file sent as a document with the stored content, and an
// unsorted letter read from /inbox before it is sorted.
func TestConversationReadsLettersAndSendsTheirFiles(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	m := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	cl := &store.Client{Name: "Завод", ManagerID: m.ID, Contacts: map[string]store.Contact{"p": {Name: "Пётр", Emails: []string{"petr@zavod.ru"}}}}
	if err := c.st.CreateClient(ctx, "test", cl); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for range 120 {
		text.WriteString("Цены и условия поставки на следующий квартал, с учётом скидок <от объёма>.\n")
	}
	text.WriteString("Конец письма.")
	l := &store.Letter{ID: store.LetterID("price@zavod", ""), MessageID: "price@zavod", Subject: "Прайс", Date: convNow,
		From: store.MailAddress{Name: "Пётр", Email: "petr@zavod.ru"}, Text: text.String(),
		Attachments: []store.LetterAttachment{{Name: "прайс.xlsx", MIME: "application/vnd.ms-excel", Size: 5}}}
	l.Attachments[0].FileID = l.ID + "/0"
	if err := c.st.SaveFiles(ctx, []*store.File{{ID: l.Attachments[0].FileID, LetterID: l.ID, Name: "прайс.xlsx", Size: 5,
		Kind: "attachment", Data: []byte("xlsx!")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
		t.Fatal(err)
	}
	if err := c.st.LinkLetter(ctx, "mail", l, cl.ID); err != nil {
		t.Fatal(err)
	}

	card := c.say(1, "Завод")
	list := c.tap(card, "Письма")
	has(t, list, "📨 Пётр &lt;petr@zavod.ru&gt; · 23.11 12:00", "<b>Прайс</b>", "📎 прайс.xlsx (5 B)")
	page := c.tap(list, "📖 1")
	if page.Method != "editMessageText" || page.MessageID != card.MessageID {
		t.Fatalf("the letter did not replace the list: %s %d", page.Method, page.MessageID)
	}
	has(t, page, "Страница 1 из 3", "От: Пётр &lt;petr@zavod.ru&gt;", "скидок &lt;от объёма&gt;")
	page = c.tap(page, "2 ▶")
	has(t, page, "Страница 2 из 3")
	page = c.tap(page, "3 ▶")
	has(t, page, "Страница 3 из 3", "Конец письма.")
	doc := c.tap(page, "прайс.xlsx")
	if doc.Method != "sendDocument" || doc.FileName != "прайс.xlsx" || string(doc.Content) != "xlsx!" {
		t.Fatalf("the file: %s %q %q", doc.Method, doc.FileName, doc.Content)
	}

	q := &store.Letter{ID: store.LetterID("q@new", ""), MessageID: "q@new", Subject: "Запрос", Date: convNow,
		From: store.MailAddress{Email: "olga@newco.ru"}, Text: "Нужна цена на 10 штук"}
	if err := c.st.SetLetterUnsorted(ctx, q, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.SaveLetters(ctx, []*store.Letter{q}); err != nil {
		t.Fatal(err)
	}
	inbox := c.say(1, "/inbox")
	read := c.tap(inbox, "📖 1")
	has(t, read, "Запрос", "olga@newco.ru", "Нужна цена на 10 штук")
	if _, ok := read.Button("➕ Новый клиент"); !ok {
		t.Fatalf("an unsorted letter read has no sorting buttons: %q", read.ButtonTexts())
	}
}
