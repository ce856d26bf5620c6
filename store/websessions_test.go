package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A sign-in link works once and until it expires; a session ends when it is ended
// or when its time is up.
func TestWebLinkWorksOnceAndSessionsEnd(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s := storetest.OnClock(t, clock)

	token, err := s.CreateWebLink(ctx, "m1", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.WebLinkValid(ctx, token); !ok || err != nil {
		t.Fatalf("a new link is not valid: %v %v", ok, err)
	}
	if id, err := s.UseWebLink(ctx, token); err != nil || id != "m1" {
		t.Fatalf("use: %q %v", id, err)
	}
	if _, err := s.UseWebLink(ctx, token); !errors.Is(err, store.ErrWebLinkInvalid) {
		t.Fatalf("a replay: %v", err)
	}
	if ok, _ := s.WebLinkValid(ctx, token); ok {
		t.Fatal("a used link is still valid")
	}
	late, _ := s.CreateWebLink(ctx, "m1", 10*time.Minute)
	clock.Add(10 * time.Minute)
	if _, err := s.UseWebLink(ctx, late); !errors.Is(err, store.ErrWebLinkInvalid) {
		t.Fatalf("an expired link: %v", err)
	}
	if _, err := s.UseWebLink(ctx, "forged"); !errors.Is(err, store.ErrWebLinkInvalid) {
		t.Fatalf("an unknown link: %v", err)
	}

	secret, ws, err := s.CreateWebSession(ctx, "m1", "link", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ws.ID == secret || ws.CSRF == "" {
		t.Fatalf("the session is kept by its secret, or has no CSRF token: %+v", ws)
	}
	got, err := s.WebSession(ctx, secret)
	if err != nil || got.ManagerID != "m1" || got.CSRF != ws.CSRF {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := s.WebSession(ctx, ws.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the stored hash opens the session: %v", err)
	}
	if err := s.EndWebSession(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebSession(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an ended session: %v", err)
	}
	secret, _, _ = s.CreateWebSession(ctx, "m1", "link", time.Hour)
	clock.Add(time.Hour)
	if _, err := s.WebSession(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v", err)
	}
}

// Expired links, their uses and sessions are pruned; live ones stay.
func TestPruneWeb(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s := storetest.OnClock(t, clock)
	used, _ := s.CreateWebLink(ctx, "m1", 10*time.Minute)
	if _, err := s.UseWebLink(ctx, used); err != nil {
		t.Fatal(err)
	}
	_, _ = s.CreateWebLink(ctx, "m1", 10*time.Minute)
	_, _, _ = s.CreateWebSession(ctx, "m1", "link", time.Hour)
	clock.Add(time.Hour)
	live, _ := s.CreateWebLink(ctx, "m1", 10*time.Minute)
	secret, _, _ := s.CreateWebSession(ctx, "m1", "link", time.Hour)
	n, err := s.PruneWeb(ctx)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want the used link's mark, the unused link and the session", n, err)
	}
	if ok, _ := s.WebLinkValid(ctx, live); !ok {
		t.Error("a live link was pruned")
	}
	if _, err := s.WebSession(ctx, secret); err != nil {
		t.Errorf("a live session was pruned: %v", err)
	}
}
