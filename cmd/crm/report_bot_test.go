package main

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/store"
)

// wantChart fails unless content is a chart picture.
func wantChart(t *testing.T, content []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(content))
	if err != nil || img.Bounds().Dx() != chart.Width || img.Bounds().Dy() != chart.Height {
		t.Fatalf("the chart is not a %dx%d PNG: %v", chart.Width, chart.Height, err)
	}
}

// wantWorkbook fails unless content opens as a workbook with these tabs.
func wantWorkbook(t *testing.T, content []byte, tabs ...string) {
	t.Helper()
	book, err := excelize.OpenReader(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("the spreadsheet does not open: %v", err)
	}
	defer book.Close()
	if got := book.GetSheetList(); strings.Join(got, "|") != strings.Join(tabs, "|") {
		t.Fatalf("tabs %v, want %v", got, tabs)
	}
}

// The chat's reports on a real base: today's funnel as a chart and a workbook, a
// manager's own funnel, a period with nothing; then the same through crm serve's bot.
func TestChatReportsOnARealBase(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;;;\nВектор;Казань;Пётр;;;\n")
	if r := runCRM(ctx, t, vars, "manager", "add", "--name", "Ирина", "--role", "head", "--telegram-id", "77"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	s, cfg, closeStore := openBase(t, vars)
	petr, err := findManager(ctx, s, "Пётр")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Ромашка", "Вектор"} {
		found, err := s.Search(ctx, store.Viewer{Role: store.RoleAdmin}, name, 1)
		if err != nil || len(found) != 1 {
			t.Fatalf("find %s: %v %v", name, found, err)
		}
		if _, err := s.MoveStage(ctx, "test", found[0].ClientID, store.StageGrey, store.Refusal{}); err != nil {
			t.Fatal(err)
		}
	}
	y, m, d := testDay.In(cfg.Calendar.Loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, cfg.Calendar.Loc)
	rs := chatReports{s, cfg.Now}
	ask := bot.ReportAsk{Name: "funnel", From: today, To: today.AddDate(0, 0, 1), Lang: "ru"}
	v, err := rs.Report(ctx, ask)
	if err != nil || v.Empty || !strings.HasPrefix(v.Title, "Воронка продаж, ") || len(v.Summary) == 0 ||
		v.Summary[0] != "Переходов между этапами: 2" {
		t.Fatalf("today's funnel: %+v %v", v, err)
	}
	wantChart(t, v.PNG)
	sheet, err := rs.Spreadsheet(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	wantWorkbook(t, sheet, "Этапы", "Отказы")

	ask.Own, ask.Lang = petr.ID, "en"
	if v, err = rs.Report(ctx, ask); err != nil || v.Empty || len(v.Summary) == 0 || v.Summary[0] != "Stage moves: 1" {
		t.Fatalf("Пётр's own funnel: %+v %v", v, err)
	}
	ask = bot.ReportAsk{Name: "sources", From: time.Date(2020, 1, 1, 0, 0, 0, 0, cfg.Calendar.Loc), Lang: "ru"}
	ask.To = ask.From.AddDate(0, 1, 0)
	if v, err = rs.Report(ctx, ask); err != nil || !v.Empty || v.PNG != nil || v.NoData != "Нет данных за период." {
		t.Fatalf("a month with nothing: %+v %v", v, err)
	}
	closeStore()

	// A head in Telegram: the menu, the period, the picture, the workbook.
	tg := tgtest.New(t)
	startServe(t, withSettings(vars, "CRM_HTTP_ADDR", freeAddr(t), "CRM_TELEGRAM_TOKEN", tgtest.Token, "CRM_TELEGRAM_API_URL", tg.URL()))
	const wait = 20 * time.Second
	tg.SendText(77, "/report")
	tg.TapButton(tg.Next(77, wait), "Воронка")
	tg.TapButton(tg.Next(77, wait), "Этот месяц")
	pic := tg.Next(77, wait)
	if pic.Method != "sendPhoto" || !strings.HasPrefix(pic.Text, "<b>Воронка продаж, 01.") || !strings.Contains(pic.Text, "\nПереходов между этапами: 2") {
		t.Fatalf("the picture: %s %q", pic.Method, pic.Text)
	}
	wantChart(t, pic.Content)
	tg.TapButton(pic, "📊 Таблица (xlsx)")
	doc := tg.Next(77, wait)
	if want := "funnel-" + today.Format("2006-01") + "-01_" + today.Format(time.DateOnly) + ".xlsx"; doc.Method != "sendDocument" || doc.FileName != want {
		t.Fatalf("the spreadsheet: %s %q, want %q", doc.Method, doc.FileName, want)
	}
	wantWorkbook(t, doc.Content, "Этапы", "Отказы")
}
