package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The web's client list filters, sorts and pages what the viewer sees, and ranks a
// search as the bot does.
func TestClientList(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	mk := func(name, manager, city string, stage store.Stage) *store.Client {
		c := &store.Client{Name: name, ManagerID: manager, City: city, Stage: stage}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	romashka := mk("Ромашка", "m1", "Москва", store.StageGreen)
	bigRomashka := mk("Большая ромашка", "m1", "Казань", store.StageWhite)
	free := mk("Ромашковое поле", "", "москва", store.StageGreen)
	mk("Лютик", "m2", "Москва", store.StageGold)
	if err := s.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	m1 := store.Viewer{ManagerID: "m1", Role: store.RoleManager}
	head := store.Viewer{ManagerID: "h", Role: store.RoleHead}
	names := func(p store.ClientPage) []string {
		var out []string
		for _, r := range p.Rows {
			out = append(out, r.Name)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		v     store.Viewer
		q     store.ClientQuery
		want  []string
		total int
	}{
		{"a manager sees own and unassigned", m1, store.ClientQuery{}, []string{bigRomashka.Name, romashka.Name, free.Name}, 3},
		{"a head sees all", head, store.ClientQuery{Sort: store.SortName}, []string{bigRomashka.Name, "Лютик", romashka.Name, free.Name}, 4},
		{"ranked as the bot ranks", m1, store.ClientQuery{Text: "ромашк"}, []string{romashka.Name, free.Name, bigRomashka.Name}, 3},
		{"city in any case, stage", head, store.ClientQuery{City: "МОСКВА", Stages: []store.Stage{store.StageGreen}}, []string{romashka.Name, free.Name}, 2},
		{"unassigned", head, store.ClientQuery{Manager: store.NoManager}, []string{free.Name}, 1},
		{"one manager's, by stage", head, store.ClientQuery{Manager: "m1", Sort: store.SortStage}, []string{bigRomashka.Name, romashka.Name}, 2},
		{"a page", head, store.ClientQuery{Offset: 1, Limit: 2}, []string{"Лютик", romashka.Name}, 4},
		{"all after the first (an export)", head, store.ClientQuery{Offset: 1, Limit: math.MaxInt}, []string{"Лютик", romashka.Name, free.Name}, 4},
	} {
		p, err := s.ClientList(ctx, c.v, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := names(p); !equal(got, c.want) || p.Total != c.total {
			t.Errorf("%s: %q of %d, want %q of %d", c.name, got, p.Total, c.want, c.total)
		}
	}
	if _, _, err := s.MarkClients(ctx, map[string]store.Marks{romashka.ID: {Class: "AX", AtRisk: true}, free.ID: {Class: "BY"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    store.ClientQuery
		want []string
	}{
		{store.ClientQuery{Class: "A"}, []string{romashka.Name}},
		{store.ClientQuery{Class: "y"}, []string{free.Name}},
		{store.ClientQuery{AtRisk: true}, []string{romashka.Name}},
	} {
		p, err := s.ClientList(ctx, head, c.q)
		if got := names(p); err != nil || !equal(got, c.want) {
			t.Errorf("%+v: %q %v, want %q", c.q, got, err, c.want)
		}
	}
	p, _ := s.ClientList(ctx, m1, store.ClientQuery{})
	if len(p.Cities) != 3 || p.Cities[0] != "Казань" && p.Cities[0] != "Москва" {
		t.Errorf("cities offered to m1: %q", p.Cities)
	}
}

// A client list filters by industry and tags in any case, and by open tasks, which
// the directory follows as tasks are made and done.
func TestClientListIndustryTagsTasks(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	mk := func(name, industry string, tags ...string) *store.Client {
		c := &store.Client{Name: name, ManagerID: "m1", Industry: industry, Tags: tags}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	flowers := mk("Ромашка", "Цветы", "VIP", "опт")
	mk("Лютик", "цветы", "опт")
	mk("Гвоздь", "Металл", "vip")
	task := &store.Task{AssigneeID: "m1", ClientID: flowers.ID, Due: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), Text: "позвонить"}
	if err := s.CreateTask(ctx, "m1", task); err != nil {
		t.Fatal(err)
	}
	m1 := store.Viewer{ManagerID: "m1", Role: store.RoleManager}
	list := func(q store.ClientQuery) ([]string, store.ClientPage) {
		t.Helper()
		if err := s.Directory().Sync(ctx); err != nil {
			t.Fatal(err)
		}
		q.Sort = store.SortName
		p, err := s.ClientList(ctx, m1, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range p.Rows {
			out = append(out, r.Name)
		}
		return out, p
	}
	for _, c := range []struct {
		name string
		q    store.ClientQuery
		want []string
	}{
		{"industry in any case", store.ClientQuery{Industry: "ЦВЕТЫ"}, []string{"Лютик", "Ромашка"}},
		{"a tag in any case", store.ClientQuery{Tags: []string{"vip"}}, []string{"Гвоздь", "Ромашка"}},
		{"every tag", store.ClientQuery{Tags: []string{"vip", " Опт "}}, []string{"Ромашка"}},
		{"open tasks", store.ClientQuery{HasTasks: true}, []string{"Ромашка"}},
	} {
		if got, _ := list(c.q); !equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	_, p := list(store.ClientQuery{Industry: "Цветы", HasTasks: true})
	if len(p.Rows) != 1 || !p.Rows[0].HasTasks || !equal(p.Rows[0].Tags, []string{"vip", "опт"}) {
		t.Errorf("the row: %+v", p.Rows)
	}
	if len(p.Industries) != 3 {
		t.Errorf("industries offered: %q", p.Industries)
	}
	if _, err := s.SetTaskState(ctx, "m1", task.ID, store.TaskDone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := list(store.ClientQuery{HasTasks: true}); len(got) != 0 {
		t.Errorf("open tasks after the only one was done: %q", got)
	}
}

// A board lists the clients a viewer sees by stage, in funnel order, the first n of
// each sorted as asked, with each stage's count.
func TestClientBoard(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	for _, c := range []*store.Client{
		{Name: "Бета", ManagerID: "m1", Stage: store.StageGreen},
		{Name: "Альфа", ManagerID: "m1", Stage: store.StageGreen},
		{Name: "Гамма", ManagerID: "m1", Stage: store.StageGreen, City: "Тверь"},
		{Name: "Дельта", Stage: store.StageRedGold, RefusalReason: "дорого"},
		{Name: "Чужой", ManagerID: "m2", Stage: store.StageGreen},
	} {
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	m1 := store.Viewer{ManagerID: "m1", Role: store.RoleManager}
	cols, page, err := s.ClientBoard(ctx, m1, store.ClientQuery{Sort: store.SortName}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != len(store.Stages) || page.Total != 4 {
		t.Fatalf("%d columns, %d clients", len(cols), page.Total)
	}
	got := map[store.Stage]string{}
	for i, c := range cols {
		if c.Stage != store.Stages[i] {
			t.Errorf("column %d is %s", i, c.Stage)
		}
		var names []string
		for _, r := range c.Rows {
			names = append(names, r.Name)
		}
		got[c.Stage] = fmt.Sprint(c.Total, names)
	}
	if got[store.StageGreen] != "3 [Альфа Бета]" || got[store.StageRedGold] != "1 [Дельта]" || got[store.StageWhite] != "0 []" {
		t.Errorf("columns: %q", got)
	}
	cols, _, err = s.ClientBoard(ctx, m1, store.ClientQuery{City: "тверь", Stages: []store.Stage{store.StageGreen}}, 2)
	if err != nil || len(cols) != 1 || cols[0].Total != 1 || cols[0].Rows[0].Name != "Гамма" {
		t.Errorf("Tver's green column: %+v %v", cols, err)
	}
}
