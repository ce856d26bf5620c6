package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// The payments report of a month: each manager's invoiced, paid and unpaid, the
// overdue invoice, as CSV, a table, a manager's own lines and a workbook; in the chat
// with its chart.
func TestReportPayments(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;;;\nВектор;Казань;Пётр;;;\n")
	s, cfg, closeStore := openBase(t, vars)
	head := store.Viewer{Role: store.RoleAdmin}
	march := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	due := time.Date(2026, 3, 20, 0, 0, 0, 0, cfg.Calendar.Loc)
	for _, o := range []struct {
		id, client string
		rub, paid  int64
		due        *time.Time
	}{{"A-1", "Ромашка", 1000, 400, &due}, {"B-1", "Вектор", 500, 500, nil}} {
		found, err := s.Search(ctx, head, o.client, 1)
		if err != nil || len(found) != 1 {
			t.Fatalf("find %s: %v %v", o.client, found, err)
		}
		if err := s.CreateOrder(ctx, "test", &store.Order{ID: o.id, ClientID: found[0].ClientID, Amount: o.rub * 100, Date: march(10), Due: o.due}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PayOrder(ctx, head, o.id, o.paid*100, march(15)); err != nil {
			t.Fatal(err)
		}
	}
	rs := chatReports{s, cfg.Now}
	ask := bot.ReportAsk{Name: "payments", From: time.Date(2026, 3, 1, 0, 0, 0, 0, cfg.Calendar.Loc), Lang: "ru"}
	ask.To = ask.From.AddDate(0, 1, 0)
	v, err := rs.Report(ctx, ask)
	if err != nil || v.Empty || v.Title != "Оплаты, 01.03.2026 – 31.03.2026" || !strings.Contains(strings.Join(v.Summary, "\n"), "Просроченных счетов: 1 на 600 ₽") {
		t.Fatalf("the chat's report: %+v %v", v, err)
	}
	wantChart(t, v.PNG)
	closeStore()

	r := runCRM(ctx, t, vars, "report", "payments", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
	for _, want := range []string{"\uFEFFManager;Month;Invoiced, RUB;Paid, RUB;Orders paid;Unpaid, RUB;Of it overdue, RUB\r\n",
		"\nОльга;2026-03;1000.00;400.00;0;600.00;600.00\r\n", "\nПётр;2026-03;500.00;500.00;1;0.00;0.00\r\n",
		"\nTeam;;1500.00;900.00;1;600.00;600.00\r\n", "\nOrder;Client;Manager;Owed, RUB;Due;Days overdue\r\n",
		"\nA-1;Ромашка;Ольга;600.00;2026-03-20;243\r\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("csv lacks %q: %+v", want, r)
		}
	}
	r = runCRM(ctx, t, vars, "report", "payments", "--from", "2026-03-01", "--to", "2026-03-31", "--manager", "Пётр", "--lang", "ru")
	if r.code != 0 || strings.Contains(r.stdout, "Ольга") || !strings.Contains(r.stdout, "Получено: 500 ₽ (оплачено заказов полностью: 1)") ||
		!strings.Contains(r.stdout, "Просроченных счетов нет.") {
		t.Fatalf("Пётр's own: %+v", r)
	}
	xlsx := filepath.Join(t.TempDir(), "payments.xlsx")
	if r := runCRM(ctx, t, vars, "report", "payments", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "xlsx", "--out", xlsx); r.code != 0 {
		t.Fatalf("xlsx: %+v", r)
	}
	content, err := os.ReadFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	wantWorkbook(t, content, "By manager and month", "Overdue invoices")
}
