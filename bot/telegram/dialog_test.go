package telegram_test

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

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
