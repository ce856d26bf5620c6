package web_test

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/web"
)

// team is the seeded base's people.
type team struct {
	anna, boris, head, admin *store.Manager
	annas, boriss            string // a client of each
}

// seedReports fills a base with a month of work: November and this week (testNow is
// Thursday 3 December; the week began on Monday 30 November): calls, stage moves, new
// clients, an order paid and one overdue.
func seedReports(t *testing.T, s *site) team {
	t.Helper()
	ctx := context.Background()
	tm := team{anna: s.manager("Anna", store.RoleManager, 11), boris: s.manager("Boris", store.RoleManager, 12),
		head: s.manager("Helen", store.RoleHead, 13), admin: s.manager("Adam", store.RoleAdmin, 14)}
	at := func(m time.Month, d int) { s.clock.Set(time.Date(2026, m, d, 10, 0, 0, 0, time.UTC)) }
	call := func(who *store.Manager, client, outcome string) {
		t.Helper()
		if _, err := s.st.AppendInteraction(ctx, client, store.Interaction{Kind: store.InteractionCall, AuthorID: who.ID,
			Call: &store.Call{Direction: "out", Outcome: outcome}}); err != nil {
			t.Fatal(err)
		}
	}
	move := func(who *store.Manager, client string, to store.Stage) {
		t.Helper()
		if _, err := s.st.MoveStage(ctx, who.ID, client, to, store.Refusal{}); err != nil {
			t.Fatal(err)
		}
	}
	at(time.November, 2)
	tm.annas = s.client(&store.Client{Name: "Ромашка", ManagerID: tm.anna.ID, LeadSource: "Выставка"}).ID
	tm.boriss = s.client(&store.Client{Name: "Лютик", ManagerID: tm.boris.ID, LeadSource: "Сайт"}).ID
	call(tm.anna, tm.annas, "reached")
	call(tm.boris, tm.boriss, "no_answer")
	move(tm.anna, tm.annas, store.StageGrey)
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if err := s.st.CreateOrder(ctx, tm.boris.ID, &store.Order{ClientID: tm.boriss, Amount: 1_500_000, State: store.OrderInvoiced,
		Date: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Due: &due}); err != nil {
		t.Fatal(err)
	}
	at(time.November, 30)
	call(tm.anna, tm.annas, "reached")
	s.client(&store.Client{Name: "Василёк", ManagerID: tm.anna.ID, LeadSource: "Сайт"})
	at(time.December, 1)
	call(tm.anna, tm.annas, "meeting")
	call(tm.boris, tm.boriss, "reached")
	move(tm.anna, tm.annas, store.StageGreen)
	move(tm.boris, tm.boriss, store.StageGrey)
	if err := s.st.CreateOrder(ctx, tm.anna.ID, &store.Order{ClientID: tm.annas, Amount: 12_345_050, State: store.OrderPaid,
		Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	s.clock.Set(testNow)
	if err := s.st.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return tm
}

// expected is what the reports package builds for a request, as the bot's and the
// CLI's are built.
func expected(t *testing.T, s *site, req reports.Request) reports.Layout {
	t.Helper()
	words, err := reports.LoadWords("en")
	if err != nil {
		t.Fatal(err)
	}
	l, err := reports.Build(context.Background(), s.st, req, words, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func days(from, last string) reports.Period {
	f, _ := time.Parse(time.DateOnly, from)
	l, _ := time.Parse(time.DateOnly, last)
	return reports.Period{From: f, To: l.AddDate(0, 0, 1)}
}

var (
	tableRE = regexp.MustCompile(`(?s)<table class="report-table" id="table-(\d+)">(.*?)</table>`)
	rowRE   = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE  = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
)

// pageTables reads the report tables of a page: rows of cells, the header first.
func pageTables(page string) [][][]string {
	var out [][][]string
	for _, tm := range tableRE.FindAllStringSubmatch(page, -1) {
		var rows [][]string
		for _, rm := range rowRE.FindAllStringSubmatch(tm[2], -1) {
			var cells []string
			for _, cm := range cellRE.FindAllStringSubmatch(rm[1], -1) {
				cells = append(cells, html.UnescapeString(cm[1]))
			}
			rows = append(rows, cells)
		}
		out = append(out, rows)
	}
	return out
}

// samePage checks that a report's page shows what the reports package built: the
// title, the key figures and every cell of every table.
func samePage(t *testing.T, what, page string, l reports.Layout) {
	t.Helper()
	text := html.UnescapeString(page)
	mustContain(t, what, text, l.Title)
	got := pageTables(page)
	if l.Empty {
		mustContain(t, what, page, `id="nodata"`, "No data for the period.")
		if len(got) != 0 {
			t.Errorf("%s: an empty report shows %d tables", what, len(got))
		}
		return
	}
	mustContain(t, what, text, l.Summary...)
	if len(got) != len(l.Tables) {
		t.Fatalf("%s: %d tables, the report has %d", what, len(got), len(l.Tables))
	}
	for i, tb := range l.Tables {
		want := [][]string{tb.Header}
		for _, row := range tb.Rows {
			var cells []string
			for _, c := range row {
				cells = append(cells, web.CellText(c, "en"))
			}
			want = append(want, cells)
		}
		if len(got[i]) != len(want) {
			t.Errorf("%s, table %q: %d rows, want %d", what, tb.Name, len(got[i]), len(want))
			continue
		}
		for r := range want {
			if strings.Join(got[i][r], "|") != strings.Join(want[r], "|") {
				t.Errorf("%s, table %q, row %d:\n got %q\nwant %q", what, tb.Name, r, got[i][r], want[r])
			}
		}
	}
}

// A head sees each of the five reports over each kind of period exactly as the
// reports package builds it, with its chart and its xlsx.
func TestReportsAsTheReportsPackageBuildsThem(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	h := s.signIn(tm.head)
	periods := []struct {
		query string
		p     reports.Period
	}{
		{"period=tw", days("2026-11-30", "2026-12-03")},
		{"period=lw", days("2026-11-23", "2026-11-29")},
		{"period=tm", days("2026-12-01", "2026-12-03")},
		{"period=lm", days("2026-11-01", "2026-11-30")},
		{"period=tq", days("2026-10-01", "2026-12-03")},
		{"period=ty", days("2026-01-01", "2026-12-03")},
		{"period=cu&from=2026-11-01&to=2026-12-03", days("2026-11-01", "2026-12-03")},
	}
	for _, name := range reports.Names() {
		for _, pr := range periods {
			what := name + "?" + pr.query
			a := h.get("/app/reports/" + name + "?" + pr.query)
			if a.code != http.StatusOK {
				t.Fatalf("%s: %d %s", what, a.code, a.body)
			}
			l := expected(t, s, reports.Request{Name: name, Period: pr.p})
			samePage(t, what, a.body, l)
		}
	}
	// The chart and the xlsx of one of them: the same as the bot's.
	for _, name := range reports.Names() {
		l := expected(t, s, reports.Request{Name: name, Period: days("2026-11-01", "2026-12-03")})
		q := "?period=cu&from=2026-11-01&to=2026-12-03"
		a := h.get("/app/reports/" + name + "/chart.png" + q)
		var want bytes.Buffer
		if err := chart.PNG(&want, l.Chart); err != nil {
			if a.code != http.StatusNotFound {
				t.Errorf("%s's chart with nothing to draw: %d", name, a.code)
			}
			continue
		}
		if a.code != http.StatusOK || a.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s's chart: %d %s", name, a.code, a.header.Get("Content-Type"))
		}
		img, err := png.Decode(strings.NewReader(a.body))
		if err != nil || img.Bounds().Dx() != chart.Width {
			t.Errorf("%s's chart is no %d-pixel PNG: %v", name, chart.Width, err)
		}
		if a.body != want.String() {
			t.Errorf("%s's chart is not the one reports/chart draws", name)
		}
		page := h.get("/app/reports/" + name + q).body
		mustContain(t, name+"'s page", page, `src="/app/reports/`+name+`/chart.png?from=2026-11-01&amp;period=cu&amp;to=2026-12-03"`,
			`href="/app/reports/`+name+`/sheet.xlsx?from=2026-11-01&amp;period=cu&amp;to=2026-12-03"`)
		x := h.get("/app/reports/" + name + "/sheet.xlsx" + q)
		if x.code != http.StatusOK || !strings.HasPrefix(x.body, "PK") ||
			x.header.Get("Content-Disposition") != `attachment; filename="`+name+`-2026-11-01_2026-12-03.xlsx"` {
			t.Errorf("%s's xlsx: %d %q", name, x.code, x.header.Get("Content-Disposition"))
		}
		checkSheet(t, name, []byte(x.body), l)
	}
	// ABC/XYZ without a period is the twelve months before this one, as in crm report.
	l := expected(t, s, reports.Request{Name: reports.ABCReport, Period: days("2025-12-01", "2026-11-30")})
	samePage(t, "abc by default", h.get("/app/reports/abc").body, l)
	// The others, this month.
	l = expected(t, s, reports.Request{Name: reports.FunnelReport, Period: days("2026-12-01", "2026-12-03")})
	samePage(t, "the reports' page", h.get("/app/reports").body, l)
	// A head may narrow one to a manager, as crm report --manager does.
	l = expected(t, s, reports.Request{Name: reports.ManagersReport, Period: days("2026-12-01", "2026-12-03"), Own: tm.boris.ID})
	samePage(t, "Boris's line", h.get("/app/reports/managers?period=tm&manager="+tm.boris.ID).body, l)
	l = expected(t, s, reports.Request{Name: reports.FunnelReport, Period: days("2026-12-01", "2026-12-03"),
		Cut: reports.Cut{ManagerID: tm.boris.ID}})
	samePage(t, "Boris's funnel", h.get("/app/reports/funnel?period=tm&manager="+tm.boris.ID).body, l)
}

// A manager sees the reports as the bot shows them to a manager: their own clients
// and figures; asking for anyone else's is refused, the page, the chart and the xlsx.
func TestReportsOfAManagerAreTheirOwn(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	a := s.signIn(tm.anna)
	for _, name := range reports.Names() {
		l := expected(t, s, reports.Request{Name: name, Period: days("2026-11-01", "2026-11-30"), Own: tm.anna.ID})
		page := a.get("/app/reports/" + name + "?period=lm")
		if page.code != http.StatusOK {
			t.Fatalf("%s: %d", name, page.code)
		}
		samePage(t, "Anna's "+name, page.body, l)
		mustContain(t, "Anna's "+name, page.body, "Your clients and your figures.")
		mustNotContain(t, "Anna's "+name, page.body, "Boris", "Лютик", `name="manager"`)
		for _, path := range []string{"", "/chart.png", "/sheet.xlsx"} {
			forged := a.get("/app/reports/" + name + path + "?period=lm&manager=" + tm.boris.ID)
			if forged.code != http.StatusForbidden || strings.Contains(forged.body, "Лютик") {
				t.Errorf("Anna asking for Boris's %s%s: %d", name, path, forged.code)
			}
		}
	}
	// Her own ID is no more than her own figures.
	l := expected(t, s, reports.Request{Name: reports.ManagersReport, Period: days("2026-11-01", "2026-11-30"), Own: tm.anna.ID})
	samePage(t, "Anna naming herself", a.get("/app/reports/managers?period=lm&manager="+tm.anna.ID).body, l)
}

// A bad period or report is said in the page, and nothing is built.
func TestReportsRefuseBadAsks(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	h := s.signIn(tm.head)
	for q, want := range map[string]string{
		"period=cu&from=2026-12-01&to=2026-11-01": "The first day comes after the last",
		"period=cu&from=2025-01-01&to=2026-11-30": "a year at most",
		"period=cu&from=2026-02-30&to=2026-03-01": "Give the period",
		"period=cu&from=&to=":                     "Give the period",
		"period=zz":                               "There is no such period",
		"period=tm&manager=nobody":                "There is no such manager",
	} {
		a := h.get("/app/reports/managers?" + q)
		if a.code != http.StatusBadRequest {
			t.Errorf("%s: %d", q, a.code)
		}
		mustContain(t, q, a.body, want)
		if len(pageTables(a.body)) != 0 || strings.Contains(a.body, `id="chart"`) {
			t.Errorf("%s: a report was shown", q)
		}
		for _, path := range []string{"/chart.png", "/sheet.xlsx"} {
			if b := h.get("/app/reports/managers" + path + "?" + q); b.code != http.StatusBadRequest {
				t.Errorf("%s%s: %d", path, q, b.code)
			}
		}
	}
	if a := h.get("/app/reports/salaries?period=tm"); a.code != http.StatusNotFound {
		t.Errorf("an unknown report: %d", a.code)
	}
	// A period with nothing in it says so, and has no chart or file.
	a := h.get("/app/reports/managers?period=cu&from=2026-01-01&to=2026-01-31")
	mustContain(t, "January", a.body, "No data for the period.")
	mustNotContain(t, "January", a.body, `id="chart"`, `id="xlsx"`)
	if b := h.get("/app/reports/managers/sheet.xlsx?period=cu&from=2026-01-01&to=2026-01-31"); b.code != http.StatusNotFound {
		t.Errorf("January's xlsx: %d", b.code)
	}
	// Not signed in: the sign-in page, no figures.
	if b := (&browser{s: s}).get("/app/reports/managers/chart.png?period=tm"); b.code != http.StatusSeeOther {
		t.Errorf("a stranger's chart: %d", b.code)
	}
}

// checkSheet reads an xlsx the site sent: a tab for each of the report's tables, with
// its title, header and rows, as reports/sheet writes them.
func checkSheet(t *testing.T, name string, b []byte, l reports.Layout) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s's xlsx: %v", name, err)
	}
	defer f.Close()
	tabs := f.GetSheetList()
	if len(tabs) != len(l.Tables) {
		t.Fatalf("%s's xlsx has %d tabs, the report %d tables", name, len(tabs), len(l.Tables))
	}
	for i, tb := range l.Tables {
		rows, err := f.GetRows(tabs[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2+len(tb.Rows) || rows[0][0] != tb.Title || strings.Join(rows[1], "|") != strings.Join(tb.Header, "|") {
			t.Errorf("%s's xlsx, tab %q: %d rows, title %q", name, tabs[i], len(rows), rows[0])
		}
	}
}
