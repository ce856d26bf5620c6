package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A manager's head is an active head or admin other than themselves; a bad choice
// says why and changes nothing, and "" names none again.
func TestSetManagerHead(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	mk := func(name string, role store.Role) *store.Manager {
		m := &store.Manager{Name: name, Role: role}
		if err := s.CreateManager(ctx, "test", m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ivan, olga, boris, gone := mk("Иван", store.RoleManager), mk("Ольга", store.RoleHead), mk("Борис", store.RoleManager), mk("Ушедший", store.RoleHead)
	if _, err := s.UpdateManager(ctx, "test", gone.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{ivan.ID, boris.ID, gone.ID, "nobody"} {
		if _, err := s.SetManagerHead(ctx, "test", ivan.ID, bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("head %s: %v", bad, err)
		}
	}
	if m, err := s.SetManagerHead(ctx, "test", ivan.ID, olga.ID); err != nil || m.HeadID != olga.ID {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := s.SetManagerHead(ctx, "test", ivan.ID, boris.ID); err == nil {
		t.Fatal("a manager became a head")
	}
	if m, _ := s.Manager(ctx, ivan.ID); m.HeadID != olga.ID {
		t.Fatalf("a refused change changed the head to %q", m.HeadID)
	}
	if m, err := s.SetManagerHead(ctx, "test", ivan.ID, ""); err != nil || m.HeadID != "" {
		t.Fatalf("cleared: %+v %v", m, err)
	}
	if _, err := s.SetManagerHead(ctx, "test", "nobody", olga.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown manager: %v", err)
	}
}
