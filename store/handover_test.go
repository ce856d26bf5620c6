package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A leaving manager's clients and open tasks go to another: the clients' manager, the
// directory, the tasks with their copies on cards and agendas. A crash midway leaves a
// mark that ResumeHandovers follows to the end; a second run moves nothing again, and a
// client given elsewhere meanwhile stays there.
func TestHandOverResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	team := map[string]*store.Manager{}
	for _, name := range []string{"Борис", "Анна", "Вера", "Ушедший"} {
		m := &store.Manager{Name: name, TimeZone: "Europe/Moscow"}
		if name == "Анна" {
			m.TimeZone = "Asia/Novosibirsk"
		}
		if err := s.CreateManager(ctx, "admin", m); err != nil {
			t.Fatal(err)
		}
		team[name] = m
	}
	boris, anna := team["Борис"].ID, team["Анна"].ID
	if _, err := s.UpdateManager(ctx, "admin", team["Ушедший"].ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	var clients []*store.Client
	for _, name := range []string{"Альфа", "Бета", "Гамма"} {
		c := &store.Client{Name: name, ManagerID: boris}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	due := now.Add(24 * time.Hour)
	tasks := []*store.Task{
		{AssigneeID: boris, ClientID: clients[0].ID, Due: due, Text: "КП"},
		{AssigneeID: boris, Due: due.Add(time.Hour), Text: "отчёт"},
		{AssigneeID: team["Вера"].ID, ClientID: clients[1].ID, Due: due, Text: "Верина"},
	}
	for _, tk := range tasks {
		if err := s.CreateTask(ctx, "test", tk); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{boris, team["Ушедший"].ID, "nobody"} {
		if _, err := s.HandOver(ctx, "admin", boris, bad); err == nil {
			t.Fatalf("handed over to %s", bad)
		}
	}

	// The crash comes after the first client.
	given := 0
	s.SetCrash(func(p string) error {
		if p == "handover:client" {
			if given++; given == 1 {
				return errors.New("crash")
			}
		}
		return nil
	})
	if _, err := s.HandOver(ctx, "admin", boris, anna); err == nil {
		t.Fatal("no crash")
	}
	s.SetCrash(nil)
	if m, _ := s.Manager(ctx, boris); m.HandoverTo != anna || m.HandoverBy != "admin" {
		t.Fatalf("no mark after the crash: %+v", m)
	}
	if _, total, _ := s.ManagerClients(ctx, boris, 0, 0); total != 2 {
		t.Fatalf("after the crash Boris has %d clients, want 2", total)
	}
	// Meanwhile a head gives one of Boris's clients to Vera: it stays hers.
	vera := team["Вера"].ID
	if _, err := s.UpdateClient(ctx, "head", clients[2].ID, store.ClientPatch{ManagerID: &vera}); err != nil {
		t.Fatal(err)
	}
	n, err := s.ResumeHandovers(ctx)
	if err != nil || n != 3 { // a client and two tasks
		t.Fatalf("resume gave %d: %v", n, err)
	}
	if m, _ := s.Manager(ctx, boris); m.HandoverTo != "" || m.HandoverBy != "" {
		t.Fatalf("mark left: %+v", m)
	}
	for i, want := range []string{anna, anna, vera} {
		if c, _ := s.Client(ctx, clients[i].ID); c.ManagerID != want {
			t.Fatalf("%s is %q's, want %q's", c.Name, c.ManagerID, want)
		}
	}
	if list, total, _ := s.ManagerClients(ctx, anna, 0, 0); total != 2 || list[0].Name != "Альфа" {
		t.Fatalf("Anna's clients in the directory: %+v", list)
	}
	if open, _ := s.OpenTasks(ctx, boris); len(open) != 0 {
		t.Fatalf("Boris still has tasks: %+v", open)
	}
	open, _ := s.OpenTasks(ctx, anna)
	if len(open) != 2 || open[0].ID != tasks[0].ID || open[0].AssigneeID != anna || open[1].ID != tasks[1].ID {
		t.Fatalf("Anna's agenda: %+v", open)
	}
	if tk, _ := s.Task(ctx, tasks[0].ID); tk.AssigneeID != anna || tk.TimeZone != "Asia/Novosibirsk" {
		t.Fatalf("task: %+v", tk)
	}
	if c, _ := s.Client(ctx, clients[0].ID); len(c.Tasks) != 1 || c.Tasks[0].AssigneeID != anna {
		t.Fatalf("card's copy: %+v", c.Tasks)
	}
	if tk, _ := s.Task(ctx, tasks[2].ID); tk.AssigneeID != vera {
		t.Fatalf("Vera's task moved: %+v", tk)
	}
	if n, err := s.RepairTaskRefs(ctx); err != nil || n != 0 {
		t.Fatalf("copies left to repair: %d %v", n, err)
	}
	// Again: nothing is left to give.
	if h, err := s.HandOver(ctx, "admin", boris, anna); err != nil || h.Clients != 0 || h.Tasks != 0 {
		t.Fatalf("second handover: %+v %v", h, err)
	}
}
