package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// openBase opens the base vars name from the test, as another crm command would.
func openBase(t *testing.T, vars map[string]string) (*store.Store, Config, func()) {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, closeStore, err := openStore(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", true)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg, closeStore
}

// The funnel of clients moved today, whole and cut by city and by manager; bad
// arguments are refused with the usage.
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
		if _, err := s.MoveStage(ctx, "test", res[0].ClientID, mv.to, mv.reason); err != nil {
			t.Fatal(err)
		}
	}
	closeStore()

	today := time.Now().In(cfg.Calendar.Loc).Format(time.DateOnly)
	r := runCRM(ctx, t, vars, "report", "funnel", "--from", today, "--to", today)
	if r.code != 0 || !strings.Contains(r.stdout, "3 stage moves") || !strings.Contains(r.stdout, "Нет бюджета") {
		t.Fatalf("table: %+v", r)
	}
	r = runCRM(ctx, t, vars, "report", "funnel", "--from", today, "--format", "csv", "--city", "Казань")
	for _, want := range []string{"white,0,1,grey,2,1,50.0,", "grey,0,0,green,1,0,0.0,", "red_green,0,1,", "red_green,Нет бюджета,1"} {
		if r.code != 0 || !strings.Contains(r.stdout, "\n"+want) {
			t.Fatalf("csv lacks %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "funnel", "--manager", "Ольга", "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "\ngrey,0,1,") {
		t.Fatalf("Ольга's funnel: %+v", r)
	}
	for _, args := range [][]string{{"report"}, {"report", "sales"}, {"report", "funnel", "--from", "1 Nov"},
		{"report", "funnel", "--from", "2026-11-30", "--to", "2026-11-01"}, {"report", "funnel", "--format", "pdf"}} {
		if r := runCRM(ctx, t, vars, args...); r.code != 2 || !strings.Contains(r.stderr, "usage: crm report funnel") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// ABC/XYZ classes of the clients with paid orders, as a table and as CSV; bad
// thresholds are refused.
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
	for _, want := range []string{",Ромашка,900.00,90.00,A,0.0,X", ",Вектор,100.00,10.00,B,0.0,X"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("csv lacks %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "abc", "--from", "2026-03-01", "--to", "2026-03-31")
	if r.code != 0 || !strings.Contains(r.stdout, "2 clients with paid orders") || !strings.Contains(r.stdout, "1 clients, 90%") {
		t.Fatalf("table: %+v", r)
	}
	// The same orders by lead source (none recorded): revenue, no new clients in March.
	r = runCRM(ctx, t, vars, "report", "sources", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "\n,0,0,1000.00\n") {
		t.Fatalf("sources: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "report", "abc", "--abc", "95,80"); r.code != 2 || !strings.Contains(r.stderr, "two increasing percentages") {
		t.Fatalf("bad thresholds: %+v", r)
	}
}
