package campaign_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The page of a link already used says the person is unsubscribed, names the
// company and offers to undo it; the undo is the person's own, clears only their
// unsubscribe and is in the audit log as theirs. A test letter's link undoes nothing.
func TestUnsubscribePageSaysSoAndUndoes(t *testing.T) {
	ctx := context.Background()
	st, cl, u, _ := unsubscribeSite(t)
	u.SetCompany("ООО «Север»")
	page := func(method, link string, form url.Values) string {
		t.Helper()
		resp, err := http.DefaultClient.Do(func() *http.Request {
			req, _ := http.NewRequest(method, link, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, link, resp.StatusCode, b)
		}
		return strings.ReplaceAll(string(b), "&#34;", `"`)
	}
	contact := func(id string) store.Contact {
		t.Helper()
		got, err := st.Client(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Contacts[id]
	}
	const undo = "Подписаться снова"
	anna := u.Link("camp1", cl.ID, "p1")

	if body := page(http.MethodGet, anna, nil); !strings.Contains(body, "Отписаться от писем ООО «Север»?") || strings.Contains(body, undo) {
		t.Fatalf("the first GET: %s", body)
	}
	if body := page(http.MethodPost, anna, nil); !strings.Contains(body, "Вы отписаны") || !strings.Contains(body, "от ООО «Север»") || !strings.Contains(body, undo) {
		t.Fatalf("POST: %s", body)
	}
	// Opened again: she is told she is out, not asked again.
	if body := page(http.MethodGet, anna, nil); !strings.Contains(body, "Вы отписаны") || !strings.Contains(body, undo) || strings.Contains(body, "Отписаться от писем") {
		t.Fatalf("GET once unsubscribed: %s", body)
	}

	// A test letter's link undoes nothing.
	if body := page(http.MethodPost, u.TestLink("camp1"), url.Values{"action": {"undo"}}); !strings.Contains(body, "тестовое письмо") {
		t.Fatalf("undo by a test link: %s", body)
	}
	if contact("p1").Consent.UnsubscribedAt == nil {
		t.Fatal("a test link subscribed her again")
	}

	// Her undo: mailable again, in the audit log and the timeline as her own doing.
	if body := page(http.MethodPost, anna, url.Values{"action": {"undo"}}); !strings.Contains(body, "Вы снова подписаны") || !strings.Contains(body, `<form method="post">`) {
		t.Fatalf("undo: %s", body)
	}
	if email, why := store.MailableEmail(contact("p1")); email != "anna@x.ru" {
		t.Fatalf("after the undo: %q (%s)", email, why)
	}
	if body := page(http.MethodGet, anna, nil); !strings.Contains(body, "Отписаться от писем") {
		t.Fatalf("GET after the undo: %s", body)
	}
	log, err := st.AuditLog(ctx, cl.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e store.AuditEntry) bool { return e.Action == "contact.resubscribe" })
	if i < 0 || log[i].ActorID != "unsubscribe" || log[i].Changes["confirmed"] != store.SelfResubscribe || log[i].Changes["leftVia"] != "link" ||
		log[i].Changes["campaign"] != "camp1" || log[i].Changes["contact"] != "p1" {
		t.Fatalf("the undo's audit entry: %+v", log)
	}
	items, _, err := st.Timeline(ctx, cl.ID, 0, 5)
	if err != nil || len(items) != 2 || items[0].Kind != store.InteractionResubscribe || items[0].ContactID != "p1" {
		t.Fatalf("timeline: %+v %v", items, err)
	}

	// Boris's consent was withdrawn by his manager after he unsubscribed: his undo
	// clears his unsubscribe only, and he still gets no mailings.
	boris := u.Link("camp1", cl.ID, "p2")
	page(http.MethodPost, boris, url.Values{"List-Unsubscribe": {"One-Click"}})
	if _, err := st.WithdrawConsent(ctx, "m", cl.ID, "p2"); err != nil {
		t.Fatal(err)
	}
	page(http.MethodPost, boris, url.Values{"action": {"undo"}})
	if p := contact("p2"); p.Consent.UnsubscribedAt != nil || p.Consent.Given {
		t.Fatalf("Boris after his undo: %+v", p.Consent)
	}
}

// unsubscribeSite is a client with two contacts who consented, p1 (Anna) and p2
// (Boris), and the unsubscribe page on a local server at base.
func unsubscribeSite(t *testing.T) (st *store.Store, cl *store.Client, u *campaign.Unsubscriber, base string) {
	t.Helper()
	st = storetest.OnClock(t, storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)))
	cl = storetest.Client(t, st, "Ромашка", "", storetest.Person("Anna", "anna@x.ru", 1, 1, true), storetest.Person("Boris", "boris@x.ru", 1, 1, true))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { u.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	if u, err = campaign.NewUnsubscriber(st, "0123456789abcdef-secret", srv.URL); err != nil {
		t.Fatal(err)
	}
	return st, cl, u, srv.URL
}
