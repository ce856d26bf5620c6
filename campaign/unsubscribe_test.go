package campaign_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
)

func TestUnsubscribeLinkRoundTripAndForgeries(t *testing.T) {
	ctx := context.Background()
	st, cl, u, base := unsubscribeSite(t)
	if _, err := campaign.NewUnsubscriber(st, "short", "https://crm.test"); err == nil {
		t.Fatal("a short secret was accepted")
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
	payload, sig, _ := strings.Cut(strings.TrimPrefix(link, base+campaign.UnsubscribePath), ".")
	other := strings.TrimPrefix(u.Link("camp1", cl.ID, "p2"), base+campaign.UnsubscribePath)
	otherPayload, _, _ := strings.Cut(other, ".")
	for _, forged := range []string{otherPayload + "." + sig, payload + "." + strings.ToUpper(sig), payload, "garbage"} {
		resp, err := http.PostForm(base+campaign.UnsubscribePath+forged, url.Values{"List-Unsubscribe": {"One-Click"}})
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

// A test letter's links, the text's and List-Unsubscribe's, lead to a page that says
// it was a test, for GET and the one-click POST alike, and change nobody; a real
// letter's link still unsubscribes its recipient.
func TestTestLetterLinksChangeNobody(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 2)
	var u *campaign.Unsubscriber
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { u.ServeHTTP(w, r) }))
	defer web.Close()
	var err error
	if u, err = campaign.NewUnsubscriber(m.st, "0123456789abcdef-secret", web.URL); err != nil {
		t.Fatal(err)
	}
	m.cs = campaign.NewCampaigns(m.st, u, "news@crm.test", time.UTC)
	// links returns a received letter's unsubscribe links: its text's and its header's.
	links := func(to string) []string {
		t.Helper()
		got := m.srv.To(to)
		if len(got) != 1 {
			t.Fatalf("%s got %d letters", to, len(got))
		}
		header := strings.TrimSuffix(strings.TrimPrefix(got[0].Header("List-Unsubscribe"), "<"), ">")
		_, body, _ := strings.Cut(got[0].Text(), "Отписаться: ")
		body, _, _ = strings.Cut(body, "\n")
		for _, l := range []string{header, body} {
			if !strings.HasPrefix(l, web.URL+campaign.UnsubscribePath) {
				t.Fatalf("%s: no unsubscribe link in %q and %q", to, header, got[0].Text())
			}
		}
		return []string{body, header}
	}
	page := func(method, link string, form url.Values) string {
		t.Helper()
		req, err := http.NewRequest(method, link, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, link, resp.StatusCode, b)
		}
		return string(b)
	}
	// nobodyOut checks that every recipient still gets mailings and no timeline has an
	// unsubscribe.
	nobodyOut := func(except string) {
		t.Helper()
		for _, addr := range m.want {
			h, err := m.st.FindByEmail(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			p := h.Client.Contacts[h.ContactID]
			if out := p.Consent.UnsubscribedAt != nil || !p.Consent.Given; out != (addr == except) {
				t.Errorf("%s: unsubscribed %v, consent %v", addr, p.Consent.UnsubscribedAt, p.Consent.Given)
			}
			items, _, err := m.st.Timeline(ctx, h.Client.ID, 0, 20)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Kind == store.InteractionUnsubscribe && it.ContactID == h.ContactID && addr != except {
					t.Errorf("%s: an unsubscribe in the timeline: %+v", addr, it)
				}
			}
		}
	}

	if err := m.cs.Test(ctx, smtptest.Sender{Port: m.srv.Port()}, m.camp, m.first, "", "me@crm.test"); err != nil {
		t.Fatal(err)
	}
	for _, link := range links("me@crm.test") {
		for _, req := range []struct {
			method string
			form   url.Values
		}{{http.MethodGet, nil}, {http.MethodPost, url.Values{"List-Unsubscribe": {"One-Click"}}}, {http.MethodPost, nil}} {
			body := page(req.method, link, req.form)
			if !strings.Contains(body, "тестовое письмо") || !strings.Contains(body, "test letter") || strings.Contains(body, "<form") {
				t.Fatalf("%s %s %v: %s", req.method, link, req.form, body)
			}
		}
	}
	nobodyOut("")

	// The campaign itself: a real letter's link unsubscribes its recipient, and only them.
	m.start()
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	real := links("r0-1@shop.test")
	if body := page(http.MethodPost, real[1], url.Values{"List-Unsubscribe": {"One-Click"}}); !strings.Contains(body, "Вы отписаны") {
		t.Fatalf("a real letter's one-click: %s", body)
	}
	nobodyOut("r0-1@shop.test")
}
