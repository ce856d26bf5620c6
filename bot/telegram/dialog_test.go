package telegram_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
)

// A double tap on a question's "Skip" skips that question only: the second tap, on
// the same message, says so and leaves the next question waiting.
func TestConversationSecondTapOnAnOldSkipSkipsNothing(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	anna := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	has(t, c.tap(c.say(1, "/new"), "компания"), "Как называется")
	inn := c.say(1, "Ромашка")
	has(t, inn, "ИНН")
	has(t, c.tap(inn, "Пропустить"), "Город?")
	again := c.srv.TapButton(inn, "Пропустить ▶")
	has(t, c.srv.Answer(again, wait), "уже позади")
	has(t, c.say(1, "Казань"), "Отрасль?")
	has(t, c.say(1, "-"), "контактное лицо")
	has(t, c.say(1, "Иван"), "Телефон?")
	has(t, c.say(1, "-"), "E-mail?")
	has(t, c.tap(c.say(1, "-"), "Сохранить"), "создан")
	res, _, err := c.st.ManagerClients(ctx, anna.ID, 0, 5)
	if err != nil || len(res) != 1 {
		t.Fatalf("clients: %+v %v", res, err)
	}
	cl, err := c.st.Client(ctx, res[0].ClientID)
	if err != nil || cl.City != "Казань" || cl.Industry != "" {
		t.Fatalf("client: %+v %v", cl, err)
	}
}

// A client made from a shared contact has its name: a person is named after the
// contact, a company is asked its name only, with the person as its contact.
func TestConversationClientFromASharedContactHasItsName(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")

	c.srv.ShareContact(1, tgtest.Contact{Phone: "+7 903 000-11-22", FirstName: "Мария", LastName: "Козлова"})
	offer := c.srv.Next(1, wait)
	has(t, offer, "нет в базе", "Мария Козлова")
	has(t, c.tap(c.tap(offer, "Новый клиент"), "частное лицо"), "Город?")
	has(t, c.say(1, "Москва"), "Отрасль?")
	has(t, c.say(1, "-"), "E-mail?")
	confirm := c.say(1, "-")
	has(t, confirm, "<b>Мария Козлова</b> · частное лицо")
	has(t, c.tap(confirm, "Сохранить"), "«Мария Козлова» создан")
	has(t, c.srv.Next(1, wait), "<b>Мария Козлова</b>") // the card
	hit, err := c.st.FindByPhone(ctx, "+79030001122")
	if err != nil || hit.Client.Name != "Мария Козлова" || hit.Client.Kind != store.KindPerson || hit.Client.Contacts[hit.ContactID].Name != "Мария Козлова" {
		t.Fatalf("person from a contact: %+v %v", hit, err)
	}

	c.srv.ShareContact(1, tgtest.Contact{Phone: "+7 903 000-33-44", FirstName: "Пётр"})
	has(t, c.tap(c.tap(c.srv.Next(1, wait), "Новый клиент"), "компания"), "Как называется")
	has(t, c.say(1, "Завод"), "ИНН")
	has(t, c.say(1, "-"), "Город?")
	has(t, c.say(1, "-"), "Отрасль?")
	has(t, c.say(1, "-"), "E-mail?") // the contact and the phone are the shared ones
	has(t, c.tap(c.say(1, "-"), "Сохранить"), "«Завод» создан")
	hit, err = c.st.FindByPhone(ctx, "+79030003344")
	if err != nil || hit.Client.Name != "Завод" || hit.Client.Kind != store.KindCompany || hit.Client.Contacts[hit.ContactID].Name != "Пётр" {
		t.Fatalf("company from a contact: %+v %v", hit, err)
	}
}

// A document or photo sent with a caption keeps it: on the stored file, in the history
// and the card's latest entries.
func TestConversationFileKeepsItsCaption(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	anna := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	cl := &store.Client{Name: "Ромашка", ManagerID: anna.ID}
	if err := c.st.CreateClient(ctx, "test", cl); err != nil {
		t.Fatal(err)
	}
	has(t, c.say(1, "Ромашка"), "<b>Ромашка</b>")
	c.srv.SendDocument(1, "договор.pdf", "application/pdf", []byte("%PDF"), "Подписанный экземпляр <v2>")
	has(t, c.srv.Next(1, wait), "договор.pdf", "Ромашка")
	c.srv.SendPhoto(1, []byte("jpeg"), "  Склад, вид с улицы ")
	has(t, c.srv.Next(1, wait), "photo.jpg")

	items, _, err := c.st.Timeline(ctx, cl.ID, 0, 5)
	if err != nil || len(items) < 2 {
		t.Fatalf("timeline: %+v %v", items, err)
	}
	for _, want := range []struct{ entry, caption string }{
		{"договор.pdf — Подписанный экземпляр <v2>", "Подписанный экземпляр <v2>"},
		{"photo.jpg — Склад, вид с улицы", "Склад, вид с улицы"},
	} {
		found := false
		for _, it := range items {
			if it.Kind != store.InteractionFile || it.Text != want.entry {
				continue
			}
			found = true
			if f, err := c.st.File(ctx, it.FileID); err != nil || f.Caption != want.caption {
				t.Fatalf("file of %q: %+v %v", want.entry, f, err)
			}
		}
		if !found {
			t.Fatalf("no history entry %q in %+v", want.entry, items)
		}
	}
	card := c.say(1, "Ромашка")
	has(t, card, "договор.pdf — Подписанный экземпляр &lt;v2&gt;", "photo.jpg — Склад, вид с улицы")
	has(t, c.tap(card, "История"), "договор.pdf — Подписанный экземпляр &lt;v2&gt;")
}

// No message carries an empty row of buttons, whichever screen built it (a list
// without pages had an empty pager row).
func TestConversationNoEmptyButtonRows(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	anna := c.manager(1, "Анна", store.RoleManager, "ru", "Europe/Moscow")
	cl := &store.Client{Name: "Ромашка", ManagerID: anna.ID, Contacts: map[string]store.Contact{"p": {Name: "Иван", Phones: []string{"+79161234567"}}}}
	if err := c.st.CreateClient(ctx, "test", cl); err != nil {
		t.Fatal(err)
	}
	has(t, c.say(1, "/clients"), "Ромашка")
	card := c.say(1, "Ромашка")
	c.tap(card, "Контакты")
	c.tap(card, "История")
	c.tap(c.say(1, "/new"), "компания")
	c.say(1, "/today")
	n := 0
	for _, call := range c.srv.Calls() {
		markup := call.Params.Get("reply_markup")
		if markup == "" {
			continue
		}
		n++
		if strings.Contains(markup, "[]") {
			t.Errorf("%s %q has an empty row of buttons: %s", call.Method, call.Text, markup)
		}
	}
	if n < 5 {
		t.Fatalf("%d messages with buttons", n)
	}
}
