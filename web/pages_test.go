package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
)

// The clients table finds as the bot does, filters, sorts and pages, and shows a
// manager only their own and unassigned clients.
func TestClientsPage(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 0)
	boris := s.manager("Boris", store.RoleManager, 0)
	head := s.manager("Helen", store.RoleHead, 0)
	s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, City: "Москва", Stage: store.StageGreen, Industry: "Цветы"})
	s.client(&store.Client{Name: "Полевая ромашка", City: "Казань", Stage: store.StageWhite})
	s.client(&store.Client{Name: "Ромашка Бориса", ManagerID: boris.ID, City: "Москва", Stage: store.StageGreen})
	for i := range 55 {
		s.client(&store.Client{Name: fmt.Sprintf("Клиент %02d", i), ManagerID: anna.ID, City: "Тверь", Stage: store.StageGrey})
	}
	if err := s.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := s.signIn(anna)
	page := a.get("/app/clients?q=ромашк").body
	mustContain(t, "Anna's search", page, ">Ромашка</a>", ">Полевая ромашка</a>", "1–2 of 2")
	mustNotContain(t, "Anna's search", page, "Ромашка Бориса")
	if strings.Index(page, ">Ромашка</a>") > strings.Index(page, ">Полевая ромашка</a>") {
		t.Error("the search is not ranked as the bot ranks (prefix before a later word)")
	}
	page = a.get("/app/clients?stage=green&city=москва").body
	mustContain(t, "Anna's green clients in Moscow", page, ">Ромашка</a>", "1–1 of 1", "Green")
	page = a.get("/app/clients?manager=-").body
	mustContain(t, "nobody's clients", page, ">Полевая ромашка</a>", "1–1 of 1")
	page = a.get("/app/clients?city=Тверь&sort=name").body
	mustContain(t, "the first page", page, "1–50 of 55", "Клиент 00", "Клиент 49", `rel="next"`)
	mustNotContain(t, "the first page", page, "Клиент 50", `rel="prev"`)
	page = a.get("/app/clients?city=Тверь&sort=name&page=2").body
	mustContain(t, "the second page", page, "51–55 of 55", "Клиент 54", `rel="prev"`)
	mustNotContain(t, "the second page", page, "Клиент 49<", `rel="next"`)
	var romashka string
	for _, r := range mustList(t, s, anna) {
		if r.Name == "Ромашка" {
			romashka = r.ID
		}
	}
	if _, _, err := s.st.MarkClients(context.Background(), map[string]store.Marks{romashka: {Class: "AX", AtRisk: true}}); err != nil {
		t.Fatal(err)
	}
	page = a.get("/app/clients?class=a&risk=1").body
	mustContain(t, "class A at risk", page, ">Ромашка</a>", "1–1 of 1", "at risk", `<option value="A" selected>`, `name="risk" value="1" checked`)
	page = a.get("/app/clients?q=class:Q").body
	mustContain(t, "a search the store refuses", page, "class")

	h := s.signIn(head)
	page = h.get("/app/clients?q=ромашк&manager=" + boris.ID).body
	mustContain(t, "the head's filter by Boris", page, "Ромашка Бориса", "1–1 of 1", ">Boris</td>")
	mustContain(t, "the head's manager list", page, `<option value="`+anna.ID+`">Anna</option>`)
}

// A card shows the client's details, contacts and history to whoever may see it; for
// another manager's client or an unknown one it is "not found", with nothing of it.
func TestClientCard(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 0)
	boris := s.manager("Boris", store.RoleManager, 0)
	head := s.manager("Helen", store.RoleHead, 0)
	c := s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, City: "Москва", Stage: store.StageGreen,
		Legal: store.Legal{INN: "7707083893"}, Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Иван Петров",
			Position: "директор", Phones: []string{"+79161234567"}, Emails: []string{"ivan@romashka.ru"}}}})
	ctx := context.Background()
	if _, err := s.st.AppendInteraction(ctx, c.ID, store.Interaction{Kind: store.InteractionNote, At: testNow,
		AuthorID: anna.ID, Text: "Просили перезвонить в пятницу"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.MoveStage(ctx, anna.ID, c.ID, store.StageGreenGold, store.Refusal{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*store.Manager{anna, head} {
		a := s.signIn(m).get("/app/clients/" + c.ID)
		if a.code != http.StatusOK {
			t.Fatalf("%s opens the card: %d", m.Name, a.code)
		}
		mustContain(t, m.Name+"'s card", a.body, "Ромашка", "7707083893", "Иван Петров", "директор", "tel:&#43;79161234567",
			"Просили перезвонить в пятницу", "Green → Green-gold", "Москва")
	}
	b := s.signIn(boris)
	for _, id := range []string{c.ID, "no-such-client"} {
		a := b.get("/app/clients/" + id)
		if a.code != http.StatusNotFound {
			t.Errorf("Boris opens %s: %d", id, a.code)
		}
		mustNotContain(t, "the refusal", a.body, "Ромашка", "Иван")
	}
}

// The sign-in page and the static files are served to anyone; the home page sends a
// signed-in manager to the clients.
func TestSignInPageAndStatic(t *testing.T) {
	s := newSite(t)
	b := &browser{s: s}
	a := b.get("/app/")
	if a.code != http.StatusOK {
		t.Fatalf("sign-in page: %d", a.code)
	}
	mustContain(t, "the sign-in page", a.body, "/web", `id="signin-tg"`, "/app/static/app.js?v=")
	// A sign-in link's address goes to no other site; scripts come only from here.
	if got := a.header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("Referrer-Policy %q", got)
	}
	if got := a.header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", got)
	}
	for _, f := range []string{"/app/static/app.css", "/app/static/app.js"} {
		if a := b.get(f); a.code != http.StatusOK || len(a.body) < 500 {
			t.Errorf("%s: %d, %d bytes", f, a.code, len(a.body))
		}
	}
	if a := b.get("/app/nothing"); a.code != http.StatusNotFound {
		t.Errorf("an unknown page: %d", a.code)
	}
	in := s.signIn(s.manager("Anna", store.RoleManager, 0))
	if a := in.get("/app/"); a.code != http.StatusSeeOther || a.location != "/app/clients" {
		t.Errorf("home when signed in: %d %q", a.code, a.location)
	}
}

func mustList(t *testing.T, s *site, m *store.Manager) []store.ClientRow {
	t.Helper()
	p, err := s.st.ClientList(context.Background(), store.Viewer{ManagerID: m.ID, Role: m.Role}, store.ClientQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Rows
}
