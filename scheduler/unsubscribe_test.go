package scheduler_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
)

func TestUnsubscribeLinkRoundTripAndForgeries(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	st := newStore(t, c)
	cl := newClient(t, st, "Ромашка", "", person("Anna", "anna@x.ru", 1, 1, true), person("Boris", "boris@x.ru", 1, 1, true))
	if _, err := scheduler.NewUnsubscriber(st, "short", "https://crm.test"); err == nil {
		t.Fatal("a short secret was accepted")
	}
	var u *scheduler.Unsubscriber
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { u.ServeHTTP(w, r) }))
	defer srv.Close()
	var err error
	if u, err = scheduler.NewUnsubscriber(st, "0123456789abcdef-secret", srv.URL); err != nil {
		t.Fatal(err)
	}
	link := u.Link("camp1", cl.ID, "p1")
	consent := func(contact string) *time.Time {
		got, err := st.Client(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Contacts[contact].Consent.UnsubscribedAt
	}

	get := func(link string) (int, string) {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(link); code != 200 || !strings.Contains(body, `<form method="post">`) || consent("p1") != nil {
		t.Fatalf("GET: %d %q, or it unsubscribed already", code, body)
	}

	// Forged links: another contact with the old signature, a changed signature.
	payload, sig, _ := strings.Cut(strings.TrimPrefix(link, srv.URL+scheduler.UnsubscribePath), ".")
	other := strings.TrimPrefix(u.Link("camp1", cl.ID, "p2"), srv.URL+scheduler.UnsubscribePath)
	otherPayload, _, _ := strings.Cut(other, ".")
	for _, forged := range []string{otherPayload + "." + sig, payload + "." + strings.ToUpper(sig), payload, "garbage"} {
		resp, err := http.PostForm(srv.URL+scheduler.UnsubscribePath+forged, url.Values{"List-Unsubscribe": {"One-Click"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged %q: status %d", forged, resp.StatusCode)
		}
	}
	if consent("p1") != nil || consent("p2") != nil {
		t.Fatal("a forged link unsubscribed someone")
	}

	// An oversized body is refused whole: a form, its length told or not, or anything else.
	big := "List-Unsubscribe=One-Click&pad=" + strings.Repeat("x", 64<<10)
	for _, c := range []struct {
		ctype string
		body  io.Reader
	}{
		{"application/x-www-form-urlencoded", strings.NewReader(big)},
		{"application/x-www-form-urlencoded", io.MultiReader(strings.NewReader(big))},
		{"application/octet-stream", io.MultiReader(strings.NewReader(big))},
	} {
		resp, err := http.Post(link, c.ctype, c.body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || consent("p1") != nil {
			t.Fatalf("oversized %s POST: status %d, p1 %v", c.ctype, resp.StatusCode, consent("p1"))
		}
	}

	// RFC 8058 one-click POST.
	resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || consent("p1") == nil || consent("p2") != nil {
		t.Fatalf("one-click: status %d, p1 %v, p2 %v", resp.StatusCode, consent("p1"), consent("p2"))
	}
	items, _, err := st.Timeline(ctx, cl.ID, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Kind != store.InteractionUnsubscribe || items[0].ContactID != "p1" || items[0].Text != "one-click" {
		t.Fatalf("timeline: %+v", items)
	}
	// Again: nothing more happens.
	if resp, err = http.PostForm(link, nil); err == nil {
		resp.Body.Close()
	}
	if items, _, _ := st.Timeline(ctx, cl.ID, 0, 5); len(items) != 1 {
		t.Fatalf("a second unsubscribe added %d entries", len(items)-1)
	}
}
