package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A quick reason is kept with the client, the timeline entry and the day's stage move;
// the reason is in the entry once, not in its text as well; a move out of red clears
// both; an unknown code changes nothing.
func TestRefusalCodeKeptWithTheMove(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	c := &store.Client{Name: "Эпсилон"}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveStage(ctx, "anna", c.ID, store.StageRedGreen, store.Refusal{Code: "cheap", Reason: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown code: %v", err)
	}
	got, err := s.MoveStage(ctx, "anna", c.ID, store.StageRedGreen, store.Refusal{Code: store.RefusalPrice, Reason: "Дорого"})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Client(ctx, c.ID); got.RefusalCode != store.RefusalPrice || stored.RefusalCode != store.RefusalPrice || stored.RefusalReason != "Дорого" {
		t.Fatalf("client: %+v / %+v", got, stored)
	}
	items, _, err := s.Timeline(ctx, c.ID, 0, 10)
	if err != nil || len(items) != 1 || items[0].Stage == nil || items[0].Stage.Code != store.RefusalPrice ||
		items[0].Stage.Reason != "Дорого" || items[0].Text != "" {
		t.Fatalf("timeline: %+v %v", items, err)
	}
	moves, err := s.StageMoves(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(moves) != 1 || moves[0].Code != store.RefusalPrice || moves[0].Reason != "Дорого" || moves[0].By != "anna" {
		t.Fatalf("moves: %+v %v", moves, err)
	}
	back, err := s.MoveStage(ctx, "anna", c.ID, store.StageGrey, store.Refusal{Code: store.RefusalPrice, Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Client(ctx, c.ID); back.RefusalCode != "" || stored.RefusalCode != "" || stored.RefusalReason != "" {
		t.Fatalf("out of red: %+v", stored)
	}
}

// A day's moves written before there were codes read back as moves without one.
func TestStageMoveLineWithoutCodeReads(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	ms := now.UnixMilli()
	s.AddStageLineForTest(ctx, t, "2026-03-02", "c1\t3\twhite\tred_green\t"+strconv.FormatInt(ms, 10)+"\t"+strconv.FormatInt(ms-1000, 10)+"\tanna\tДорого, и долго")
	moves, err := s.StageMoves(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(moves) != 1 {
		t.Fatalf("moves: %+v %v", moves, err)
	}
	if m := moves[0]; m.Client != "c1" || m.Seq != 3 || m.To != store.StageRedGreen || m.By != "anna" || m.Reason != "Дорого, и долго" || m.Code != "" {
		t.Fatalf("old line: %+v", m)
	}
}

// A cancelled task leaves the card and the agenda, and is counted neither done nor late.
func TestCancelledTaskIsClosed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	c := &store.Client{Name: "Дзета", ManagerID: "anna"}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	tk := &store.Task{AssigneeID: "anna", ClientID: c.ID, Due: now.Add(-time.Hour), Text: "позвонить"}
	if err := s.CreateTask(ctx, "anna", tk); err != nil {
		t.Fatal(err)
	}
	got, err := s.SetTaskState(ctx, "anna", tk.ID, store.TaskCancelled, time.Time{})
	if err != nil || got.State != store.TaskCancelled || got.DoneAt != nil {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	if open, _ := s.OpenTasks(ctx, "anna"); len(open) != 0 {
		t.Fatalf("agenda: %+v", open)
	}
	if c, _ := s.Client(ctx, c.ID); len(c.Tasks) != 0 || c.NextContactAt != nil {
		t.Fatalf("card: %+v", c.Tasks)
	}
	work, err := s.ActivityBetween(ctx, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if a := work["anna"]; a[store.ActTasksDone] != 0 || a[store.ActTasksLate] != 0 {
		t.Fatalf("activity: %+v", a)
	}
}
