package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// forgery is a team where Boris's client, with its contact, file, task and letter, is
// out of Anna's reach; Anna has a client of her own to copy things into.
type forgery struct {
	*world
	anna, boris, head *chat
	theirs, mine      *store.Client
	file              *store.File
	task              *store.Task
	letter            *store.Letter // of Boris's client
	order             *store.Order  // of Boris's client, invoiced
}

func newForgery(t *testing.T) *forgery {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t)
	f := &forgery{world: w}
	f.anna = w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	f.boris = w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	f.head = w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	f.theirs = w.client(&store.Client{Name: "Секретный Завод", ManagerID: f.boris.m.ID, Contacts: map[string]store.Contact{
		"boris-p": {Name: "Пётр", Position: "директор", Phones: []string{"+79161112233"}, Emails: []string{"petr@zavod.ru"}}}})
	f.mine = w.client(&store.Client{Name: "Ромашка", ManagerID: f.anna.m.ID, Contacts: map[string]store.Contact{"anna-p": {Name: "Иван"}}})
	f.file = &store.File{ClientID: f.theirs.ID, Name: "смета.pdf", Data: []byte("pdf"), TelegramFileID: "tg-file"}
	if err := w.st.AttachFile(ctx, f.boris.m.ID, f.file); err != nil {
		t.Fatal(err)
	}
	f.task = &store.Task{AssigneeID: f.boris.m.ID, ClientID: f.theirs.ID, Due: testNow.Add(time.Hour), Text: "отвезти откат"}
	if err := w.st.CreateTask(ctx, f.boris.m.ID, f.task); err != nil {
		t.Fatal(err)
	}
	f.letter = &store.Letter{ID: store.LetterID("secret@zavod.ru", ""), MessageID: "secret@zavod.ru", Subject: "Тайная смета",
		From: store.MailAddress{Name: "Пётр", Email: "petr@zavod.ru"}, Date: testNow, Preview: "цена 100 рублей", Text: "цена 100 рублей",
		Attachments: []store.LetterAttachment{{Name: "смета.xlsx", Size: 4, FileID: store.LetterID("secret@zavod.ru", "") + "/0"}}}
	if err := w.st.SaveFiles(ctx, []*store.File{{ID: f.letter.Attachments[0].FileID, LetterID: f.letter.ID, Name: "смета.xlsx",
		Size: 4, Kind: "attachment", Data: []byte("xlsx"), By: "mail"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.SaveLetters(ctx, []*store.Letter{f.letter}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.LinkLetter(ctx, "mail", f.letter, f.theirs.ID); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.order, err = w.st.RecordOrder(ctx, store.Viewer{ManagerID: f.boris.m.ID, Role: store.RoleManager},
		store.NewOrder{ClientID: f.theirs.ID, What: "Станок", Amount: 1_000_000_00}); err != nil {
		t.Fatal(err)
	}
	return f
}

// queue puts a letter nobody matched in the unsorted queue, as the mailbox does.
func (w *world) queue(id, from, subject string) *store.Letter {
	w.t.Helper()
	ctx := context.Background()
	l := &store.Letter{ID: store.LetterID(id, ""), MessageID: id, Subject: subject, From: store.MailAddress{Name: "Пётр Иванов", Email: from},
		Date: testNow, Preview: "Здравствуйте"}
	if err := w.st.SetLetterUnsorted(ctx, l, true); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
		w.t.Fatal(err)
	}
	return l
}

// letterRef is a letter's reference in callback data ("mid:<hex>" is "m<hex>").
func letterRef(l *store.Letter) string {
	kind, hex, _ := strings.Cut(l.ID, ":")
	return kind[:1] + hex
}

// forge taps callback data no button offered and checks that the only answer is the
// polite refusal want, and that no dialog was left open: a typed word after it is a
// search.
func (f *forgery) forge(c *chat, d, want string) {
	f.t.Helper()
	if got := c.tapData(d); got != "[notice] "+want {
		f.t.Fatalf("forged tap %s got:\n%s\nwant only the notice %q", d, got, want)
	}
	c.expect(c.send("Взломано"), "ничего не нашлось")
}

// unchanged checks that a client is as it was: no write reached it.
func (f *forgery) unchanged(before *store.Client) {
	f.t.Helper()
	after, err := f.st.Client(context.Background(), before.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if after.Version != before.Version || after.ManagerID != before.ManagerID {
		f.t.Fatalf("client %s changed: version %d -> %d, manager %q -> %q", before.Name, before.Version, after.Version, before.ManagerID, after.ManagerID)
	}
}

func (f *forgery) fresh(c *store.Client) *store.Client {
	f.t.Helper()
	got, err := f.st.Client(context.Background(), c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// Every action on another manager's letter (show, read any page, send its file,
// attach, new client, ignore the sender, handled) is refused: the letter is not
// shown, nothing is copied into Anna's client, the sender is not ignored.
func TestForgedLetterTapsAreRefused(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	theirs, mine := f.fresh(f.theirs), f.fresh(f.mine)
	ref := letterRef(f.letter)
	for _, d := range []string{"li:" + ref, "la:" + ref + ":" + mine.ID, "la:" + ref + ":" + theirs.ID, "ln:" + ref, "lx:" + ref, "lh:" + ref,
		"lr:" + ref + ":0", "lr:" + ref + ":1", "lr:" + ref, "lf:" + ref + ":0", "lf:" + ref + ":x",
		"li:mnothere", "li:", "lr:mnothere:0", "lf:rnothere:0", "lr:", "lf:"} {
		f.forge(f.anna, d, "Письмо недоступно.")
	}
	// An unsorted letter is anybody's to sort, but not into another manager's client.
	unsorted := f.queue("free@x", "olga@vector.ru", "Договор")
	f.forge(f.anna, "la:"+letterRef(unsorted)+":"+theirs.ID, "Клиент не найден.")

	f.unchanged(theirs)
	f.unchanged(mine)
	l, err := f.st.Letter(ctx, f.letter.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Clients) != 1 || len(l.Linked) != 1 || l.Unsorted || l.HandledAt != nil {
		t.Fatalf("the letter changed: %+v", l)
	}
	if ignored, _ := f.st.SenderIgnored(ctx, "petr@zavod.ru"); ignored {
		t.Fatal("a forged tap ignored the sender of another manager's client")
	}
	if hit, err := f.st.FindByEmail(ctx, "petr@zavod.ru"); err != nil || hit.Client.ID != theirs.ID {
		t.Fatalf("the sender's address moved: %+v %v", hit, err)
	}

	// Those who see the client do see its letter, and read it and its file.
	for _, c := range []*chat{f.boris, f.head} {
		c.expect(c.tapData("li:"+ref), "Тайная смета", "petr@zavod.ru")
		c.send("/cancel")
		c.expect(c.tapData("lr:"+ref+":0"), "Тайная смета", "цена 100 рублей")
		c.expect(c.tapData("lf:"+ref+":0"), "[document] смета.xlsx")
	}
	f.anna.expect(f.anna.tapData("li:"+letterRef(unsorted)), "Договор", "olga@vector.ru")
	f.anna.send("/cancel")
	f.anna.expect(f.anna.tapData("lr:"+letterRef(unsorted)+":0"), "Договор", "olga@vector.ru", "Здравствуйте")
}

// A letter is checked again when the new client made from it is saved: one that went
// to another manager's client meanwhile is not copied into the new client.
func TestNewClientFromALetterSortedMeanwhileDoesNotGetIt(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	l := f.queue("race@x", "olga@vector.ru", "Договор")
	f.anna.send("/inbox")
	f.anna.tap("➕ 1")
	f.anna.tap("компания")
	f.anna.send("Вектор")
	for range 4 {
		if strings.Contains(f.anna.text(), "Проверьте") {
			break
		}
		f.anna.tap("Пропустить")
	}

	f.boris.send("/inbox")
	f.boris.tap("📎 1")
	f.boris.send("Секретный")
	f.boris.expect(f.boris.tap("Секретный Завод"), "добавлено в историю")

	got := f.anna.tap("Сохранить")
	f.anna.expect(got, "создан", "Письмо недоступно.")
	f.anna.refuse(got, "добавлено в историю", "Секретный")
	hit, err := f.st.FindByEmail(ctx, "olga@vector.ru")
	if err != nil || hit.Client.ManagerID != f.anna.m.ID {
		t.Fatalf("the new client: %+v %v", hit, err)
	}
	if items, _, _ := f.st.Timeline(ctx, hit.Client.ID, 0, 5); len(items) != 0 {
		t.Fatalf("the new client got another manager's letter: %+v", items)
	}
	if after, _ := f.st.Letter(ctx, l.ID); len(after.Clients) != 1 || after.Clients[0] != f.theirs.ID {
		t.Fatalf("the letter's clients: %v", after.Clients)
	}
}

// A forged file tap sends no file of another manager's client, and names none.
func TestForgedFileTapIsRefused(t *testing.T) {
	f := newForgery(t)
	for _, d := range []string{"f:" + f.file.ID, "f:nothere", "f:"} {
		f.forge(f.anna, d, "Клиент не найден.")
	}
	f.boris.expect(f.boris.tapData("f:"+f.file.ID), "[document] смета.pdf")
}

// Forged task taps (done, an hour later, tomorrow, the task's card) leave another
// manager's task as it was and do not show it.
func TestForgedTaskTapsAreRefused(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	theirs := f.fresh(f.theirs)
	for _, d := range []string{"td:" + f.task.ID, "tz:" + f.task.ID + ":1h", "tz:" + f.task.ID + ":t10", "tz:" + f.task.ID + ":x", "td:nothere"} {
		f.forge(f.anna, d, "Задача не найдена.")
	}
	f.forge(f.anna, "c:"+f.task.ClientID, "Клиент не найден.")
	tk, err := f.st.Task(ctx, f.task.ID)
	if err != nil || tk.State != store.TaskOpen || !tk.Due.Equal(f.task.Due) {
		t.Fatalf("the task changed: %+v %v", tk, err)
	}
	f.unchanged(theirs)
	if open, _ := f.st.OpenTasks(ctx, f.boris.m.ID); len(open) != 1 {
		t.Fatalf("Boris's open tasks: %+v", open)
	}
	f.head.expect(f.head.tapData("tz:"+f.task.ID+":1h"), "Отложено")
}

// Forged contact taps (list, menu, add, every field, delete) neither show nor change
// another manager's contact, nor reach it through the manager's own client.
func TestForgedContactTapsAreRefused(t *testing.T) {
	f := newForgery(t)
	theirs, mine := f.fresh(f.theirs), f.fresh(f.mine)
	id, p := theirs.ID, "boris-p"
	forged := []string{"ct:" + id, "ca:" + id, "ce:" + id + ":" + p}
	for _, field := range []string{"name", "position", "phone", "email", "birthday", "dm", "consent", "delete"} {
		forged = append(forged, "cf:"+id+":"+p+":"+field)
	}
	for _, d := range forged {
		f.forge(f.anna, d, "Клиент не найден.")
	}
	for _, d := range []string{"ce:" + mine.ID + ":" + p, "cf:" + mine.ID + ":" + p + ":delete", "cf:" + mine.ID + ":" + p + ":dm",
		"cf:" + mine.ID + ":" + p + ":name"} {
		f.forge(f.anna, d, "Эта кнопка устарела.")
	}
	// An unassigned client's contacts are seen, and changed once it is taken.
	nobodys := f.fresh(f.client(&store.Client{Name: "Ничей", Contacts: map[string]store.Contact{"n-p": {Name: "Семён"}}}))
	f.anna.expect(f.anna.tapData("ct:"+nobodys.ID), "Семён")
	for _, d := range []string{"ca:" + nobodys.ID, "ce:" + nobodys.ID + ":n-p", "cf:" + nobodys.ID + ":n-p:delete", "cf:" + nobodys.ID + ":n-p:name"} {
		f.forge(f.anna, d, "Это клиент без менеджера: сначала возьмите его себе.")
	}
	f.unchanged(theirs)
	f.unchanged(mine)
	f.unchanged(nobodys)
	f.boris.expect(f.boris.tapData("ce:"+id+":"+p), "Пётр", "директор")
}

// Forged team taps: only an admin deactivates, only a head or an admin reassigns, and
// only to an active manager.
func TestForgedTeamTapsAreRefused(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	mine := f.fresh(f.mine)
	gone := f.manager("Ушедший", store.RoleManager, "ru", "Europe/Moscow")
	if _, err := f.st.UpdateManager(ctx, "test", gone.m.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	f.forge(f.head, "md:"+f.boris.m.ID, "Это может только администратор.")
	f.forge(f.anna, "md:"+f.boris.m.ID, "Это может только администратор.")
	f.forge(f.anna, "as:"+mine.ID, "Это может только руководитель или администратор.")
	f.forge(f.anna, "am:"+mine.ID+":"+f.boris.m.ID, "Это может только руководитель или администратор.")
	f.forge(f.head, "am:"+mine.ID+":"+gone.m.ID, "Эта кнопка устарела.")
	f.forge(f.head, "am:"+mine.ID+":nothere", "Эта кнопка устарела.")
	f.unchanged(mine)
	if b, _ := f.st.Manager(ctx, f.boris.m.ID); !b.Active {
		t.Fatal("a forged tap deactivated Boris")
	}
}

// A voice message for a dialog whose client went to another manager meanwhile is not
// stored for that client: the client is checked before the file is downloaded.
func TestVoiceForAClientReassignedMeanwhileIsRefused(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	f.anna.send("Ромашка")
	f.anna.expect(f.anna.tap("Заметка"), "Заметка для")
	borisID := f.boris.m.ID
	if _, err := f.st.UpdateClient(ctx, f.head.m.ID, f.mine.ID, store.ClientPatch{ManagerID: &borisID}); err != nil {
		t.Fatal(err)
	}
	before := f.fresh(f.mine)
	fetched := false
	f.anna.do(bot.Update{File: &bot.IncomingFile{Kind: bot.FileVoice, FileID: "tg-voice", Size: 3,
		Fetch: func(context.Context) ([]byte, error) { fetched = true; return []byte("ogg"), nil }}})
	if got := f.anna.text(); got != "Клиент не найден." {
		t.Fatalf("voice for another manager's client got: %s", got)
	}
	if fetched {
		t.Fatal("the voice message was downloaded and stored for another manager's client")
	}
	f.unchanged(before)
	f.anna.expect(f.anna.send("Взломано"), "ничего не нашлось")
}

// Every route that names something is tapped with data Anna forged: Boris's client,
// file, task or letter, an unassigned client for the routes that change one, and as a
// manager where the role decides. The only answer is the refusal of the loader its
// route's access names, and nothing changes: a handler that skips its loader, or uses
// another than its route says, fails here.
func TestEveryRouteRefusesThroughItsLoader(t *testing.T) {
	f := newForgery(t)
	ctx := context.Background()
	theirs, mine := f.fresh(f.theirs), f.fresh(f.mine)
	nobodys := f.fresh(f.client(&store.Client{Name: "Ничей", Contacts: map[string]store.Contact{"n-p": {Name: "Семён"}}}))
	// What follows the thing a code names, where its handler checks it first.
	after := map[string][]string{"h": {"0"}, "co": {"reached"}, "ss": {string(store.StageGreen)}, "ef": {"name"}, "gr": {"off"},
		"ce": {"n-p"}, "cf": {"n-p", "name"}, "cy": {"n-p"}, "tz": {"1h"}, "la": {mine.ID}, "am": {mine.ID, f.boris.m.ID},
		"rr": {string(store.StageRedGreen), string(store.RefusalPrice)}, "mh": {f.head.m.ID},
		"ou": {string(store.OrderPaid)}, "oy": {"mistake"}}
	tapped := 0
	for code, access := range bot.TapAccess() {
		named, want := theirs.ID, "Клиент не найден."
		switch access {
		case "own":
			continue
		case "dialog":
			named, want = theirs.ID, "Этот диалог уже закончен."
		case "file":
			named = f.file.ID
		case "task":
			named, want = f.task.ID, "Задача не найдена."
		case "letter":
			named, want = letterRef(f.letter), "Письмо недоступно."
		case "order":
			named, want = f.order.ID, "Заказ не найден."
		case "role":
			named, want = mine.ID, "Это может только руководитель или администратор."
			switch code {
			case "md", "mdy", "mu", "mo", "mh", "hd", "hp", "hs": // the admin's team taps
				named, want = f.boris.m.ID, "Это может только администратор."
			}
		}
		args := after[code]
		if code == "am" {
			named, args = args[0], args[1:]
		}
		f.forge(f.anna, strings.Join(append([]string{code, named}, args...), ":"), want)
		if access == "editable" {
			f.forge(f.anna, strings.Join(append([]string{code, nobodys.ID}, args...), ":"), "Это клиент без менеджера: сначала возьмите его себе.")
		}
		tapped++
	}
	if tapped < 30 {
		t.Fatalf("only %d routes forged", tapped)
	}
	f.unchanged(theirs)
	f.unchanged(mine)
	f.unchanged(nobodys)
	if tk, err := f.st.Task(ctx, f.task.ID); err != nil || tk.State != store.TaskOpen || !tk.Due.Equal(f.task.Due) {
		t.Fatalf("the task changed: %+v %v", tk, err)
	}
	if l, err := f.st.Letter(ctx, f.letter.ID); err != nil || len(l.Clients) != 1 || l.HandledAt != nil {
		t.Fatalf("the letter changed: %+v %v", l, err)
	}
	if ignored, _ := f.st.SenderIgnored(ctx, "petr@zavod.ru"); ignored {
		t.Fatal("a forged tap ignored the sender of another manager's client")
	}
	f.orderUnchanged()
}

// orderUnchanged checks that Boris's order is as it was and his client has no other.
func (f *forgery) orderUnchanged() {
	f.t.Helper()
	ctx := context.Background()
	o, err := f.st.Order(ctx, f.order.ID)
	if err != nil || o.State != store.OrderInvoiced || len(o.Payments) != 0 || o.CancelReason != "" || o.Invoice != nil {
		f.t.Fatalf("Boris's order changed: %+v %v", o, err)
	}
	if m, err := f.st.ClientMoney(ctx, f.theirs.ID); err != nil || len(m.Orders) != 1 {
		f.t.Fatalf("Boris's client's orders: %+v %v", m, err)
	}
}
