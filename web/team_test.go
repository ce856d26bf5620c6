package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// role reads a manager's role and access from the store.
func role(t *testing.T, s *site, id string) (store.Role, bool) {
	t.Helper()
	m, err := s.st.Manager(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Role, m.Active
}

// invitations counts the invitations made, from the audit log.
func invitations(t *testing.T, s *site) int {
	t.Helper()
	n := 0
	err := s.st.AuditBetween(context.Background(), testNow.Add(-time.Hour), testNow.Add(time.Hour), func(e store.AuditEntry) error {
		if e.Action == "invite.create" {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// postCSRF sends a form with the browser's CSRF token.
func (b *browser) postCSRF(path string, form url.Values) answer {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf())
	return b.do(http.MethodPost, path, form)
}

// The administrator sees the team: name, role, access and whether Telegram is linked.
func TestTeamPage(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	unlinked := s.manager("Uma", store.RoleManager, 0)
	a := s.signIn(tm.admin).get("/app/team")
	if a.code != http.StatusOK {
		t.Fatalf("the team: %d", a.code)
	}
	for _, m := range []*store.Manager{tm.anna, tm.boris, tm.head, tm.admin, unlinked} {
		mustContain(t, "the team", a.body, `id="m-`+m.ID+`"`)
	}
	row := func(id string) string {
		_, rest, _ := strings.Cut(a.body, `id="m-`+id+`"`)
		r, _, _ := strings.Cut(rest, "</tr>")
		return r
	}
	mustContain(t, "Uma's row", row(unlinked.ID), "Not linked", "On", `<option value="manager" selected>`)
	mustContain(t, "Helen's row", row(tm.head.ID), "Linked", `<option value="head" selected>`, "/off")
	mustContain(t, "Adam's own row", row(tm.admin.ID), "you", "administrator")
	mustNotContain(t, "Adam's own row", row(tm.admin.ID), "/role", "/off")
	mustContain(t, "the admin's menu", a.body, `href="/app/team"`)
	// Anyone else is refused, and not shown the menu item.
	for _, who := range []*store.Manager{tm.anna, tm.head} {
		b := s.signIn(who)
		if a := b.get("/app/team"); a.code != http.StatusForbidden || strings.Contains(a.body, "Uma") {
			t.Errorf("%s opening the team: %d", who.Name, a.code)
		}
		mustNotContain(t, who.Name+"'s menu", b.get("/app/clients").body, `href="/app/team"`)
	}
}

// An invitation is the bot's: one-time, with the role asked for, shown as a link.
func TestTeamInvite(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	ad := s.signIn(tm.admin)
	a := ad.postCSRF("/app/team/invite", url.Values{"role": {"head"}, "name": {"Nina"}})
	if a.code != http.StatusOK {
		t.Fatalf("invite: %d %s", a.code, a.body)
	}
	mustContain(t, "the invitation", a.body, "Invitation (head of sales), works once")
	_, rest, _ := strings.Cut(a.body, `readonly value="`)
	link, _, _ := strings.Cut(rest, `"`)
	code, ok := strings.CutPrefix(html.UnescapeString(link), "/start ")
	if !ok {
		t.Fatalf("the invitation shows %q", link)
	}
	nina := &store.Manager{Name: "Nina", TelegramID: 99, Language: "en"}
	if err := s.st.RedeemInvite(context.Background(), code, nina); err != nil || nina.Role != store.RoleHead {
		t.Fatalf("redeem the shown code: %v, role %q", err, nina.Role)
	}
	// A bad role, a manager's or head's invitation, a missing or wrong token: nothing.
	before := invitations(t, s)
	if a := ad.postCSRF("/app/team/invite", url.Values{"role": {"boss"}}); a.code != http.StatusBadRequest ||
		!strings.Contains(a.body, "Choose a role") {
		t.Errorf("a bad role: %d", a.code)
	}
	for _, who := range []*store.Manager{tm.anna, tm.head} {
		if a := s.signIn(who).postCSRF("/app/team/invite", url.Values{"role": {"admin"}}); a.code != http.StatusForbidden {
			t.Errorf("%s inviting: %d", who.Name, a.code)
		}
	}
	if a := ad.do(http.MethodPost, "/app/team/invite", url.Values{"role": {"admin"}}); a.code != http.StatusForbidden {
		t.Errorf("no token: %d", a.code)
	}
	if a := ad.do(http.MethodPost, "/app/team/invite", url.Values{"role": {"admin"}, "csrf": {"forged"}}); a.code != http.StatusForbidden {
		t.Errorf("a wrong token: %d", a.code)
	}
	if n := invitations(t, s); n != before {
		t.Errorf("%d invitations made by refused requests", n-before)
	}
}

// The administrator changes another's role; nobody else can, and not their own.
func TestTeamRole(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	ad := s.signIn(tm.admin)
	a := ad.postCSRF("/app/team/"+tm.anna.ID+"/role", url.Values{"role": {"head"}})
	if r, _ := role(t, s, tm.anna.ID); a.code != http.StatusOK || r != store.RoleHead {
		t.Fatalf("make Anna a head: %d, %q", a.code, r)
	}
	mustContain(t, "the change", a.body, "Anna is now head of sales.")
	refused := []struct {
		what   string
		b      *browser
		path   string
		form   url.Values
		token  bool
		status int
	}{
		{"a bad role", ad, "/app/team/" + tm.boris.ID + "/role", url.Values{"role": {"boss"}}, true, http.StatusBadRequest},
		{"the admin's own role", ad, "/app/team/" + tm.admin.ID + "/role", url.Values{"role": {"manager"}}, true, http.StatusBadRequest},
		{"a head", s.signIn(tm.head), "/app/team/" + tm.boris.ID + "/role", url.Values{"role": {"admin"}}, true, http.StatusForbidden},
		{"a manager", s.signIn(tm.boris), "/app/team/" + tm.boris.ID + "/role", url.Values{"role": {"admin"}}, true, http.StatusForbidden},
		{"no token", ad, "/app/team/" + tm.boris.ID + "/role", url.Values{"role": {"admin"}}, false, http.StatusForbidden},
		{"another site", ad, "/app/team/" + tm.boris.ID + "/role", url.Values{"role": {"admin"}}, true, http.StatusForbidden},
	}
	for _, c := range refused {
		var a answer
		switch {
		case c.what == "another site":
			c.form.Set("csrf", c.b.csrf())
			a = c.b.do(http.MethodPost, c.path, c.form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		case c.token:
			a = c.b.postCSRF(c.path, c.form)
		default:
			a = c.b.do(http.MethodPost, c.path, c.form)
		}
		if a.code != c.status {
			t.Errorf("%s: %d, want %d", c.what, a.code, c.status)
		}
	}
	if r, _ := role(t, s, tm.boris.ID); r != store.RoleManager {
		t.Errorf("Boris became %q", r)
	}
	if r, _ := role(t, s, tm.admin.ID); r != store.RoleAdmin {
		t.Errorf("Adam became %q", r)
	}
	if a := ad.postCSRF("/app/team/nobody/role", url.Values{"role": {"head"}}); a.code != http.StatusNotFound {
		t.Errorf("an unknown manager: %d", a.code)
	}
}

// Turning a manager off ends their web session at their next request; the page then
// offers to hand their clients and open tasks to someone active, and turning them on
// again undoes it. The administrator cannot turn themselves off.
func TestTeamOffHandoverOn(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	ctx := context.Background()
	if err := s.st.CreateTask(ctx, tm.boris.ID, &store.Task{AssigneeID: tm.boris.ID, ClientID: tm.boriss,
		Due: testNow.Add(48 * time.Hour), Text: "КП"}); err != nil {
		t.Fatal(err)
	}
	boris := s.signIn(tm.boris)
	ad := s.signIn(tm.admin)
	// Refused first: nothing changes.
	if a := s.signIn(tm.anna).postCSRF("/app/team/"+tm.boris.ID+"/off", url.Values{}); a.code != http.StatusForbidden {
		t.Errorf("a manager turning another off: %d", a.code)
	}
	if a := s.signIn(tm.head).postCSRF("/app/team/"+tm.boris.ID+"/off", url.Values{}); a.code != http.StatusForbidden {
		t.Errorf("a head turning a manager off: %d", a.code)
	}
	if a := ad.do(http.MethodPost, "/app/team/"+tm.boris.ID+"/off", url.Values{}); a.code != http.StatusForbidden {
		t.Errorf("no token: %d", a.code)
	}
	if a := ad.postCSRF("/app/team/"+tm.admin.ID+"/off", url.Values{}); a.code != http.StatusBadRequest ||
		!strings.Contains(a.body, "You cannot change your own role or access") {
		t.Errorf("the admin turning themselves off: %d", a.code)
	}
	if _, on := role(t, s, tm.admin.ID); !on {
		t.Fatal("the admin turned themselves off")
	}
	if _, on := role(t, s, tm.boris.ID); !on {
		t.Fatal("a refused request turned Boris off")
	}
	if a := boris.get("/app/clients"); a.code != http.StatusOK {
		t.Fatalf("Boris before: %d", a.code)
	}
	secret := boris.cookie.Value

	a := ad.postCSRF("/app/team/"+tm.boris.ID+"/off", url.Values{})
	if _, on := role(t, s, tm.boris.ID); a.code != http.StatusOK || on {
		t.Fatalf("turn Boris off: %d, on %v", a.code, on)
	}
	mustContain(t, "Boris off", html.UnescapeString(a.body), "Boris's access is turned off", "1 clients, 1 open tasks", `action="/app/team/`+tm.boris.ID+`/handover"`)
	if a := boris.get("/app/clients"); a.code != http.StatusForbidden || !strings.Contains(a.body, "Your access has been turned off") {
		t.Errorf("Boris after: %d", a.code)
	}
	if _, err := s.st.WebSession(ctx, secret); err == nil {
		t.Error("Boris's session is still there")
	}

	// A handover to nobody, to Boris himself, or to someone turned off: nothing.
	uma := s.manager("Uma", store.RoleManager, 0)
	if _, err := s.st.UpdateManager(ctx, "test", uma.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"nobody", tm.boris.ID, uma.ID} {
		if a := ad.postCSRF("/app/team/"+tm.boris.ID+"/handover", url.Values{"to": {to}}); a.code != http.StatusBadRequest {
			t.Errorf("hand over to %s: %d", to, a.code)
		}
	}
	if a := s.signIn(tm.head).postCSRF("/app/team/"+tm.boris.ID+"/handover", url.Values{"to": {tm.head.ID}}); a.code != http.StatusForbidden {
		t.Errorf("a head handing over: %d", a.code)
	}
	if _, n, _ := s.st.ManagerClients(ctx, tm.boris.ID, 0, 0); n != 1 {
		t.Fatalf("refused handovers moved Boris's clients: %d left", n)
	}
	a = ad.postCSRF("/app/team/"+tm.boris.ID+"/handover", url.Values{"to": {tm.anna.ID}})
	mustContain(t, "the handover", a.body, "Anna got 1 clients and 1 tasks from Boris.")
	c, err := s.st.Client(ctx, tm.boriss)
	if err != nil || c.ManagerID != tm.anna.ID {
		t.Errorf("Boris's client is %v's (%v)", c.ManagerID, err)
	}
	if tasks, _ := s.st.OpenTasks(ctx, tm.anna.ID); len(tasks) != 1 {
		t.Errorf("Anna has %d open tasks", len(tasks))
	}

	a = ad.postCSRF("/app/team/"+tm.boris.ID+"/on", url.Values{})
	if _, on := role(t, s, tm.boris.ID); a.code != http.StatusOK || !on {
		t.Fatalf("turn Boris on: %d", a.code)
	}
	mustContain(t, "Boris on", a.body, "Boris is back on the team.")
	if a := s.signIn(tm.boris).get("/app/clients"); a.code != http.StatusOK {
		t.Errorf("Boris signing in again: %d", a.code)
	}
}
