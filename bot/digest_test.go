package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

func TestReminderDigestAndWeeklyMessages(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка <ООО>", ManagerID: anna.m.ID})
	task := &store.Task{AssigneeID: anna.m.ID, ClientID: c.ID, Due: testNow.Add(-2 * time.Hour), Text: "перезвонить & уточнить"}
	if err := w.st.CreateTask(ctx, anna.m.ID, task); err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Outbox: out, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.NotifyReminder(ctx, *task, true); err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 1 {
		t.Fatalf("%d messages, want the reminder", len(out.sent))
	}
	anna.last = out.sent
	anna.expect(anna.text(), "перезвонить &amp; уточнить", "Ромашка &lt;ООО&gt;", "опозданием")
	anna.expect(strings.Join(anna.buttons(), "|"), "Сделано", "+1 час", "Завтра 10:00", "Карточка")
	anna.tap("Завтра 10:00")
	got, err := w.st.Task(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	tomorrow := testNow.In(moscow).AddDate(0, 0, 1)
	if want := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 10, 0, 0, 0, moscow); !got.Due.Equal(want) || got.State != store.TaskSnoozed {
		t.Fatalf("after 'tomorrow 10:00': %v %s, want %v snoozed", got.Due, got.State, want)
	}
	anna.last = out.sent
	anna.tap("Сделано")
	if got, _ := w.st.Task(ctx, task.ID); got.State != store.TaskDone {
		t.Fatalf("after 'done': %s", got.State)
	}

	// A digest and a weekly summary, in the manager's language.
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, moscow)
	err = b.SendDigest(ctx, notice.Digest{ManagerID: anna.m.ID, Day: day,
		Today:   []store.TaskRef{{ID: "t1", ClientID: c.ID, Due: day.Add(11 * time.Hour), Text: "встреча <в офисе>"}},
		Overdue: []store.TaskRef{{ID: "t2", Due: day.Add(-20 * time.Hour), Text: "счёт"}},
		Birthdays: []notice.Birthday{{BirthdayHit: store.BirthdayHit{ClientID: c.ID, ClientName: c.Name, ContactName: "Иван", Date: day}, Greeting: "planned"},
			{BirthdayHit: store.BirthdayHit{ClientID: c.ID, ClientName: c.Name, ContactName: "Пётр", Date: day.AddDate(0, 0, 2)}}},
		Awaiting: []store.AwaitedReply{{From: "anna@x.ru", Subject: "Цены", ReceivedAt: day.Add(-time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	digest := out.sent[len(out.sent)-1].Text
	for _, want := range []string{"Доброе утро, Анна", "11:00 — встреча &lt;в офисе&gt;\n   📇 <b>Ромашка &lt;ООО&gt;</b>", "Просрочено</b> (1)", "сегодня — Иван",
		"поздравление уйдёт сегодня", "25.11 — Пётр", "Письма ждут", "anna@x.ru — Цены"} {
		if !strings.Contains(digest, want) {
			t.Fatalf("digest lacks %q:\n%s", want, digest)
		}
	}
	err = b.SendWeekly(ctx, notice.Weekly{HeadID: anna.m.ID, From: day.AddDate(0, 0, -7), To: day,
		Rows: []notice.WeeklyRow{{Name: "Вера", NewClients: 3, TasksDone: 5}}, Total: notice.WeeklyRow{NewClients: 3, TasksDone: 5},
		Pictures: []notice.Picture{{Name: "funnel.png", Caption: "Воронка <неделя>", PNG: []byte("\x89PNG")}}})
	if err != nil {
		t.Fatal(err)
	}
	// The summary, then each chart with its caption.
	pic := out.sent[len(out.sent)-1]
	if pic.Photo == nil || pic.Photo.Name != "funnel.png" || pic.Text != "Воронка &lt;неделя&gt;" {
		t.Fatalf("weekly picture: %+v", pic)
	}
	weekly := out.sent[len(out.sent)-2].Text
	for _, want := range []string{"16.11–22.11", "Вера: 3 · 0 · 5 · 0 · 0", "Команда: 3 · 0 · 5"} {
		if !strings.Contains(weekly, want) {
			t.Fatalf("weekly lacks %q:\n%s", want, weekly)
		}
	}
}

func TestGreetingsSwitchOffAndOnFromTheEditMenu(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	boris := w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	anna.send("Ромашка")
	anna.tap("Изменить")
	anna.expect(anna.tap("Поздравления: вкл"), "выключены")
	if got, _ := w.st.Client(ctx, c.ID); !got.GreetingsOff {
		t.Fatal("greetings still on")
	}
	anna.expect(anna.tap("Поздравления: выкл"), "включены")
	if got, _ := w.st.Client(ctx, c.ID); got.GreetingsOff {
		t.Fatal("greetings still off")
	}
	// Another manager's forged tap changes nothing.
	boris.tapData("gr:" + c.ID)
	if got, _ := w.st.Client(ctx, c.ID); got.GreetingsOff {
		t.Fatal("another manager switched greetings off")
	}
}
