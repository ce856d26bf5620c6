package main

import (
	"bytes"
	"context"
	"encoding/csv"
	stdpng "image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/store"
)

// openBase opens the base vars name from the test, as another crm command would,
// with the client directory loaded for its searches.
func openBase(t *testing.T, vars map[string]string) (*store.Store, Config, func()) {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = testNow
	s, closeStore, err := openStore(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", true)
	if err == nil {
		err = s.Directory().Sync(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg, closeStore
}

// The funnel of clients moved today, whole and cut by city and by manager, as a
// table, CSV, a picture and a spreadsheet; bad arguments are refused with the usage.
func TestReportFunnel(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;;;\nВектор;Казань;Пётр;;;\nЛуч;Казань;Пётр;;;\n")
	s, cfg, closeStore := openBase(t, vars)
	for _, mv := range []struct {
		name, reason string
		to           store.Stage
	}{{"Ромашка", "", store.StageGrey}, {"Вектор", "", store.StageGrey}, {"Вектор", "Нет бюджета", store.StageRedGreen}} {
		res, err := s.Search(ctx, store.Viewer{Role: store.RoleAdmin}, mv.name, 1)
		if err != nil || len(res) != 1 {
			t.Fatalf("find %s: %v %v", mv.name, res, err)
		}
		if _, err := s.MoveStage(ctx, "test", res[0].ClientID, mv.to, store.Refusal{Reason: mv.reason}); err != nil {
			t.Fatal(err)
		}
	}
	closeStore()

	today := testDay.In(cfg.Calendar.Loc).Format(time.DateOnly)
	r := runCRM(ctx, t, vars, "report", "funnel", "--from", today, "--to", today)
	if r.code != 0 || !strings.Contains(r.stdout, "Stage moves: 3") || !strings.Contains(r.stdout, "Нет бюджета") {
		t.Fatalf("table: %+v", r)
	}
	r = runCRM(ctx, t, vars, "report", "funnel", "--from", today, "--format", "csv", "--city", "Казань")
	for _, want := range []string{"White;0;1;Grey;2;1;50.0%;", "Grey;0;0;Green;1;0;0.0%;", "Red-green;0;1;", "Red-green;Нет бюджета;1"} {
		if r.code != 0 || !strings.Contains(r.stdout, "\n"+want) {
			t.Fatalf("csv lacks %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "funnel", "--manager", "Ольга", "--format", "csv", "--lang", "ru")
	if r.code != 0 || !strings.Contains(r.stdout, "\nСерый;0;1;") {
		t.Fatalf("Ольга's funnel: %+v", r)
	}
	// The picture and the spreadsheet go to files.
	dir := t.TempDir()
	png, xlsx := filepath.Join(dir, "funnel.png"), filepath.Join(dir, "funnel.xlsx")
	if r := runCRM(ctx, t, vars, "report", "funnel", "--format", "png", "--out", png, "--lang", "ru"); r.code != 0 {
		t.Fatalf("png: %+v", r)
	}
	if f, err := os.Open(png); err != nil {
		t.Fatal(err)
	} else if img, err := stdpng.Decode(f); err != nil || img.Bounds().Dx() != chart.Width || img.Bounds().Dy() != chart.Height {
		t.Fatalf("png: %v", err)
	}
	if r := runCRM(ctx, t, vars, "report", "funnel", "--format", "xlsx", "--out", xlsx); r.code != 0 {
		t.Fatalf("xlsx: %+v", r)
	}
	book, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	if got := book.GetSheetList(); len(got) != 2 || got[0] != "Stages" || got[1] != "Refusals" {
		t.Fatalf("sheets: %v", got)
	}
	// A period with nothing writes no file and says so.
	empty := filepath.Join(dir, "empty.png")
	if r := runCRM(ctx, t, vars, "report", "funnel", "--from", "2020-01-01", "--to", "2020-01-31", "--format", "png", "--out", empty); r.code != 0 ||
		!strings.Contains(r.stderr, "No data for the period") {
		t.Fatalf("empty png: %+v", r)
	} else if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Fatalf("a picture of nothing was written: %v", err)
	}
	// Today's managers' figures are stage moves alone, which their chart does not draw:
	// the tables are offered instead of a picture of nothing.
	moves := filepath.Join(dir, "managers.png")
	if r := runCRM(ctx, t, vars, "report", "managers", "--from", today, "--format", "png", "--out", moves); r.code != 0 ||
		!strings.Contains(r.stderr, "nothing to draw") || !strings.Contains(r.stderr, "--format table, csv or xlsx") {
		t.Fatalf("managers' png with nothing to draw: %+v", r)
	} else if _, err := os.Stat(moves); !os.IsNotExist(err) {
		t.Fatalf("a picture of nothing was written: %v", err)
	}
	for _, args := range [][]string{{"report"}, {"report", "sales"}, {"report", "funnel", "--from", "1 Nov"},
		{"report", "funnel", "--from", "2026-11-30", "--to", "2026-11-01"}, {"report", "funnel", "--format", "pdf"}} {
		if r := runCRM(ctx, t, vars, args...); r.code != 2 || !strings.Contains(r.stderr, "usage: crm report funnel") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// ABC/XYZ classes of the clients with paid orders, as a table and as CSV, lead
// sources and the managers' figures of the same month; bad thresholds are refused.
func TestReportABC(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;;;\nВектор;Казань;Пётр;;;\nЛуч;Казань;Пётр;;;\n")
	s, _, closeStore := openBase(t, vars)
	for name, rub := range map[string]int64{"Ромашка": 900, "Вектор": 100} {
		res, err := s.Search(ctx, store.Viewer{Role: store.RoleAdmin}, name, 1)
		if err != nil || len(res) != 1 {
			t.Fatalf("find %s: %v %v", name, res, err)
		}
		if err := s.CreateOrder(ctx, "test", &store.Order{ClientID: res[0].ClientID, Amount: rub * 100, State: store.OrderPaid,
			Date: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	closeStore()

	r := runCRM(ctx, t, vars, "report", "abc", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	for _, want := range []string{"\nAX;1;900.00;90.0%\r\n", "\nРомашка;900.00;90.0%;A;0.0%;X\r\n", "\nВектор;100.00;10.0%;B;0.0%;X\r\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("csv lacks %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "abc", "--from", "2026-03-01", "--to", "2026-03-31")
	if r.code != 0 || !strings.Contains(r.stdout, "Class A: 1 clients, 90% of revenue") {
		t.Fatalf("table: %+v", r)
	}
	// The same orders by lead source (none recorded): no new clients in March, two
	// first orders paid in March (typed in in November), and their revenue.
	r = runCRM(ctx, t, vars, "report", "sources", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "\n(not recorded);0;2;2;1000.00\r\n") {
		t.Fatalf("sources: %+v", r)
	}
	// The managers' March: the orders' revenue is their clients' managers'.
	r = runCRM(ctx, t, vars, "report", "managers", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	for _, want := range []string{"\nОльга;0;0;0;0;0;0;0;0;0;0;0;0;1;900.00\r\n", "\nПётр;0;0;0;0;0;0;0;0;0;0;0;0;1;100.00\r\n", "\nTeam;"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("managers lack %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "managers", "--from", "2026-03-01", "--to", "2026-03-31", "--manager", "Пётр", "--format", "csv")
	if r.code != 0 || strings.Contains(r.stdout, "Ольга") || !strings.Contains(r.stdout, "\nПётр;") {
		t.Fatalf("Пётр's own: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "report", "abc", "--abc", "95,80"); r.code != 2 || !strings.Contains(r.stderr, "two increasing percentages") {
		t.Fatalf("bad thresholds: %+v", r)
	}
}

// A report's CSV is ready for Excel as the clients' export is: the byte order mark,
// ';' between values, decimal commas in Russian, and no value Excel would run as a
// formula (a lead source typed as "=2+3"). With --out it goes to that file alone.
func TestReportCSVIsGuardedAndReadyForExcel(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	if r := runCRM(ctx, t, vars, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	s, _, closeStore := openBase(t, vars)
	// Each lead source, as the file shows it: led by an apostrophe (the report trims
	// sources, so the tab and the CR go; TestLayoutCSVGuardsEveryCell keeps them).
	leads := map[string]string{"=2+3": "'=2+3", "+7 916": "'+7 916", "-1+2": "'-1+2", "@SUM(A1)": "'@SUM(A1)",
		"\t=1+1": "'=1+1", "\r=HYPERLINK(1)": "'=HYPERLINK(1)", "Выставка": "Выставка"}
	for src := range leads {
		c := &store.Client{Name: "Клиент " + src, LeadSource: src}
		if err := s.CreateClient(ctx, "test", c); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateOrder(ctx, "test", &store.Order{ClientID: c.ID, Amount: 1000_50, State: store.OrderPaid,
			Date: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	closeStore()

	out := filepath.Join(t.TempDir(), "sources.csv")
	r := runCRM(ctx, t, vars, "report", "sources", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv", "--lang", "ru", "--out", out)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, out) {
		t.Fatalf("--out: %+v", r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "\uFEFF") {
		t.Fatalf("no byte order mark: %q", data)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\uFEFF")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil || len(rows) != 1+len(leads) {
		t.Fatalf("%d rows, %v:\n%s", len(rows), err, data)
	}
	got := map[string][]string{}
	for _, row := range rows[1:] {
		got[row[0]] = row
	}
	for src, want := range leads {
		if row := got[want]; row == nil || row[4] != "1000,50" {
			t.Errorf("lead source %q: want a row of %q with 1000,50, got %q", src, want, row)
		}
	}
	for _, row := range rows {
		for _, v := range row {
			if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
				t.Errorf("a formula lead in %q", row)
			}
		}
	}
	// In English the figures keep their points; without --out the CSV is printed.
	r = runCRM(ctx, t, vars, "report", "sources", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "\uFEFFSource;") || !strings.Contains(r.stdout, "\r\n'=2+3;0;1;1;1000.50\r\n") {
		t.Fatalf("stdout: %+v", r)
	}
}

// Every text cell of a report's CSV, headers too, is guarded, whatever leads it (the
// store trims most values, so tab- and CR-led ones are laid out here by hand); the
// figures stay numbers, with decimal commas in Russian.
func TestLayoutCSVGuardsEveryCell(t *testing.T) {
	ru, err := reports.LoadWords("ru")
	if err != nil {
		t.Fatal(err)
	}
	l := reports.Layout{Tables: []reports.Table{
		{Header: []string{"=Источник", "Выручка", "Доля", "Дни"}, Rows: [][]any{
			{"\t=1+1", reports.Money(1000.5), reports.Percent(0.255), 1.5},
			{"\r=2+3", reports.Money(0), reports.Percent(0), 0.0},
			{"@SUM(A1)", reports.Money(12), reports.Percent(1), 3},
		}},
		{Header: []string{"Причина", "Клиенты"}, Rows: [][]any{{"-нет бюджета", 2}, {"+1", int64(1)}}},
	}}
	var buf bytes.Buffer
	if err := layoutCSV(&buf, l, ru, ';'); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF'=Источник;Выручка;Доля;Дни\r\n" +
		"'\t=1+1;1000,50;25,5%;1,5\r\n" +
		"\"'=2+3\";0,00;0,0%;0\r\n" + // the lone CR goes (encoding/csv), the guard stays
		"'@SUM(A1);12,00;100,0%;3\r\n" +
		"\r\n" +
		"Причина;Клиенты\r\n" +
		"'-нет бюджета;2\r\n" +
		"'+1;1\r\n"
	if buf.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", buf.String(), want)
	}
}
