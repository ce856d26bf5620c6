package reports_test

import (
	"context"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// teamBase is Anna and Boris, each with a client made on 25 September, and what they
// did in October and November. Now is 15 November.
func teamBase(t *testing.T) (*store.Store, *clock, map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: day(time.September, 25)}
	st := storetest.New(t, func(o *store.Options) { o.Now = c.Now })
	ids := map[string]string{}
	for _, name := range []string{"Анна", "Борис"} {
		m := &store.Manager{Name: name, TelegramID: int64(len(ids) + 1)}
		if err := st.CreateManager(ctx, "test", m); err != nil {
			t.Fatal(err)
		}
		ids[name] = m.ID
		cl := &store.Client{Name: "Клиент " + name, ManagerID: m.ID}
		if err := st.CreateClient(ctx, "test", cl); err != nil {
			t.Fatal(err)
		}
		ids["client "+name] = cl.ID
	}
	anna, boris, annas, boriss := ids["Анна"], ids["Борис"], ids["client Анна"], ids["client Борис"]
	at := func(m time.Month, d int) { c.Set(day(m, d)) }
	call := func(who, client, outcome string) {
		t.Helper()
		if _, err := st.AppendInteraction(ctx, client, store.Interaction{Kind: store.InteractionCall, AuthorID: who,
			Call: &store.Call{Direction: "out", Outcome: outcome}}); err != nil {
			t.Fatal(err)
		}
	}
	// October.
	at(time.October, 2)
	call(anna, annas, "reached")
	call(anna, annas, "no_answer")
	call(boris, annas, "reached") // Boris rang Anna's client: his call
	if _, err := st.AppendInteraction(ctx, boriss, store.Interaction{Kind: store.InteractionEmailIn}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MoveStage(ctx, anna, annas, store.StageGrey, store.Refusal{}); err != nil {
		t.Fatal(err)
	}
	late := &store.Task{AssigneeID: anna, ClientID: annas, Due: day(time.October, 5), Text: "КП"}
	open := &store.Task{AssigneeID: anna, ClientID: annas, Due: day(time.October, 20), Text: "перезвонить"}
	for _, task := range []*store.Task{late, open} {
		if err := st.CreateTask(ctx, anna, task); err != nil {
			t.Fatal(err)
		}
	}
	at(time.October, 6)
	if _, err := st.SetTaskState(ctx, anna, late.ID, store.TaskDone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Boris enters an order for Anna's client: her revenue, his stage move.
	if err := st.CreateOrder(ctx, boris, &store.Order{ClientID: annas, Amount: 500000, State: store.OrderPaid}); err != nil {
		t.Fatal(err)
	}
	// November.
	at(time.November, 3)
	call(anna, annas, "reached")
	if _, err := st.MoveStage(ctx, boris, boriss, store.StageRedGreen, store.Refusal{Reason: "Дорого"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, "test", &store.Client{Name: "Новый", ManagerID: boris}); err != nil {
		t.Fatal(err)
	}
	at(time.November, 15)
	return st, c, ids
}

func TestTeamActivityAgainstThePeriodBefore(t *testing.T) {
	ctx := context.Background()
	st, c, ids := teamBase(t)
	team, err := reports.ComputeTeam(ctx, st, month(time.November), "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if team.Previous != month(time.October) {
		t.Fatalf("previous period: %+v", team.Previous)
	}
	if len(team.Managers) != 2 || team.Managers[0].Name != "Анна" || team.Managers[1].Name != "Борис" {
		t.Fatalf("lines: %+v", team.Managers)
	}
	anna, boris := team.Managers[0], team.Managers[1]
	wantWork(t, "Anna, October", anna.Before, reports.Work{Calls: 2, CallsByOutcome: map[string]int64{"reached": 1, "no_answer": 1},
		TasksDone: 1, TasksOverdue: 2, MovesForward: 1, Orders: 1, Revenue: 500000})
	wantWork(t, "Boris, October", boris.Before, reports.Work{Calls: 1, CallsByOutcome: map[string]int64{"reached": 1}, MailIn: 1,
		MovesForward: 1})
	wantWork(t, "Anna, November", anna.Now, reports.Work{Calls: 1, CallsByOutcome: map[string]int64{"reached": 1}})
	wantWork(t, "Boris, November", boris.Now, reports.Work{MovesBack: 1, NewClients: 1})
	wantWork(t, "team, October", team.Total.Before, reports.Work{Calls: 3, CallsByOutcome: map[string]int64{"reached": 2, "no_answer": 1},
		MailIn: 1, TasksDone: 1, TasksOverdue: 2, MovesForward: 2, Orders: 1, Revenue: 500000})

	// A manager asking for the team's figures gets only their own.
	own, err := reports.ComputeTeam(ctx, st, month(time.November), ids["Борис"], c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(own.Managers) != 1 || own.Managers[0].Name != "Борис" {
		t.Fatalf("Boris's own report: %+v", own.Managers)
	}
	wantWork(t, "Boris's total", own.Total.Before, boris.Before)
}

func TestPreviousPeriod(t *testing.T) {
	d := func(m time.Month, dd int) time.Time { return time.Date(2026, m, dd, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct{ p, want reports.Period }{
		{reports.Period{From: d(3, 1), To: d(4, 1)}, reports.Period{From: d(2, 1), To: d(3, 1)}},        // a month: February
		{reports.Period{From: d(4, 1), To: d(7, 1)}, reports.Period{From: d(1, 1), To: d(4, 1)}},        // a quarter
		{reports.Period{From: d(11, 16), To: d(11, 23)}, reports.Period{From: d(11, 9), To: d(11, 16)}}, // a week
	} {
		if got := reports.Previous(c.p); got != c.want {
			t.Errorf("before %v: %v, want %v", c.p, got, c.want)
		}
	}
}

func wantWork(t *testing.T, what string, got, want reports.Work) {
	t.Helper()
	gotOutcomes, wantOutcomes := got.CallsByOutcome, want.CallsByOutcome
	got.CallsByOutcome, want.CallsByOutcome = nil, nil
	if !reflect.DeepEqual(got, want) || !maps.Equal(gotOutcomes, wantOutcomes) {
		t.Errorf("%s: %+v %v\nwant %+v %v", what, got, gotOutcomes, want, wantOutcomes)
	}
}
