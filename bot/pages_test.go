package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
)

// leadsSomewhere taps every button of the last replies but the ones named in skip, and
// fails on one whose answer is empty or says it is out of date.
func (c *chat) leadsSomewhere(skip ...string) {
	c.w.t.Helper()
	last := c.last
	for _, r := range last {
		for _, line := range r.Buttons {
		button:
			for _, b := range line {
				for _, s := range skip {
					if strings.Contains(b.Text, s) {
						continue button
					}
				}
				got := c.tapData(b.Data)
				if got == "" || strings.Contains(got, "устарела") || strings.Contains(got, "не найден") {
					c.w.t.Fatalf("button %q (%s) answered %q", b.Text, b.Data, got)
				}
			}
		}
	}
	c.last = last
}

// /clients pages with the total, each client's button opens its card, and a ◀ ▶ of
// /clients from before its pages still works.
func TestClientsPageWithTheTotal(t *testing.T) {
	w := newWorld(t)
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	for i := range 19 {
		w.client(&store.Client{Name: fmt.Sprintf("Клиент %02d", i), ManagerID: anna.m.ID, City: "Тула"})
	}
	got := anna.send("/clients")
	anna.expect(got, "Мои клиенты</b>: 19", "1–8 из 19", "1. ⚪ Клиент 00")
	anna.refuse(got, "◀", "Клиент 08")
	anna.leadsSomewhere()
	anna.expect(anna.tap("▶"), "9–16 из 19", "9. ⚪ Клиент 08")
	anna.expect(anna.tap("▶"), "17–19 из 19", "19. ⚪ Клиент 18")
	if strings.Contains(strings.Join(anna.buttons(), " "), "▶") {
		t.Fatalf("▶ on the last page: %v", anna.buttons())
	}
	anna.expect(anna.tap("Клиент 18 · Тула · ⚪ Белый"), "<b>Клиент 18</b>")
	anna.expect(anna.tapData("cl:10"), "9–16 из 19")
}

// /inbox says how many letters wait and pages through them.
func TestInboxPagesWithTheTotal(t *testing.T) {
	w := newWorld(t)
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	for i := range 11 {
		w.queue(fmt.Sprintf("q%d@x", i), fmt.Sprintf("sender%02d@vector.ru", i), "Письмо")
	}
	got := anna.send("/inbox")
	anna.expect(got, "Неразобранные письма</b>: 11", "1–8 из 11")
	if n := strings.Count(got, "@vector.ru"); n != 8 {
		t.Fatalf("%d letters on the first page:\n%s", n, got)
	}
	anna.expect(anna.tap("▶"), "9–11 из 11", "11. ")
	anna.expect(anna.tap("🚫 11"), "больше не попадут", "Неразобранные письма</b>: 10", "1–8 из 10")
	anna.expect(anna.tapData("pg:i:5"), "9–10 из 10")
}

// The managers a client is given to page too; the one tapped on a later page gets it.
func TestReassignPagesThroughTheTeam(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	for i := range 12 {
		w.manager(fmt.Sprintf("Сотрудник %02d", i), store.RoleManager, "ru", "Europe/Moscow")
	}
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	head.send("Ромашка")
	head.expect(head.tap("Передать"), "Кому передать", "1–8 из 13")
	head.expect(head.tap("▶"), "9–13 из 13", "Ромашка")
	head.expect(head.tap("Сотрудник 11"), "Передан")
	if got, _ := w.st.Client(ctx, c.ID); got.ManagerID == anna.m.ID || got.ManagerID == "" {
		t.Fatalf("the client stayed with %q", got.ManagerID)
	}
	anna.forgePage("pg:a:0:"+c.ID, "Это может только руководитель или администратор.")
}

// forgePage taps page data no button offered and wants only the pop-up want.
func (c *chat) forgePage(d, want string) {
	c.w.t.Helper()
	if got := c.tapData(d); got != "[notice] "+want {
		c.w.t.Fatalf("tap %s got:\n%s\nwant only the notice %q", d, got, want)
	}
}

// A page tap of no list, of no page or of a search without its query is out of date;
// a page before the first is the first.
func TestOddPageTaps(t *testing.T) {
	w := newWorld(t)
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	for _, d := range []string{"pg:x:0", "pg:t:abc", "pg:f:0", "pg", "pg:m:0:extra"} {
		want := "Эта кнопка устарела."
		if strings.HasPrefix(d, "pg:m:") {
			want = "Это может только руководитель или администратор."
		}
		anna.forgePage(d, want)
	}
	anna.expect(anna.tapData("pg:c:-3"), "Мои клиенты</b>: 1", "1. ⚪ Ромашка")
	anna.expect(anna.tapData("pg:f:0:ромаш"), "Нашлось несколько", "Ромашка")
	anna.expect(anna.tapData("pg:f:0:нет:такого"), "ничего не нашлось")
}

// A reminder waiting for its client takes a typed name: several found are asked
// about again, one is taken. A client the manager may not change is refused and the
// choice stays open.
func TestRemindTakesATypedClientName(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	msk := w.client(&store.Client{Name: "АтлантСнаб Москва", ManagerID: anna.m.ID, City: "Москва"})
	w.client(&store.Client{Name: "АтлантСнаб Казань", ManagerID: anna.m.ID, City: "Казань"})
	nobodys := w.client(&store.Client{Name: "Атлантида", City: "Сочи"})

	anna.expect(anna.send("/remind завтра в 12 Атлант-Снаб позвонить"), "Клиента «Атлант-Снаб» не нашёл")
	anna.expect(anna.send("Атлант"), "Какой клиент?", "«Атлант»")
	anna.expect(anna.tap("Атлантида · Сочи"), "сначала возьмите его себе")
	anna.expect(anna.send("москва"), "Напомню", "Атлант-Снаб позвонить", "АтлантСнаб Москва")
	open, _ := w.st.OpenTasks(ctx, anna.m.ID)
	if len(open) != 1 || open[0].ClientID != msk.ID {
		t.Fatalf("the reminder: %+v", open)
	}
	if c, _ := w.st.Client(ctx, nobodys.ID); len(c.Tasks) != 0 {
		t.Fatalf("a client the manager may not change got a task: %+v", c.Tasks)
	}
	// A reminder's own words, not a name, set a reminder without a client at once.
	anna.expect(anna.send("/remind завтра в 12 позвонить в банк"), "Напомню", "позвонить в банк")
	anna.expect(anna.send("/remind завтра в 12 Атлант позвонить"), "Какой клиент?")
	anna.expect(anna.send("/cancel"), "Отменено")
	if open, _ := w.st.OpenTasks(ctx, anna.m.ID); len(open) != 2 {
		t.Fatalf("tasks after the cancelled question: %+v", open)
	}
}
