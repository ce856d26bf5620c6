package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The nightly marks are written only where they change, find clients by class in
// search and in segments, and an order ends the risk.
func TestMarkClients(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	ids := map[string]string{}
	for _, name := range []string{"Альфа", "Бета", "Гамма"} {
		c := &store.Client{Name: name, ManagerID: "anna"}
		if name == "Бета" {
			c.ManagerID = "boris"
		}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	a, b := ids["Альфа"], ids["Бета"]
	mark := func(marks map[string]store.Marks, wantWritten int, wantRisk ...string) {
		t.Helper()
		n, risk, err := s.MarkClients(ctx, marks)
		if err != nil || n != wantWritten || !slices.Equal(risk, wantRisk) {
			t.Fatalf("marks %v: wrote %d, at risk %v, %v; want %d, %v", marks, n, risk, err, wantWritten, wantRisk)
		}
	}
	first := map[string]store.Marks{a: {Class: "AX"}, b: {Class: "BZ", AtRisk: true}}
	mark(first, 2, b)
	if behind := s.DirectoryBehindForTest(ctx, t); behind != 0 {
		t.Fatalf("the directory is %d changes behind the marks: the morning's first search would catch up", behind)
	}
	mark(first, 0) // nothing changed: nothing written, nobody newly at risk
	if c, _ := s.Client(ctx, b); c.Class != "BZ" || c.AtRiskSince == nil {
		t.Fatalf("Бета: class %q, at risk %v", c.Class, c.AtRiskSince)
	}

	admin, boris := store.Viewer{Role: store.RoleAdmin}, store.Viewer{Role: store.RoleManager, ManagerID: "boris"}
	find := func(v store.Viewer, q string, want ...string) {
		t.Helper()
		res, err := s.Search(ctx, v, q, 10)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, r := range res {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", q, got, want)
		}
	}
	find(admin, "class:A", "Альфа")
	find(admin, "Класс: z", "Бета")
	find(boris, "class:ax")
	if _, err := s.Search(ctx, admin, "class:Q", 10); err == nil {
		t.Fatal("class Q found something")
	}
	alpha, _ := s.Client(ctx, a)
	if !(store.Segment{Classes: []string{"X"}}).Matches(alpha) || (store.Segment{Classes: []string{"B", "AY"}}).Matches(alpha) {
		t.Fatal("segment by class")
	}
	if err := (store.Segment{Classes: []string{"AQ"}}).Validate(); err == nil {
		t.Fatal("segment with class AQ accepted")
	}

	if err := s.CreateOrder(ctx, "test", &store.Order{ClientID: b, Amount: 100, State: store.OrderPaid}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Client(ctx, b); c.AtRiskSince != nil {
		t.Fatalf("Бета still at risk after an order: %v", c.AtRiskSince)
	}
	mark(map[string]store.Marks{b: {Class: "BZ"}}, 1) // Альфа loses its class; Бета lost its risk with the order
	if c, _ := s.Client(ctx, a); c.Class != "" {
		t.Fatalf("Альфа: class %q", c.Class)
	}
}
