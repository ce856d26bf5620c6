package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

// tileRE reads a dashboard tile: its ID and figure.
var tileRE = regexp.MustCompile(`(?s)id="tile-([a-z]+)" href="([^"]*)">.*?<span class="tile-value">(.*?)</span>`)

// A head's start page is this week's figures, as the managers' and payments' reports
// compute them for the week, each a link into its report; a manager goes to the
// clients.
func TestDashboardOfTheWeek(t *testing.T) {
	s := newSite(t)
	tm := seedReports(t, s)
	ctx := context.Background()
	week := days("2026-11-30", "2026-12-03")
	team, err := reports.ComputeTeam(ctx, s.st, week, "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	pay, err := reports.ComputePayments(ctx, s.st, week, "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	n := team.Total.Now
	want := map[string]string{
		"calls": strconv.FormatInt(n.Calls, 10), "meetings": strconv.FormatInt(n.Meetings, 10),
		"new": strconv.FormatInt(n.NewClients, 10), "forward": strconv.FormatInt(n.MovesForward, 10),
		"back": strconv.FormatInt(n.MovesBack, 10), "orders": strconv.FormatInt(n.Orders, 10),
		"revenue": store.FormatAmount(n.Revenue) + " RUB", "overdue": strconv.Itoa(len(pay.Overdue)),
	}
	// The seeded week is not empty, so the test says something.
	if n.Calls != 3 || n.NewClients != 1 || n.MovesForward != 3 || n.Revenue != 12_345_050 || len(pay.Overdue) != 1 {
		t.Fatalf("the seeded week: %+v, %d overdue", n, len(pay.Overdue))
	}
	for _, who := range []*store.Manager{tm.head, tm.admin} {
		a := s.signIn(who).get("/app/")
		if a.code != http.StatusOK {
			t.Fatalf("%s's start page: %d", who.Name, a.code)
		}
		got := map[string]string{}
		for _, m := range tileRE.FindAllStringSubmatch(a.body, -1) {
			got[m[1]] = html.UnescapeString(m[3])
			if m[2] != "/app/reports/funnel?period=tw" && m[2] != "/app/reports/managers?period=tw" &&
				m[2] != "/app/reports/payments?period=tw" && m[2] != "/app/reports/sources?period=tw" {
				t.Errorf("tile %s links to %q", m[1], m[2])
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s's tile %s: %q, want %q", who.Name, k, got[k], v)
			}
		}
		mustContain(t, who.Name+"'s start page", a.body, "30.11.2026 – 03.12.2026", `id="dash-managers"`, "<td>Anna</td>", "<td>Boris</td>")
	}
	if a := s.signIn(tm.anna).get("/app/"); a.code != http.StatusSeeOther || a.location != "/app/clients" {
		t.Errorf("a manager's start: %d %q", a.code, a.location)
	}
	// A week with nothing in it says so.
	s.clock.Set(testNow.AddDate(0, 0, 14))
	mustContain(t, "a quiet week", s.signIn(tm.head).get("/app/").body, "Nothing has been recorded this week yet.")
	s.clock.Set(testNow)
}
