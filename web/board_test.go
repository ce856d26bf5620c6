package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/store"
)

// boardSite has Anna's, Boris's and an unassigned client, the directory loaded.
type boardSite struct {
	*site
	anna, boris, head         *store.Manager
	mine, borisOne, nobodyOne *store.Client
}

func newBoardSite(t *testing.T) *boardSite {
	s := &boardSite{site: newSite(t)}
	s.anna = s.manager("Anna", store.RoleManager, 0)
	s.boris = s.manager("Boris", store.RoleManager, 0)
	s.head = s.manager("Helen", store.RoleHead, 0)
	s.mine = s.client(&store.Client{Name: "Ромашка", ManagerID: s.anna.ID, City: "Москва", Stage: store.StageGreen,
		Industry: "Цветы", Tags: []string{"опт"}})
	s.borisOne = s.client(&store.Client{Name: "Лютик", ManagerID: s.boris.ID, City: "Тверь", Stage: store.StageGreen})
	s.nobodyOne = s.client(&store.Client{Name: "Василёк", City: "Казань", Stage: store.StageWhite})
	s.sync()
	return s
}

func (s *boardSite) sync() {
	s.t.Helper()
	if err := s.st.Directory().Sync(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// many gives Anna n grey clients in Tver, "Клиент 00" on.
func (s *boardSite) many(n int) {
	s.t.Helper()
	for i := range n {
		s.client(&store.Client{Name: fmt.Sprintf("Клиент %02d", i), ManagerID: s.anna.ID, City: "Тверь", Stage: store.StageGrey})
	}
	s.sync()
}

// task gives Anna's client an open task.
func (s *boardSite) task() {
	s.t.Helper()
	task := &store.Task{AssigneeID: s.anna.ID, ClientID: s.mine.ID, Due: testNow.Add(24 * time.Hour), Text: "позвонить"}
	if err := s.st.CreateTask(context.Background(), s.anna.ID, task); err != nil {
		s.t.Fatal(err)
	}
	s.sync()
}

func (s *boardSite) stageOf(c *store.Client) (store.Stage, string) {
	s.t.Helper()
	got, err := s.st.Client(context.Background(), c.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return got.Stage, got.RefusalReason
}

// section is the part of a page from the column of a stage to the next column.
func column(page string, st store.Stage) string {
	_, rest, ok := strings.Cut(page, `data-stage="`+string(st)+`"`)
	if !ok {
		return ""
	}
	col, _, _ := strings.Cut(rest, "</section>")
	return col
}

// The board has a column a stage, with its colour and name as the bot shows them, and
// the cards a manager sees, filtered as the table is; a column shows 50 cards and a
// link to the table of the rest.
func TestBoardPage(t *testing.T) {
	s := newBoardSite(t)
	s.many(53)
	a := s.signIn(s.anna)
	page := a.get("/app/board")
	if page.code != http.StatusOK {
		t.Fatalf("the board: %d %s", page.code, page.body)
	}
	for _, st := range store.Stages {
		if column(page.body, st) == "" {
			t.Errorf("no column %s", st)
		}
	}
	green := column(page.body, store.StageGreen)
	mustContain(t, "the green column", green, "🟢 Green", ">Ромашка</a>", "Anna · Москва", `draggable="true"`)
	mustNotContain(t, "Anna's board", page.body, "Лютик")
	white := column(page.body, store.StageWhite)
	mustContain(t, "the white column", white, ">Василёк</a>", "— · Казань")
	mustNotContain(t, "an unassigned client's card", white, `draggable="true"`)
	mustContain(t, "the red-gold column", column(page.body, store.StageRedGold), "🔴🥇 Red-gold")
	grey := column(page.body, store.StageGrey)
	if n := strings.Count(grey, `class="bcard"`); n != 50 {
		t.Errorf("the grey column shows %d cards", n)
	}
	mustContain(t, "the grey column", grey, "and 3 more", `href="/app/clients?stage=grey"`)
	// A full board is ten columns of 50: under 200 KB with long names.
	if per := len(grey) / 50; 500*(per+60) > 200<<10 {
		t.Errorf("a card takes %d bytes: a full board would be over 200 KB", per)
	}

	page = a.get("/app/board?industry=цветы&tags=ОПТ&city=москва")
	mustContain(t, "the board filtered", page.body, ">Ромашка</a>", `value="цветы"`, "1 clients")
	mustNotContain(t, "the board filtered", page.body, "Василёк", "Клиент 00")

	h := s.signIn(s.head)
	mustContain(t, "the head's board", column(h.get("/app/board").body, store.StageGreen), ">Лютик</a>", ">Ромашка</a>")
}

// moveAs posts a move as a script does (JSON) or as a form.
func moveAs(b *browser, c *store.Client, form url.Values, csrf string, json bool) answer {
	b.s.t.Helper()
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	if json {
		return b.do(http.MethodPost, "/app/clients/"+c.ID+"/stage", form, "Accept", "application/json")
	}
	return b.do(http.MethodPost, "/app/clients/"+c.ID+"/stage", form)
}

// A move is the bot's: a manager moves their own client, a red stage with its reason;
// another manager's client is "not found", an unassigned one is taken first, a red
// stage without a reason or an unknown stage is refused, and a forged request is
// refused, each changing nothing.
func TestBoardMove(t *testing.T) {
	s := newBoardSite(t)
	a := s.signIn(s.anna)
	csrf := a.csrf()

	r := moveAs(a, s.mine, url.Values{"stage": {"green_gold"}}, csrf, true)
	if r.code != http.StatusOK || !strings.Contains(r.body, `"stage":"green_gold"`) {
		t.Fatalf("Anna moves her client: %d %s", r.code, r.body)
	}
	if st, _ := s.stageOf(s.mine); st != store.StageGreenGold {
		t.Fatalf("the stage is %s", st)
	}
	// Without the script: back to the board it came from.
	r = moveAs(a, s.mine, url.Values{"stage": {"yellow"}, "back": {"/app/board?city=Москва"}}, csrf, false)
	if back, _ := url.QueryUnescape(r.location); r.code != http.StatusSeeOther || back != "/app/board?city=Москва" {
		t.Errorf("a form's move: %d %q", r.code, r.location)
	}
	r = moveAs(a, s.mine, url.Values{"stage": {"green"}, "back": {"https://evil.example/"}}, csrf, false)
	if r.location != "/app/clients/"+s.mine.ID {
		t.Errorf("a move back to another site goes to %q", r.location)
	}

	for _, c := range []struct {
		name   string
		client *store.Client
		form   url.Values
		csrf   string
		code   int
		says   string
	}{
		{"another manager's client", s.borisOne, url.Values{"stage": {"gold"}}, csrf, http.StatusNotFound, "no such page"},
		{"an unassigned client", s.nobodyOne, url.Values{"stage": {"grey"}}, csrf, http.StatusForbidden, "take it first"},
		{"a red stage without a reason", s.mine, url.Values{"stage": {"red_green"}}, csrf, http.StatusUnprocessableEntity, "Say why"},
		{"a red stage, other, no words", s.mine, url.Values{"stage": {"red_green"}, "code": {"other"}, "reason": {"  "}}, csrf, http.StatusUnprocessableEntity, "Say why"},
		{"an unknown reason", s.mine, url.Values{"stage": {"red_green"}, "code": {"bribe"}}, csrf, http.StatusUnprocessableEntity, "Say why"},
		{"an unknown stage", s.mine, url.Values{"stage": {"purple"}}, csrf, http.StatusUnprocessableEntity, "no such stage"},
		{"no CSRF", s.mine, url.Values{"stage": {"gold"}}, "", http.StatusForbidden, "out of date"},
		{"a wrong CSRF", s.mine, url.Values{"stage": {"gold"}}, "forged", http.StatusForbidden, "out of date"},
	} {
		for _, json := range []bool{true, false} {
			before, _ := s.stageOf(c.client)
			r := moveAs(a, c.client, c.form, c.csrf, json)
			if r.code != c.code || !strings.Contains(r.body, c.says) {
				t.Errorf("%s (json %v): %d %s", c.name, json, r.code, r.body)
			}
			if after, _ := s.stageOf(c.client); after != before {
				t.Errorf("%s (json %v): the stage changed %s → %s", c.name, json, before, after)
			}
		}
	}
	// The form's refusal keeps what was typed and asks again.
	r = moveAs(a, s.mine, url.Values{"stage": {"red_green"}, "code": {"other"}}, csrf, false)
	mustContain(t, "the form asked again", r.body, `id="problem"`, `value="other" checked`, `<option value="red_green" selected>`)

	// A quick reason is kept in the viewer's words, as the bot keeps it; one in words as typed.
	r = moveAs(a, s.mine, url.Values{"stage": {"red_green"}, "code": {"competitor"}}, csrf, true)
	if st, why := s.stageOf(s.mine); r.code != http.StatusOK || st != store.StageRedGreen || why != "Went to a competitor" {
		t.Errorf("a quick reason: %d %s %q", r.code, st, why)
	}
	r = moveAs(a, s.mine, url.Values{"stage": {"red_gold"}, "code": {"other"}, "reason": {"закрылись"}}, csrf, true)
	if st, why := s.stageOf(s.mine); r.code != http.StatusOK || st != store.StageRedGold || why != "закрылись" {
		t.Errorf("a reason in words: %d %s %q", r.code, st, why)
	}
	// A head moves anyone's client; the history says who.
	h := s.signIn(s.head)
	if r := moveAs(h, s.borisOne, url.Values{"stage": {"gold"}}, h.csrf(), true); r.code != http.StatusOK {
		t.Errorf("the head moves Boris's client: %d %s", r.code, r.body)
	}
	if st, _ := s.stageOf(s.borisOne); st != store.StageGold {
		t.Errorf("Boris's client is %s", st)
	}
	// The move page (the board's "Move" without its script) for one's own client only.
	mustContain(t, "the move page", a.get("/app/clients/"+s.mine.ID+"/stage?back=/app/board").body, "Move Ромашка", `name="code"`)
	if r := a.get("/app/clients/" + s.borisOne.ID + "/stage"); r.code != http.StatusNotFound || strings.Contains(r.body, "Лютик") {
		t.Errorf("the move page of Boris's client: %d", r.code)
	}
}

// readXLSX reads the first sheet's rows.
func readXLSX(t *testing.T, body string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The export is every client the table's filters and sort find, not a page, with
// the viewer's rights: a manager's has their own and unassigned clients only.
func TestClientsExport(t *testing.T) {
	s := newBoardSite(t)
	s.many(60)
	s.task()
	a := s.signIn(s.anna)
	mustContain(t, "the table", a.get("/app/clients?city=Тверь&sort=name").body, `href="/app/clients.xlsx?city=%D0%A2%D0%B2%D0%B5%D1%80%D1%8C&amp;sort=name"`)
	r := a.get("/app/clients.xlsx?city=Тверь&sort=name")
	if r.code != http.StatusOK || !strings.Contains(r.header.Get("Content-Disposition"), "clients.xlsx") {
		t.Fatalf("export: %d %v", r.code, r.header)
	}
	rows := readXLSX(t, r.body)
	if len(rows) != 61 || rows[0][0] != "Client" || rows[1][0] != "Клиент 00" || rows[60][0] != "Клиент 59" || rows[1][1] != "Grey" {
		t.Errorf("Tver's clients by name: %d rows, %q %q %q", len(rows), rows[0], rows[1], rows[len(rows)-1])
	}
	rows = readXLSX(t, a.get("/app/clients.xlsx?sort=name&tasks=1").body)
	if len(rows) != 2 || strings.Join(rows[1], "|") != "Ромашка|Green|Москва|Цветы|Anna|||опт|yes|03.12.2026" {
		t.Errorf("with open tasks: %q", rows)
	}
	names := map[string]bool{}
	for _, row := range readXLSX(t, a.get("/app/clients.xlsx").body)[1:] {
		names[row[0]] = true
	}
	if len(names) != 62 || names["Лютик"] || !names["Василёк"] {
		t.Errorf("Anna's export: %d clients, Лютик %v, Василёк %v", len(names), names["Лютик"], names["Василёк"])
	}
	rows = readXLSX(t, s.signIn(s.head).get("/app/clients.xlsx?manager="+s.boris.ID).body)
	if len(rows) != 2 || rows[1][0] != "Лютик" || rows[1][4] != "Boris" {
		t.Errorf("the head's export of Boris's clients: %q", rows)
	}
}

// The table filters by industry, tags and open tasks, and keeps them in its links.
func TestClientsMoreFilters(t *testing.T) {
	s := newBoardSite(t)
	s.client(&store.Client{Name: "Лилия", ManagerID: s.anna.ID, Industry: "цветы", Tags: []string{"розница"}})
	s.sync()
	s.task()
	a := s.signIn(s.anna)
	page := a.get("/app/clients?industry=ЦВЕТЫ&sort=name").body
	mustContain(t, "by industry", page, ">Лилия</a>", ">Ромашка</a>", "1–2 of 2", `<option value="Цветы">`)
	page = a.get("/app/clients?tags=опт").body
	mustContain(t, "by tag", page, ">Ромашка</a>", "1–1 of 1", `name="tags" value="опт"`)
	page = a.get("/app/clients?tasks=1").body
	mustContain(t, "with open tasks", page, ">Ромашка</a>", "1–1 of 1", "open tasks", `name="tasks" value="1" checked`,
		`href="/app/board?tasks=1"`)
	mustNotContain(t, "with open tasks", page, "Лилия", "Василёк")
}
