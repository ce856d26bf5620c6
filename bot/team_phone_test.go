package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

// client and its manager, before any further question; a search that finds only that
// client says whose it is and shows nothing of the card.
func TestPhoneNamesTheOwnerOfADuplicate(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	p.manager(1, "Анна", store.RoleManager)
	boris := p.manager(2, "Борис", store.RoleManager)
	theirs := &store.Client{Name: "Завод <Восток>", ManagerID: boris.ID, Legal: store.Legal{INN: "7707083893"}, City: "Тула",
		Contacts: map[string]store.Contact{"p": {Name: "Пётр", Phones: []string{"+79161112233"}}}}
	if err := p.st.CreateClient(ctx, "test", theirs); err != nil {
		t.Fatal(err)
	}

	kind := p.say(1, "/new")
	p.tap(kind, "компания")
	p.has(p.say(1, "Восток-2"), "ИНН")
	got := p.say(1, "7707 083 893")
	p.has(got, "7707083893 уже есть в базе: «Завод &lt;Восток&gt;» — клиент менеджера Борис.")
	if len(got.Buttons) != 0 {
		t.Fatalf("a card Anna may not open is offered: %q", got.ButtonTexts())
	}
	p.has(p.srv.Next(1, phoneWait), "ИНН компании") // the question again, not the city
	p.has(p.say(1, "-"), "Город")

	p.has(p.say(1, "/cancel"), "ничего не сохранено")
	got = p.say(1, "+7 916 111-22-33")
	if got.Text != "«Завод &lt;Восток&gt;» — клиент менеджера Борис." || len(got.Buttons) != 0 {
		t.Fatalf("search: %q %q", got.Text, got.ButtonTexts())
	}
	for _, secret := range []string{"Пётр", "Тула", "7707083893", "+7 916"} {
		if strings.Contains(got.Text, secret) {
			t.Fatalf("the search showed %q", secret)
		}
	}
}

// Deactivating asks first, can be undone, and offers the handover; the person turned
// off is told so; whoever gets the clients is told too.
func TestPhoneDeactivateUndoAndHandOver(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	p.manager(1, "Админ", store.RoleAdmin)
	anna := p.manager(2, "Анна", store.RoleManager)
	boris := p.manager(3, "Борис", store.RoleManager)
	c := &store.Client{Name: "Ромашка", ManagerID: boris.ID}
	if err := p.st.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	task := &store.Task{AssigneeID: boris.ID, ClientID: c.ID, Due: testNow.Add(time.Hour), Text: "перезвонить"}
	if err := p.st.CreateTask(ctx, "test", task); err != nil {
		t.Fatal(err)
	}
	active := func(want bool) {
		t.Helper()
		if m, _ := p.st.Manager(ctx, boris.ID); m.Active != want {
			t.Fatalf("Борис active %v, want %v", m.Active, want)
		}
	}

	confirm := p.tap(p.say(1, "/managers"), "Борис")
	p.has(confirm, "Отключить <b>Борис</b>?")
	active(true)
	off := p.tap(confirm, "Да, отключить")
	p.has(off, "Борис</b> отключён", "клиентов: 1, открытых задач: 1")
	active(false)
	p.has(p.say(3, "/today"), "Ваш доступ к боту отключён")

	back := p.tap(off, "Отменить отключение")
	p.has(back, "Борис снова в команде")
	active(true)
	p.has(p.say(3, "/today"), "Сегодня")

	off = p.tap(p.tap(p.say(1, "/managers"), "Борис"), "Да, отключить")
	handed := p.tap(off, "Анна")
	p.has(handed, "Анна получил(а) от Борис клиентов: 1, задач: 1")
	notice := p.srv.Next(2, phoneWait)
	p.has(notice, "Админ передал(а) вам клиентов и задачи Борис: клиентов 1, задач 1")
	p.has(p.tap(notice, "Мои клиенты"), "Ромашка")
	if got, _ := p.st.Client(ctx, c.ID); got.ManagerID != anna.ID {
		t.Fatalf("client is %s's", got.ManagerID)
	}
	if open, _ := p.st.OpenTasks(ctx, anna.ID); len(open) != 1 || open[0].ID != task.ID {
		t.Fatalf("Anna's tasks: %+v", open)
	}
}

// A client given from its card: its new manager is told, with a button to the card.
func TestPhoneReassignTellsTheNewManager(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	p.manager(1, "Ольга", store.RoleHead)
	p.manager(2, "Анна", store.RoleManager)
	if err := p.st.CreateClient(ctx, "test", &store.Client{Name: "Ромашка"}); err != nil {
		t.Fatal(err)
	}
	card := p.say(1, "Ромашка")
	p.tap(p.tap(card, "Передать"), "Анна")
	notice := p.srv.Next(2, phoneWait)
	p.has(notice, "Ольга передал(а) вам клиента <b>Ромашка</b>.")
	p.has(p.tap(notice, "Карточка"), "Менеджер: Анна")
}

// A quick refusal reason moves the client, counts in the funnel report, is written
// once in the history, and the client's open tasks are closed on "yes".
func TestPhoneRefusalReasonFeedsTheFunnel(t *testing.T) {
	p := newPhone(t)
	ctx := context.Background()
	anna := p.manager(1, "Анна", store.RoleManager)
	c := &store.Client{Name: "Ромашка", ManagerID: anna.ID}
	if err := p.st.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"КП", "звонок"} {
		if err := p.st.CreateTask(ctx, "test", &store.Task{AssigneeID: anna.ID, ClientID: c.ID, Due: testNow.Add(time.Hour), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	why := p.tap(p.tap(p.say(1, "Ромашка"), "Этап"), "Красно-зелёный")
	p.has(why, "Почему клиент отказался?")
	p.has(p.tap(why, "Дорого"), "Красно-зелёный", "— Дорого")
	offer := p.srv.Next(1, phoneWait)
	p.has(offer, "открытых задач: 2. Закрыть их?")
	p.has(p.tap(offer, "Да, закрыть"), "Ромашка")
	if open, _ := p.st.OpenTasks(ctx, anna.ID); len(open) != 0 {
		t.Fatalf("open tasks: %+v", open)
	}
	if got, _ := p.st.Client(ctx, c.ID); got.RefusalCode != store.RefusalPrice || len(got.Tasks) != 0 {
		t.Fatalf("client: %+v", got)
	}
	history := p.tap(p.say(1, "Ромашка"), "История")
	if n := strings.Count(history.Text, "Дорого"); n != 1 {
		t.Fatalf("the reason is %d times in the history:\n%s", n, history.Text)
	}

	f, err := reports.ComputeFunnel(ctx, p.st, reports.Period{From: testNow.AddDate(0, 0, -1), To: testNow.AddDate(0, 0, 1)}, reports.Cut{}, testNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Refusals) != 1 || f.Refusals[0].Code != store.RefusalPrice || f.Refusals[0].N != 1 {
		t.Fatalf("refusals: %+v", f.Refusals)
	}
	w, err := reports.LoadWords("en")
	if err != nil {
		t.Fatal(err)
	}
	if rows := f.Layout(w).Tables[1].Rows; len(rows) != 1 || rows[0][1] != "Too expensive" {
		t.Fatalf("the funnel's refusals in English: %v", rows)
	}
}
