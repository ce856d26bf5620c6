package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

func TestOnboardingByInviteAndRefusalWithout(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	stranger := w.stranger(777, "ru")
	stranger.expect(stranger.send("/start"), "Попросите у администратора")
	if got := stranger.send("/start"); got != "" {
		t.Fatalf("second refusal within a minute: %q", got)
	}
	if got := stranger.send("/find Ромашка"); got != "" {
		t.Fatalf("a stranger got an answer: %q", got)
	}

	admin := w.manager("Админ", store.RoleAdmin, "en", "Europe/Moscow")
	got := admin.send("/invite head Ольга")
	admin.expect(got, "https://t.me/crm_test_bot?start=")
	code := got[strings.Index(got, "start=")+len("start="):]

	guest := w.stranger(888, "ru")
	guest.expect(guest.send("/start "+code), "Добро пожаловать", "руководитель")
	m, err := w.st.ManagerByTelegram(ctx, 888)
	if err != nil || m.Role != store.RoleHead || m.Language != "ru" {
		t.Fatalf("invited manager: %+v %v", m, err)
	}
	guest.expect(guest.send("/today"), "Сегодня")

	// The code worked once.
	late := w.stranger(999, "en")
	late.expect(late.send("/start "+code), "Ask your administrator")
	if _, err := w.st.ManagerByTelegram(ctx, 999); err == nil {
		t.Fatal("a used code made a second manager")
	}
	// Only an admin invites.
	guest.expect(guest.send("/invite manager"), "администратор")
	// A deactivated manager is told their access is off, not the stranger's text.
	admin.send("/managers")
	admin.expect(admin.tap("Ольга"), "Deactivate <b>Ольга</b>?")
	if m, _ := w.st.ManagerByTelegram(ctx, 888); !m.Active {
		t.Fatal("deactivated before the confirmation")
	}
	admin.tap("Yes, deactivate")
	got = guest.send("/today")
	guest.expect(got, "Ваш доступ к боту отключён")
	guest.refuse(got, "Попросите у администратора", "Сегодня")
}

func TestManagerCannotReachAnotherManagersClient(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	boris := w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	theirs := w.client(&store.Client{Name: "Секретный Завод", ManagerID: boris.m.ID, Legal: store.Legal{INN: "7707083893"},
		Contacts: map[string]store.Contact{"p": {Name: "Пётр", Phones: []string{"+79161112233"}, Emails: []string{"petr@zavod.ru"}}}})
	file := &store.File{ClientID: theirs.ID, Name: "договор.pdf", Data: []byte("pdf"), TelegramFileID: "tg-file"}
	if err := w.st.AttachFile(ctx, boris.m.ID, file); err != nil {
		t.Fatal(err)
	}
	task := &store.Task{AssigneeID: boris.m.ID, ClientID: theirs.ID, Due: testNow.Add(time.Hour), Text: "секрет"}
	if err := w.st.CreateTask(ctx, boris.m.ID, task); err != nil {
		t.Fatal(err)
	}
	before, _ := w.st.Client(ctx, theirs.ID)

	// A search by a part of the name finds nothing; by a key or the whole name it says
	// whose the client is, and nothing of the card.
	for _, q := range []string{"Секретный", "Завод", "/find секретный"} {
		anna.refuse(anna.send(q), "Секретный Завод", "Пётр")
	}
	for _, q := range []string{"+7 916 111-22-33", "petr@zavod.ru", "7707083893", "секретный завод"} {
		got := anna.send(q)
		if got != "«Секретный Завод» — клиент менеджера Борис." || len(anna.last[0].Buttons) != 0 {
			t.Fatalf("%q: %s %v", q, got, anna.buttons())
		}
	}
	anna.refuse(anna.send("/remind завтра в 10 Секретный позвонить"), "Секретный Завод")
	anna.do(bot.Update{Contact: &bot.SharedContact{Phone: "+79161112233", FirstName: "Пётр"}})
	if got := anna.text(); got != "«Секретный Завод» — клиент менеджера Борис." {
		t.Fatalf("shared contact: %s", got)
	}

	// Every button, forged.
	id := theirs.ID
	for _, d := range []string{"c:" + id, "call:" + id, "co:" + id + ":reached", "cs:" + id, "note:" + id,
		"stg:" + id, "ss:" + id + ":gold", "ss:" + id + ":red_green", "rem:" + id, "ct:" + id, "ca:" + id,
		"ce:" + id + ":p", "cf:" + id + ":p:name", "cf:" + id + ":p:delete", "cf:" + id + ":p:dm", "h:" + id + ":0",
		"em:" + id, "f:" + file.ID, "ed:" + id, "ef:" + id + ":name", "tk:" + id, "as:" + id, "am:" + id + ":" + anna.m.ID,
		"td:" + task.ID, "tz:" + task.ID + ":1h", "md:" + boris.m.ID, "rr:" + id + ":red_green:price", "rr:" + id + ":red_green:other",
		"rx:" + id, "xc:" + id, "mdy:" + boris.m.ID, "mh:" + boris.m.ID + ":" + anna.m.ID, "mu:" + boris.m.ID} {
		got := anna.tapData(d)
		anna.refuse(got, "Секретный Завод", "Пётр", "договор", "секрет", "Борис")
		for _, r := range anna.last {
			if r.Document != nil {
				t.Fatalf("tap %s sent a document", d)
			}
		}
		// Whatever dialog a forged tap might have opened, a typed answer changes nothing.
		anna.send("Взломано")
	}
	after, _ := w.st.Client(ctx, theirs.ID)
	if after.Version != before.Version || after.ManagerID != boris.m.ID || after.Name != before.Name {
		t.Fatalf("the client changed: version %d -> %d, manager %s", before.Version, after.Version, after.ManagerID)
	}
	if items, _, _ := w.st.Timeline(ctx, id, 0, 10); len(items) != 1 {
		t.Fatalf("timeline grew to %d entries", len(items))
	}
	if tk, _ := w.st.Task(ctx, task.ID); tk.State != store.TaskOpen || !tk.Due.Equal(task.Due) {
		t.Fatalf("the task changed: %+v", tk)
	}

	// The owner and the head do see it.
	boris.expect(boris.send("секретный"), "Секретный Завод", "Пётр", "договор.pdf")
	head.expect(head.send("7707083893"), "Секретный Завод")
	head.tap("Передать")
	head.tap("Анна")
	anna.expect(anna.send("Секретный"), "Секретный Завод")
	boris.refuse(boris.send("Секретный"), "Пётр")
}

func TestCallWithNextStepCreatesTask(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "ООО «Ромашка»", ManagerID: anna.m.ID,
		Contacts: map[string]store.Contact{"p": {Name: "Иван", Phones: []string{"+79161234567"}}}})

	anna.expect(anna.send("+7 (916) 123-45-67"), "Ромашка", "+7 916 123-45-67")
	anna.expect(anna.tap("Звонок"), "Чем закончился")
	anna.expect(anna.tap("Дозвонился"), "заметку")
	anna.expect(anna.send("Просит КП до пятницы"), "Следующий шаг")
	anna.expect(anna.send("завтра в 10 отправить КП"), "Звонок записан", "вт 24.11.2026 10:00", "отправить КП")

	card, _ := w.st.Card(ctx, c.ID, 5)
	if len(card.Interactions) != 1 {
		t.Fatalf("timeline: %+v", card.Interactions)
	}
	call := card.Interactions[0]
	if call.Kind != store.InteractionCall || call.Call.Outcome != "reached" || call.Text != "Просит КП до пятницы" || call.Call.NextStep != "отправить КП" || call.AuthorID != anna.m.ID {
		t.Fatalf("call: %+v %+v", call, call.Call)
	}
	want := time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC) // 10:00 in Moscow
	if len(card.Client.Tasks) != 1 || !card.Client.Tasks[0].Due.Equal(want) || card.Client.Tasks[0].Text != "отправить КП" {
		t.Fatalf("task on the card: %+v", card.Client.Tasks)
	}
	anna.expect(anna.send("/tasks"), "24.11 10:00", "отправить КП")
	anna.tap("✅ 1")
	if open, _ := w.st.OpenTasks(ctx, anna.m.ID); len(open) != 0 {
		t.Fatalf("task not done: %+v", open)
	}

	// Three taps and no text: call, outcome, save with tomorrow's reminder.
	anna.send("Ромашка")
	anna.tap("Звонок")
	anna.tap("Не ответил")
	anna.expect(anna.tap("Завтра в 10:00"), "Звонок записан", "Не ответил", "24.11.2026 10:00")
	if open, _ := w.st.OpenTasks(ctx, anna.m.ID); len(open) != 1 {
		t.Fatalf("open tasks after quick save: %+v", open)
	}
	// A bad time is explained and the dialog goes on.
	anna.send("Ромашка")
	anna.tap("Звонок")
	anna.tap("Перезвонить")
	anna.send("занят")
	anna.expect(anna.send("когда-нибудь потом"), "Не понял, когда")
	anna.expect(anna.send("в пятницу перезвонить"), "пт 27.11.2026 10:00")
}

func TestStageMoveAndRedStageAsksReason(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Anna", store.RoleManager, "en", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Vector LLC", ManagerID: anna.m.ID})
	anna.send("vector")
	anna.tap("Stage")
	anna.expect(anna.tap("Grey"), "Grey — decision maker known")
	anna.tap("Stage")
	anna.expect(anna.tap("Red-green"), "Why did the client refuse?")
	anna.expect(strings.Join(anna.buttons(), "\n"), "Too expensive", "Went to a competitor", "No need", "Not the decision maker")
	anna.expect(anna.tap("Other"), "type the reason")
	anna.expect(anna.send("bought from a competitor"), "Red-green", "bought from a competitor")
	got, _ := w.st.Client(ctx, c.ID)
	if got.Stage != store.StageRedGreen || got.RefusalReason != "bought from a competitor" || got.RefusalCode != "" {
		t.Fatalf("stage %s reason %q %q", got.Stage, got.RefusalReason, got.RefusalCode)
	}
	items, _, _ := w.st.Timeline(ctx, c.ID, 0, 10)
	if len(items) != 2 || items[0].Kind != store.InteractionStageChange || items[0].Stage.Reason != "bought from a competitor" {
		t.Fatalf("timeline: %+v", items)
	}
	// The history says the reason once.
	if h := anna.tap("History"); strings.Count(h, "bought from a competitor") != 1 {
		t.Fatalf("history:\n%s", h)
	}
}

func TestCreateClientDialogValidatesAndCancels(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	boris := w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	w.client(&store.Client{Name: "Старый", ManagerID: boris.m.ID, Contacts: map[string]store.Contact{"p": {Name: "X", Emails: []string{"taken@old.ru"}}}})

	anna.expect(anna.send("/new"), "компания или частное лицо")
	anna.tap("компания")
	anna.expect(anna.send("<b>Ромашка</b> & Co"), "ИНН")
	anna.expect(anna.send("1234567890"), "ИНН «1234567890» неверный")
	anna.expect(anna.send("7707083893"), "Город")
	anna.tap("Пропустить")
	anna.send("Розница")
	anna.send("Иван Петров")
	anna.expect(anna.send("12345"), "не похоже на телефон")
	anna.send("8 916 555 44 33")
	anna.expect(anna.send("ivan@"), "не похоже на e-mail")
	// A taken address is refused as it is typed, naming whose client has it; the
	// question stays.
	got := anna.send("taken@old.ru")
	anna.expect(got, "taken@old.ru уже есть в базе: «Старый» — клиент менеджера Борис.", "E-mail?")
	anna.refuse(got, "Проверьте", "Открыть карточку")
	anna.expect(anna.send("ivan@romashka.ru"), "Проверьте", "&lt;b&gt;Ромашка&lt;/b&gt; &amp; Co", "+7 916 555-44-33")
	// Taken meanwhile, between the answer and the save: the save says whose.
	w.client(&store.Client{Name: "Шустрый", ManagerID: boris.m.ID, Emails: []string{"ivan@romashka.ru"}})
	anna.expect(anna.tap("Сохранить"), "ivan@romashka.ru уже есть в базе: «Шустрый» — клиент менеджера Борис.", "E-mail?")
	anna.send("ivan@romashka.com")
	anna.expect(anna.tap("Сохранить"), "создан", "<b>&lt;b&gt;Ромашка&lt;/b&gt; &amp; Co</b>")
	hit, err := w.st.FindByEmail(ctx, "ivan@romashka.com")
	if err != nil || hit.Client.ManagerID != anna.m.ID || hit.Client.Legal.INN != "7707083893" || hit.Client.City != "" {
		t.Fatalf("created: %+v %v", hit, err)
	}

	// A dialog left with /cancel saves nothing.
	anna.send("/new")
	anna.tap("частное")
	anna.send("Недоделанный")
	anna.expect(anna.send("/cancel"), "ничего не сохранено")
	if res, _ := w.st.Search(ctx, store.Viewer{Role: store.RoleAdmin}, "Недоделанный", 5); len(res) != 0 {
		t.Fatal("a cancelled dialog saved a client")
	}
}

func TestRemindInBothLanguagesAndTimeZones(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	msk := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	vvo := w.manager("Bob", store.RoleManager, "en", "Asia/Vladivostok")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: msk.m.ID})
	cases := []struct {
		chat *chat
		text string
		want time.Time // UTC
		echo string
	}{
		{msk, "/remind завтра в 10 Ромашка позвонить", time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC), "вт 24.11.2026 10:00"},
		{msk, "/remind через 2 часа отправить счёт", testNow.Add(2 * time.Hour), "пн 23.11.2026 14:00"},
		{msk, "/remind в пятницу планёрка", time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC), "пт 27.11.2026 10:00"},
		{msk, "/remind 25.12 15:00 поздравить", time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC), "пт 25.12.2026 15:00"},
		{vvo, "/remind tomorrow 9am call the bank", time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC), "Tue 24.11.2026 09:00"},
		{vvo, "/remind in 30 min coffee", testNow.Add(30 * time.Minute), "Mon 23.11.2026 19:30"},
	}
	for _, tc := range cases {
		got := tc.chat.send(tc.text)
		tc.chat.expect(got, tc.echo)
	}
	for _, m := range []*chat{msk, vvo} {
		open, _ := w.st.OpenTasks(ctx, m.m.ID)
		for _, tc := range cases {
			if tc.chat != m {
				continue
			}
			found := false
			for _, r := range open {
				found = found || r.Due.Equal(tc.want)
			}
			if !found {
				t.Errorf("%q: no task at %v in %+v", tc.text, tc.want, open)
			}
		}
	}
	card, _ := w.st.Client(ctx, c.ID)
	if len(card.Tasks) != 1 || card.Tasks[0].Text != "позвонить" {
		t.Fatalf("the client named in /remind got %+v", card.Tasks)
	}
	msk.expect(msk.send("/remind вчера в 10 поздно"), "уже прошло")
	msk.expect(msk.send("/remind когда-нибудь"), "Не понял")
	vvo.expect(vvo.send("/lang"), "Choose")
	vvo.expect(vvo.tap("Русский"), "русский")
	vvo.expect(vvo.send("/tasks"), "Открытые задачи")
}

func TestFilesAttachAndComeBack(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	fetch := func(context.Context) ([]byte, error) { return []byte("%PDF contract"), nil }
	doc := &bot.IncomingFile{Kind: bot.FileDocument, FileID: "tg-doc", Name: "договор.pdf", MIME: "application/pdf", Size: 13, Fetch: fetch}

	anna.do(bot.Update{File: doc})
	anna.expect(anna.text(), "Откройте карточку")
	anna.send("Ромашка")
	anna.do(bot.Update{File: doc})
	anna.expect(anna.text(), "прикреплён", "Ромашка")
	anna.send("Ромашка")
	anna.tap("договор.pdf")
	var sent *bot.Document
	for _, r := range anna.last {
		if r.Document != nil {
			sent = r.Document
		}
	}
	if sent == nil || sent.FileID != "tg-doc" || sent.Load == nil {
		t.Fatalf("document back: %+v", sent)
	}
	if content, _ := sent.Load(ctx); string(content) != "%PDF contract" {
		t.Fatalf("stored copy: %q", content)
	}

	// A voice message while logging a call is the call's note.
	anna.send("Ромашка")
	anna.tap("Звонок")
	anna.tap("Дозвонился")
	anna.do(bot.Update{File: &bot.IncomingFile{Kind: bot.FileVoice, FileID: "tg-voice", Size: 3, Fetch: func(context.Context) ([]byte, error) { return []byte("ogg"), nil }}})
	anna.expect(anna.text(), "Следующий шаг")
	anna.tap("Без следующего шага")
	items, _, _ := w.st.Timeline(ctx, c.ID, 0, 5)
	if items[0].Kind != store.InteractionCall || items[0].FileID == "" {
		t.Fatalf("call with voice: %+v", items[0])
	}
	if f, err := w.st.File(ctx, items[0].FileID); err != nil || string(f.Data) != "ogg" {
		t.Fatalf("voice file: %+v %v", f, err)
	}
}

func TestSharedContactFindsOrCreates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID, Contacts: map[string]store.Contact{"p": {Name: "Иван", Phones: []string{"+79161234567"}}}})
	anna.do(bot.Update{Contact: &bot.SharedContact{Phone: "89161234567", FirstName: "Иван"}})
	anna.expect(anna.text(), "<b>Ромашка</b>")

	anna.do(bot.Update{Contact: &bot.SharedContact{Phone: "+7 903 000-11-22", FirstName: "Мария", LastName: "Козлова"}})
	anna.expect(anna.text(), "нет в базе", "Мария Козлова")
	anna.tap("Новый клиент")
	anna.expect(anna.tap("частное"), "Город?") // the person's name is the contact's
	anna.send("Москва")
	anna.send("-")
	anna.tap("Пропустить") // e-mail
	anna.expect(anna.tap("Сохранить"), "создан")
	hit, err := w.st.FindByPhone(ctx, "+79030001122")
	if err != nil || hit.Client.Name != "Мария Козлова" || hit.Client.Kind != store.KindPerson || hit.Client.City != "Москва" {
		t.Fatalf("created from contact: %+v %v", hit, err)
	}
}

type outbox struct{ sent []bot.Reply }

func (o *outbox) Send(_ context.Context, r bot.Reply) error {
	if b := bot.UnroutedButton([]bot.Reply{r}); b != "" {
		return fmt.Errorf("button %s: no route takes its code", b)
	}
	o.sent = append(o.sent, r)
	return nil
}

func TestInboxAttachCreateIgnoreAndNotices(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	first := w.queue("a@x", "petr@newco.ru", "Запрос цены")
	w.queue("b@x", "spam@ads.example", "Скидки <50%>")
	got := anna.send("/inbox")
	anna.expect(got, "petr@newco.ru", "Запрос цены", "Скидки &lt;50%&gt;")

	anna.tap("📎 1")
	anna.expect(anna.send("Ромашка"), "Выберите клиента")
	anna.expect(anna.tap("Ромашка"), "добавлено в историю", "Ромашка")
	items, _, _ := w.st.Timeline(ctx, c.ID, 0, 5)
	if len(items) != 1 || items[0].Mail == nil || items[0].Mail.LetterID != first.ID {
		t.Fatalf("timeline after attach: %+v", items)
	}

	anna.send("/inbox")
	anna.expect(anna.tap("🚫 1"), "больше не попадут")
	if ok, _ := w.st.SenderIgnored(ctx, "spam@ads.example"); !ok {
		t.Fatal("sender not ignored")
	}
	anna.expect(anna.send("/inbox"), "Неразобранных писем нет")

	third := w.queue("c@x", "olga@vector.ru", "Договор")
	anna.send("/inbox")
	anna.tap("➕ 1")
	anna.tap("компания")
	anna.send("Вектор")
	for range 4 { // INN, city, industry: skipped; the contact came from the letter
		if strings.Contains(anna.text(), "Проверьте") {
			break
		}
		anna.tap("Пропустить")
	}
	anna.expect(anna.text(), "Пётр Иванов", "olga@vector.ru")
	anna.expect(anna.tap("Сохранить"), "создан", "добавлено в историю")
	hit, err := w.st.FindByEmail(ctx, "olga@vector.ru")
	if err != nil {
		t.Fatal(err)
	}
	if items, _, _ := w.st.Timeline(ctx, hit.Client.ID, 0, 5); len(items) != 1 || items[0].Mail.LetterID != third.ID {
		t.Fatalf("new client's timeline: %+v", items)
	}

	// A notice about a client's letter reaches the manager's chat, with buttons.
	out := &outbox{}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Outbox: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.NotifyLetter(ctx, bot.LetterNotice{ManagerID: anna.m.ID, ClientID: c.ID, ClientName: "Ромашка", LetterID: first.ID,
		From: "petr@newco.ru", Subject: "Запрос <цены>", Preview: "Нужно 10 штук"}); err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 1 || out.sent[0].ChatID != anna.m.TelegramID || !strings.Contains(out.sent[0].Text, "Запрос &lt;цены&gt;") {
		t.Fatalf("notice: %+v", out.sent)
	}
	anna.last = out.sent
	anna.expect(anna.tap("Обработано"), "Отмечено")
	if l, _ := w.st.Letter(ctx, first.ID); l.HandledAt == nil || l.HandledBy != anna.m.ID {
		t.Fatalf("letter not handled: %+v", l)
	}
}

// A delivery report about no letter the CRM sent waits in /inbox marked so, in the
// manager's language; other letters are not.
func TestInboxMarksBouncesOfUnknownOrigin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, l := range []*store.Letter{
		{ID: store.LetterID("dsn@mx", ""), MessageID: "dsn@mx", Subject: "Undelivered Mail", From: store.MailAddress{Email: "mailer-daemon@mx.example"},
			Date: testNow, UnknownBounce: true},
		{ID: store.LetterID("q@x", ""), MessageID: "q@x", Subject: "Запрос цены", From: store.MailAddress{Email: "petr@newco.ru"}, Date: testNow.Add(-time.Hour)},
	} {
		if err := w.st.SetLetterUnsorted(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
	}
	for lang, mark := range map[string]string{"ru": "недоставка неизвестного письма", "en": "bounce of unknown origin"} {
		m := w.manager("Анна "+lang, store.RoleManager, lang, "Europe/Moscow")
		got := m.send("/inbox")
		lines := strings.Split(got, "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], mark) || !strings.Contains(lines[1], "mailer-daemon@mx.example") || strings.Contains(lines[2], mark) {
			t.Fatalf("%s /inbox: %s", lang, got)
		}
	}
}

// A client's letter attached from /inbox starts its reply clock from the attaching and
// tells the client's manager, as a letter the mailbox matched itself does on arrival;
// an old one does neither.
func TestInboxAttachStartsTheReplyClockAndTellsTheManager(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cal := store.DefaultWorkCalendar(time.UTC) // testNow is a Monday, 09:00
	out := &outbox{}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, ReplySLA: 4 * time.Hour, Calendar: cal,
		Outbox: out})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	olga := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	for _, l := range []*store.Letter{
		{ID: store.LetterID("new@x", ""), MessageID: "new@x", Subject: "Запрос цены", Preview: "Нужно 10 штук", From: store.MailAddress{Email: "petr@newco.ru"}, Date: testNow.Add(-18 * time.Hour)},
		{ID: store.LetterID("old@x", ""), MessageID: "old@x", Subject: "Старое", From: store.MailAddress{Email: "petr@newco.ru"}, Date: testNow.AddDate(0, 0, -10)},
	} {
		if err := w.st.SetLetterUnsorted(ctx, l, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		olga.send("/inbox")
		olga.tap("📎 1")
		olga.send("Ромашка")
		olga.expect(olga.tap("Ромашка"), "добавлено в историю")
	}
	if len(out.sent) != 1 || out.sent[0].ChatID != anna.m.TelegramID || !strings.Contains(out.sent[0].Text, "Запрос цены") ||
		!strings.Contains(out.sent[0].Text, "Нужно 10 штук") {
		t.Fatalf("notices: %+v", out.sent)
	}
	open, err := w.st.AwaitedReplies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 {
		t.Fatalf("open reply clocks: %+v", open)
	}
	r := open[0]
	if r.LetterID != store.LetterID("new@x", "") || len(r.Clients) != 1 || r.Clients[0] != c.ID ||
		!r.DueAt.Equal(testNow.Add(4*time.Hour)) || !r.EscalateAt.Equal(testNow.Add(8*time.Hour)) || !r.ReceivedAt.Equal(testNow.Add(-18*time.Hour)) {
		t.Fatalf("reply clock: %+v", r)
	}
}
