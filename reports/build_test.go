package reports_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/reports"
)

// Every report lays out in Russian with its key figures; an empty period says so.
func TestBuildEveryReport(t *testing.T) {
	ctx := context.Background()
	st, c, ids := teamBase(t)
	ru, err := reports.LoadWords("ru")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		reports.FunnelReport:   {"Воронка продаж, 01.10.2026 – 31.10.2026", "Переходов между этапами: 2", "Белый → Серый: 1 из 2 (50%)"},
		reports.ManagersReport: {"Активность менеджеров, 01.10.2026 – 31.10.2026", "Звонки: 3 (новое)", "Выручка: 5\u00a0000 ₽ (новое)"},
		reports.SourcesReport:  {"Источники клиентов, 01.10.2026 – 31.10.2026", "Больше всего выручки: (не указан) — 5\u00a0000 ₽"},
		reports.ABCReport:      {"ABC/XYZ-анализ клиентов, 01.10.2026 – 31.10.2026", "Класс A: 1 клиентов, 100% выручки"},
		reports.PaymentsReport: {"Оплаты, 01.10.2026 – 31.10.2026", "Получено: 5\u00a0000 ₽ (оплачено заказов полностью: 1)"},
	}
	for _, name := range reports.Names() {
		l, err := reports.Build(ctx, st, reports.Request{Name: name, Period: month(time.October)}, ru, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		got := append([]string{l.Title}, l.Summary...)
		for _, w := range want[name] {
			if !slices.Contains(got, w) {
				t.Errorf("%s lacks %q: %q", name, w, got)
			}
		}
		if l.Empty || l.Chart.Empty() || len(l.Tables) == 0 || len(l.Tables[0].Rows) == 0 {
			t.Errorf("%s: empty layout %+v", name, l)
		}
		// Nothing happened in August, before the clients were made.
		l, err = reports.Build(ctx, st, reports.Request{Name: name, Period: month(time.August)}, ru, c.Now())
		if err != nil || !l.Empty {
			t.Errorf("%s in August: %+v, %v", name, l, err)
		}
	}
	// Boris asking for the managers' report sees his line alone.
	l, err := reports.Build(ctx, st, reports.Request{Name: reports.ManagersReport, Period: month(time.October), Own: ids["Борис"]}, ru, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rows := l.Tables[0].Rows; len(rows) != 1 || rows[0][0] != "Борис" || strings.Join(l.Chart.Labels, ",") != "Борис" {
		t.Fatalf("Boris's report: %v, chart %v", l.Tables[0].Rows, l.Chart.Labels)
	}
}

// A sum of money says its currency once: "Выручка: 5 000 ₽", not "Выручка, ₽: 5 000 ₽".
func TestSummariesSayTheCurrencyOnce(t *testing.T) {
	ctx := context.Background()
	st, c, _ := teamBase(t)
	for lang, unit := range map[string]string{"ru": "₽", "en": "RUB"} {
		words, err := reports.LoadWords(lang)
		if err != nil {
			t.Fatal(err)
		}
		money := 0
		for _, name := range reports.Names() {
			l, err := reports.Build(ctx, st, reports.Request{Name: name, Period: month(time.October)}, words, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range l.Summary {
				if n := strings.Count(line, unit); n > 1 {
					t.Errorf("%s %s: the currency %d times in %q", lang, name, n, line)
				} else {
					money += n
				}
			}
		}
		if money < 2 {
			t.Errorf("%s: %d summary lines with money; the managers' and sources' reports have one each", lang, money)
		}
	}
}
