package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/embedded"
	"github.com/crm-team/crm/store/storetest"
)

func newClient(name string, emails ...string) *store.Client {
	return &store.Client{Name: name, Contacts: map[string]store.Contact{
		"p1": {Name: "Анна Петрова", Emails: emails, Phones: []string{}},
	}}
}

func TestCreateAndLookUpByKeys(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{
		Name: "ООО «Ромашка»", City: "Казань", Legal: store.Legal{INN: "7707083893"},
		Contacts: map[string]store.Contact{"anna": {Name: "Анна", Emails: []string{"Anna@Romashka.ru"}, Phones: []string{"8 (916) 123-45-67"},
			Birthday: &store.Birthday{Month: 2, Day: 29}}},
	}
	if err := s.CreateClient(ctx, "m1", c); err != nil {
		t.Fatal(err)
	}
	if c.Stage != store.StageWhite || c.Version != 1 {
		t.Fatalf("new client: stage %q version %d", c.Stage, c.Version)
	}
	for name, find := range map[string]func() (*store.Hit, error){
		"email": func() (*store.Hit, error) { return s.FindByEmail(ctx, "ANNA@romashka.ru") },
		"phone": func() (*store.Hit, error) { return s.FindByPhone(ctx, "+7 916 1234567") },
		"inn":   func() (*store.Hit, error) { return s.FindByINN(ctx, "7707083893") },
	} {
		hit, err := find()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hit.Client.ID != c.ID {
			t.Fatalf("%s found %s, want %s", name, hit.Client.ID, c.ID)
		}
		if name != "inn" && hit.ContactID != "anna" {
			t.Fatalf("%s: contact %q, want anna", name, hit.ContactID)
		}
	}
	if _, err := s.FindByEmail(ctx, "nobody@romashka.ru"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown e-mail: %v", err)
	}

	// The same e-mail on another client is refused, naming the owner, and saves nothing.
	other := newClient("ИП Сидоров", "anna@romashka.ru")
	other.Legal.INN = "500100732259"
	err := s.CreateClient(ctx, "m2", other)
	var taken *store.KeyTakenError
	if !errors.As(err, &taken) || taken.ClientName != "ООО «Ромашка»" {
		t.Fatalf("duplicate e-mail: err = %v, want KeyTakenError naming ООО «Ромашка»", err)
	}
	if _, err := s.FindByINN(ctx, "500100732259"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused client's INN was kept: %v", err)
	}
	if _, err := s.Client(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused client was saved: %v", err)
	}

	// Bad input is refused with a clear message.
	bad := newClient("Плохой", "not-an-email")
	if err := s.CreateClient(ctx, "m1", bad); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad e-mail: %v", err)
	}
}

func TestFieldLevelUpdatesDoNotOverwrite(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := newClient("Альфа", "a@alfa.ru")
	if err := s.CreateClient(ctx, "m1", c); err != nil {
		t.Fatal(err)
	}
	// Two managers loaded the same card and change different fields.
	city, industry := "Самара", "Логистика"
	var wg sync.WaitGroup
	for _, p := range []store.ClientPatch{{City: &city}, {Industry: &industry}} {
		wg.Add(1)
		go func(p store.ClientPatch) {
			defer wg.Done()
			if _, err := s.UpdateClient(ctx, "m", c.ID, p); err != nil {
				t.Error(err)
			}
		}(p)
	}
	wg.Wait()
	got, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.City != city || got.Industry != industry || got.Version != 3 {
		t.Fatalf("after two edits: city %q industry %q version %d", got.City, got.Industry, got.Version)
	}

	// Changing a contact's e-mail moves the key.
	emails := []string{"new@alfa.ru"}
	if _, err := s.UpdateContact(ctx, "m1", c.ID, "p1", store.ContactPatch{Emails: &emails}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindByEmail(ctx, "a@alfa.ru"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old e-mail still found: %v", err)
	}
	if hit, err := s.FindByEmail(ctx, "new@alfa.ru"); err != nil || hit.Client.ID != c.ID {
		t.Fatalf("new e-mail: %v", err)
	}
	// The freed address can be given to another client.
	if err := s.CreateClient(ctx, "m2", newClient("Бета", "a@alfa.ru")); err != nil {
		t.Fatalf("freed e-mail: %v", err)
	}
	log, err := s.AuditLog(ctx, c.ID, 10)
	if err != nil || len(log) != 4 {
		t.Fatalf("audit log: %d entries, %v; want create, two updates, contact update", len(log), err)
	}
}

func TestConcurrentWritersSameEmailExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	for round := 0; round < 10; round++ {
		email := fmt.Sprintf("race%d@example.ru", round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = s.CreateClient(ctx, "m", newClient(fmt.Sprintf("Гонщик %d-%d", round, i), email))
			}(i)
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			var taken *store.KeyTakenError
			switch {
			case err == nil:
				wins++
			case !errors.As(err, &taken):
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, wins, errs)
		}
		if _, err := s.FindByEmail(ctx, email); err != nil {
			t.Fatalf("round %d: winner's e-mail not found: %v", round, err)
		}
	}
}

// A crash between the key write and the client write leaves a stale key: look-ups do
// not follow it, and after the grace period another client may take the key and the
// repair removes what is left.
func TestCrashHalfwayAndRepair(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s := storetest.New(t, func(o *store.Options) { o.Now = now })

	crashAt := ""
	s.SetCrash(func(p string) error {
		if p == crashAt {
			return errors.New("crash")
		}
		return nil
	})

	crashAt = "create:keys"
	lost := newClient("Потерянный", "lost@example.ru")
	if err := s.CreateClient(ctx, "m", lost); err == nil {
		t.Fatal("the crash point did not fire")
	}
	crashAt = ""
	if _, err := s.FindByEmail(ctx, "lost@example.ru"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a key left by a crash was followed: %v", err)
	}
	// Within the grace period the key is protected (its client may be mid-write)...
	if err := s.CreateClient(ctx, "m", newClient("Быстрый", "lost@example.ru")); err == nil {
		t.Fatal("a fresh key was taken over within the grace period")
	}
	// ...after it, the stale key is taken over.
	advance(5 * time.Minute)
	taker := newClient("Новый владелец", "lost@example.ru")
	if err := s.CreateClient(ctx, "m", taker); err != nil {
		t.Fatalf("stale key not taken over: %v", err)
	}

	// Crash after the client dropped an e-mail but before its key was released.
	crashAt = "update:written"
	kept := []string{"kept@example.ru"}
	if _, err := s.UpdateContact(ctx, "m", taker.ID, "p1", store.ContactPatch{Emails: &kept}); err == nil {
		t.Fatal("the crash point did not fire")
	}
	crashAt = ""
	if _, err := s.FindByEmail(ctx, "lost@example.ru"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an address the client no longer has was found: %v", err)
	}
	if hit, err := s.FindByEmail(ctx, "kept@example.ru"); err != nil || hit.Client.ID != taker.ID {
		t.Fatalf("the new address (key written before the client) is not found: %v", err)
	}

	// A key lost some other way (a partial restore) is recreated by the repair.
	if err := s.CreateClient(ctx, "m", newClient("С ключом", "restored@example.ru")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKeyForTest(ctx, "email:restored@example.ru"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindByEmail(ctx, "restored@example.ru"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("key was not deleted")
	}

	advance(5 * time.Minute)
	rep, err := s.RepairKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.StaleRemoved != 1 || rep.MissingCreated != 1 {
		t.Fatalf("repair: %+v, want 1 stale removed (lost@) and 1 missing created (restored@)", rep)
	}
	if _, err := s.FindByEmail(ctx, "restored@example.ru"); err != nil {
		t.Fatalf("repaired key not found: %v", err)
	}
	if rep, err := s.RepairKeys(ctx); err != nil || rep != (store.RepairReport{}) {
		t.Fatalf("second repair changed something: %+v %v", rep, err)
	}
}

func TestStageMovesAndTimeline(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := newClient("Гамма", "g@gamma.ru")
	if err := s.CreateClient(ctx, "m1", c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveStage(ctx, "m1", c.ID, store.StageRedGreen, store.Refusal{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("red stage without reason: %v", err)
	}
	if _, err := s.MoveStage(ctx, "m1", c.ID, "purple", store.Refusal{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown stage: %v", err)
	}
	if _, err := s.MoveStage(ctx, "m1", c.ID, store.StageGrey, store.Refusal{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MoveStage(ctx, "m1", c.ID, store.StageRedGreen, store.Refusal{Reason: "дорого"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Stage != store.StageRedGreen || got.RefusalReason != "дорого" {
		t.Fatalf("after move: %q %q", got.Stage, got.RefusalReason)
	}
	for i := 1; i <= 120; i++ {
		if _, err := s.AppendInteraction(ctx, c.ID, store.Interaction{Kind: store.InteractionCall, AuthorID: "m1",
			Text: fmt.Sprintf("звонок %d", i), Call: &store.Call{Direction: "out", Outcome: "reached"}}); err != nil {
			t.Fatal(err)
		}
	}
	card, err := s.Card(ctx, c.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Interactions) != 20 || card.Interactions[0].Text != "звонок 120" || card.Interactions[19].Text != "звонок 101" {
		t.Fatalf("card: %d interactions, first %q", len(card.Interactions), card.Interactions[0].Text)
	}
	// Page back to the start: 122 entries, newest first, none twice.
	var all []store.Interaction
	before := card.More
	all = append(all, card.Interactions...)
	for before != 0 {
		page, next, err := s.Timeline(ctx, c.ID, before, 30)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		before = next
	}
	if len(all) != 122 {
		t.Fatalf("timeline has %d entries, want 122", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq-1 {
			t.Fatalf("entry %d has seq %d after %d", i, all[i].Seq, all[i-1].Seq)
		}
	}
	first, last := all[len(all)-1], all[len(all)-2]
	if first.Stage == nil || first.Stage.From != store.StageWhite || first.Stage.To != store.StageGrey ||
		last.Stage == nil || last.Stage.To != store.StageRedGreen || last.Stage.Reason != "дорого" {
		t.Fatalf("stage entries: %+v %+v", first.Stage, last.Stage)
	}
}

func TestMigrateTwiceAndIDPlans(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	eng := storetest.Engine(t)
	db, err := embedded.OpenSQLite(eng.DataDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := embedded.CollectionTables(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range store.Collections() {
		table, ok := tables[col]
		if !ok {
			t.Fatalf("migrate did not create %s", col)
		}
		plan, err := embedded.IDQueryPlan(ctx, db, table)
		if err != nil || !containsAll(plan, "SEARCH", "USING INDEX") {
			t.Errorf("%s: _id plan %q, %v", col, plan, err)
		}
	}
}

func TestManagersAndTasks(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	m := &store.Manager{Name: "Ольга", TelegramID: 1001, Role: store.RoleHead}
	if err := s.CreateManager(ctx, "admin", m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ManagerByTelegram(ctx, 1001); err != nil || got.ID != m.ID {
		t.Fatalf("by telegram: %v", err)
	}
	if err := s.CreateManager(ctx, "admin", &store.Manager{Name: "Двойник", TelegramID: 1001}); err == nil {
		t.Fatal("a Telegram account was given to two managers")
	}
	if err := s.CreateManager(ctx, "admin", &store.Manager{Name: "X", Role: "boss"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad role: %v", err)
	}
	c := newClient("Дельта", "d@delta.ru")
	if err := s.CreateClient(ctx, m.ID, c); err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	task := &store.Task{AssigneeID: m.ID, ClientID: c.ID, Due: due, TimeZone: "Europe/Moscow", Text: "перезвонить"}
	if err := s.CreateTask(ctx, m.ID, task); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Client(ctx, c.ID)
	if got.NextContactAt == nil || !got.NextContactAt.Equal(due) {
		t.Fatalf("next contact %v, want %v", got.NextContactAt, due)
	}
	open, err := s.OpenTasks(ctx, m.ID)
	if err != nil || len(open) != 1 {
		t.Fatalf("open tasks: %v %v", open, err)
	}
	if _, err := s.SetTaskState(ctx, m.ID, task.ID, store.TaskDone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenTasks(ctx, m.ID); len(open) != 0 {
		t.Fatalf("done task still open")
	}
	if got, _ := s.Client(ctx, c.ID); got.NextContactAt != nil || len(got.Tasks) != 0 {
		t.Fatalf("done task still on the card: %v %v", got.NextContactAt, got.Tasks)
	}

	// Two open tasks: the card's next contact is the earlier; finishing it moves on.
	later := &store.Task{AssigneeID: m.ID, ClientID: c.ID, Due: due.Add(48 * time.Hour), Text: "встреча"}
	sooner := &store.Task{AssigneeID: m.ID, ClientID: c.ID, Due: due, Text: "КП"}
	for _, tk := range []*store.Task{later, sooner} {
		if err := s.CreateTask(ctx, m.ID, tk); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetTaskState(ctx, m.ID, sooner.ID, store.TaskDone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, c.ID); got.NextContactAt == nil || !got.NextContactAt.Equal(later.Due) || len(got.Tasks) != 1 {
		t.Fatalf("next contact %v, tasks %v; want %v", got.NextContactAt, got.Tasks, later.Due)
	}

	// A crash between the task and its copies is mended by the repair pass.
	if n, err := s.RepairTaskRefs(ctx); err != nil || n != 0 {
		t.Fatalf("repair of consistent refs fixed %d: %v", n, err)
	}
	s.ClearTaskRefsForTest(ctx, t, c.ID, m.ID)
	if open, _ := s.OpenTasks(ctx, m.ID); len(open) != 0 {
		t.Fatal("refs not cleared")
	}
	if n, err := s.RepairTaskRefs(ctx); err != nil || n != 2 {
		t.Fatalf("repair fixed %d, want 2: %v", n, err)
	}
	open, _ = s.OpenTasks(ctx, m.ID)
	if got, _ := s.Client(ctx, c.ID); len(open) != 1 || open[0].ID != later.ID || len(got.Tasks) != 1 || got.NextContactAt == nil {
		t.Fatalf("after repair: agenda %v, card %v", open, got.Tasks)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestConcurrentTimelineAppendsAreNumberedOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := newClient("Эпсилон", "e@eps.ru")
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := s.AppendInteraction(ctx, c.ID, store.Interaction{Kind: store.InteractionNote, Text: fmt.Sprintf("%d-%d", g, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	items, next, err := s.Timeline(ctx, c.ID, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, it := range items {
		if seen[it.Seq] {
			t.Fatalf("seq %d given twice", it.Seq)
		}
		seen[it.Seq] = true
	}
	if len(items) != 120 || next != 0 {
		t.Fatalf("%d entries (next %d), want 120", len(items), next)
	}
}

func TestPaidOrdersMoveStages(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "Зета", Stage: store.StageGreenGold}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrder(ctx, "m", &store.Order{ClientID: c.ID, Amount: 100_00, State: store.OrderInvoiced}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, c.ID); got.Stage != store.StageGreenGold || got.OrdersCount != 0 {
		t.Fatalf("an unpaid order moved the client: %q, %d orders", got.Stage, got.OrdersCount)
	}
	want := []store.Stage{store.StageGold, store.StageGold, store.StageGold, store.StagePlatinum, store.StagePlatinum}
	for i, stage := range want {
		if err := s.CreateOrder(ctx, "m", &store.Order{ClientID: c.ID, Amount: 250_00, State: store.OrderPaid}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Client(ctx, c.ID)
		if got.Stage != stage || got.OrdersCount != i+1 || got.OrdersTotal != int64(i+1)*250_00 {
			t.Fatalf("after paid order %d: stage %q, %d orders, total %d", i+1, got.Stage, got.OrdersCount, got.OrdersTotal)
		}
	}
	if _, err := s.MoveStage(ctx, "m", c.ID, store.StageRedPlatinum, store.Refusal{Reason: "ушли к конкуренту"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrder(ctx, "m", &store.Order{ClientID: c.ID, Amount: 1_00, State: store.OrderPaid}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, c.ID); got.Stage != store.StagePlatinum || got.RefusalReason != "" {
		t.Fatalf("a returning loyal client: %q %q", got.Stage, got.RefusalReason)
	}
	if orders, err := s.ClientOrders(ctx, c.ID); err != nil || len(orders) != 7 {
		t.Fatalf("orders: %d %v", len(orders), err)
	}
	if err := s.CreateOrder(ctx, "m", &store.Order{ClientID: c.ID, Amount: -5}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative amount: %v", err)
	}
}

func TestManagerClientsAndReassign(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var ids []string
	for i, name := range []string{"ООО Яблоко", "Арбуз", "ИП Вишня", "Груша"} {
		c := &store.Client{Name: name, ManagerID: []string{"anna", "anna", "anna", "boris"}[i]}
		if err := s.CreateClient(ctx, "admin", c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	page, total, err := s.ManagerClients(ctx, "anna", 0, 2)
	if err != nil || total != 3 || len(page) != 2 || page[0].Name != "Арбуз" || page[1].Name != "ИП Вишня" {
		t.Fatalf("anna's first page: %v total %d %v", names(page), total, err)
	}
	page, _, _ = s.ManagerClients(ctx, "anna", 2, 2)
	if len(page) != 1 || page[0].Name != "ООО Яблоко" {
		t.Fatalf("anna's second page: %v", names(page))
	}
	boris := "boris"
	if _, err := s.UpdateClient(ctx, "head", ids[0], store.ClientPatch{ManagerID: &boris}); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.ManagerClients(ctx, "anna", 0, 10); total != 2 {
		t.Fatalf("after reassigning, anna has %d clients", total)
	}
	if list, total, _ := s.ManagerClients(ctx, "boris", 0, 10); total != 2 || list[0].Name != "Груша" {
		t.Fatalf("boris: %v", names(list))
	}
	// Anna no longer sees the client she gave away.
	if got, _ := s.Search(ctx, store.Viewer{ManagerID: "anna"}, "яблоко", 10); len(got) != 0 {
		t.Fatalf("anna still finds a reassigned client: %v", names(got))
	}
}

// Stage moves made before they were kept by month are copied from the timelines once,
// with the time each client entered the stage it left.
func TestBackfillStageMovesFromTimelines(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	old := &store.Client{Name: "Старый"}
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	if err := s.CreateClient(ctx, "test", old); err != nil {
		t.Fatal(err)
	}
	// Moves as an older version wrote them: in the timeline only.
	for i, ch := range []store.StageChange{{From: store.StageWhite, To: store.StageGrey}, {From: store.StageGrey, To: store.StageRedGreen, Reason: "Дорого"}} {
		if _, err := s.AppendInteraction(ctx, old.ID, store.Interaction{Kind: store.InteractionStageChange, At: now.AddDate(0, i+1, 0),
			AuthorID: "anna", Stage: &ch}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendInteraction(ctx, old.ID, store.Interaction{Kind: store.InteractionNote, Text: "не то"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.BackfillStageMoves(ctx)
	if err != nil || n != 2 {
		t.Fatalf("backfill: %d, %v", n, err)
	}
	moves, err := s.StageMoves(ctx, now, now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 2 || moves[0].To != store.StageGrey || !moves[0].Since.Equal(now) || !moves[1].Since.Equal(now.AddDate(0, 1, 0)) ||
		moves[1].Reason != "Дорого" || moves[1].By != "anna" {
		t.Fatalf("moves: %+v", moves)
	}
	if c, _ := s.Client(ctx, old.ID); c.StageSince == nil || !c.StageSince.Equal(now.AddDate(0, 2, 0)) {
		t.Fatalf("stageSince: %v", c.StageSince)
	}
	if n, err := s.BackfillStageMoves(ctx); n != 0 || err != nil {
		t.Fatalf("second backfill: %d, %v", n, err)
	}
}

func TestStageMovesKeptByDay(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, msk) // 20:30 UTC, the company's day is 1 March
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now }; o.Location = msk })
	ctx := context.Background()
	c := &store.Client{Name: "Дельта"}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveStage(ctx, "anna", c.ID, store.StageRedGreen, store.Refusal{Reason: "Дорого,\tи\nдолго"}); err != nil {
		t.Fatal(err)
	}
	moves, err := s.StageMoves(ctx, now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil || len(moves) != 1 {
		t.Fatalf("moves: %+v, %v", moves, err)
	}
	m := moves[0]
	if m.Client != c.ID || m.From != store.StageWhite || m.To != store.StageRedGreen || !m.At.Equal(now) || !m.Since.Equal(now) ||
		m.By != "anna" || m.Reason != "Дорого, и долго" || m.Seq == 0 {
		t.Fatalf("move read back: %+v", m)
	}
	// The same move copied again from the timeline, with its time in the former stage
	// counted differently, is listed once.
	again := m
	again.Since = now.Add(-time.Hour)
	if err := s.RecordStageMoveForTest(ctx, again); err != nil {
		t.Fatal(err)
	}
	// A period that ends before the move, or begins after it, within the same day.
	for _, p := range [][2]time.Time{{now.Add(-time.Hour), now}, {now.Add(time.Millisecond), now.Add(time.Hour)}} {
		if got, err := s.StageMoves(ctx, p[0], p[1]); err != nil || len(got) != 0 {
			t.Fatalf("moves in %v: %+v, %v", p, got, err)
		}
	}
	if got, err := s.StageMoves(ctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)); err != nil || len(got) != 1 {
		t.Fatalf("the move recorded twice: %+v, %v", got, err)
	}
}

// A day's moves are packed into one text once the day is over and the older moves have
// been copied from the timelines; they read the same before and after.
func TestClosedStageDaysArePacked(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := now
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return clock } })
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"Альфа", "Бета"} {
		c := &store.Client{Name: name}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
		if _, err := s.MoveStage(ctx, "anna", c.ID, store.StageGrey, store.Refusal{}); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []store.StageMove {
		t.Helper()
		moves, err := s.StageMoves(ctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
		if err != nil || len(moves) != 2 {
			t.Fatalf("moves: %+v, %v", moves, err)
		}
		return moves
	}
	want := read()
	day := now.Format(time.DateOnly)
	clock = now.AddDate(0, 0, 3)
	read()
	if lines, packed := s.StageDayForTest(ctx, t, day); len(lines) != 2 || packed != "" {
		t.Fatalf("packed before the old moves were copied: %q %q", lines, packed)
	}
	if _, err := s.BackfillStageMoves(ctx); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(30 * time.Hour) // the day is over, but not for a whole day yet
	read()
	if _, packed := s.StageDayForTest(ctx, t, day); packed != "" {
		t.Fatalf("packed while a late move could still come: %q", packed)
	}
	clock = now.AddDate(0, 0, 3)
	read()
	lines, packed := s.StageDayForTest(ctx, t, day)
	if len(lines) != 0 || strings.Count(packed, "\n") != 1 || !strings.Contains(packed, ids[0]) || !strings.Contains(packed, ids[1]) {
		t.Fatalf("after packing: %q %q", lines, packed)
	}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("packed moves read\n%+v\nwant\n%+v", got, want)
	}
}
