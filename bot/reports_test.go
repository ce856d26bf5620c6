package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// askedReports is a Reports that records what it is asked and answers with a view
// made from the ask (or with view, when set).
type askedReports struct {
	mu            sync.Mutex
	reports, xlsx []bot.ReportAsk
	view          func(bot.ReportAsk) (bot.ReportView, error)
}

func (r *askedReports) Report(_ context.Context, ask bot.ReportAsk) (bot.ReportView, error) {
	r.mu.Lock()
	r.reports = append(r.reports, ask)
	view := r.view
	r.mu.Unlock()
	if view != nil {
		return view(ask)
	}
	return bot.ReportView{Title: fmt.Sprintf("%s, %s – %s", ask.Name, ask.From.Format("02.01.2006"), ask.To.AddDate(0, 0, -1).Format("02.01.2006")),
		Summary: []string{"Переходов: 3 <b>&", "Конверсия: 50%"}, PNG: []byte("\x89PNG chart of " + ask.Name)}, nil
}

func (r *askedReports) Spreadsheet(_ context.Context, ask bot.ReportAsk) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.xlsx = append(r.xlsx, ask)
	return []byte("PK workbook of " + ask.Name), nil
}

// last is the last report asked for, and how many were.
func (r *askedReports) last() (bot.ReportAsk, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reports) == 0 {
		return bot.ReportAsk{}, 0
	}
	return r.reports[len(r.reports)-1], len(r.reports)
}

func (r *askedReports) sheets() []bot.ReportAsk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.xlsx)
}

// company is the company's time zone in these tests: not the managers' (Moscow), so a
// period in the wrong zone shows.
var company = mustZone("Asia/Vladivostok")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, company) }

// reportWorld is a world whose bot draws reports through an askedReports.
func reportWorld(t *testing.T) (*world, *askedReports) {
	t.Helper()
	w := newWorld(t)
	rs := &askedReports{}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, Reports: rs,
		Calendar: store.DefaultWorkCalendar(company)})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	return w, rs
}

// picture is the reply with a picture in the last answer.
func (c *chat) picture() *bot.Reply {
	c.w.t.Helper()
	for i := range c.last {
		if c.last[i].Photo != nil {
			return &c.last[i]
		}
	}
	c.w.t.Fatalf("no picture in:\n%s", c.text())
	return nil
}

func wantAsk(t *testing.T, got bot.ReportAsk, want bot.ReportAsk) {
	t.Helper()
	if got.Name != want.Name || !got.From.Equal(want.From) || !got.To.Equal(want.To) || got.Own != want.Own || got.Lang != want.Lang {
		t.Fatalf("asked %+v\nwant  %+v", got, want)
	}
}

func TestHeadGetsAReportAsAPictureAndATable(t *testing.T) {
	w, rs := reportWorld(t)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	got := head.send("/report")
	head.expect(got, "Отчёты", "Какой отчёт")
	head.refuse(got, "Ваши клиенты")
	head.expect(strings.Join(head.buttons(), "|"), "Воронка=rp:funnel", "Менеджеры=rp:managers", "Источники=rp:sources", "ABC/XYZ=rp:abc",
		"Оплаты=rp:payments")

	head.expect(head.tap("Воронка"), "<b>Воронка</b>", "За какой период")
	head.expect(strings.Join(head.buttons(), "|"), "Эта неделя=", "Прошлая неделя=", "Этот месяц=", "Прошлый месяц=",
		"Этот квартал=", "📅 Свои даты=", "◀ Отчёты=rpm")
	head.tap("Этот месяц")
	// testNow is Monday 23 November, 19:00 in the company's zone: this month so far.
	ask, _ := rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "funnel", From: day(2026, 11, 1), To: day(2026, 11, 24), Lang: "ru"})
	pic := head.picture()
	if pic.Photo.Name != "funnel.png" || string(pic.Photo.PNG) != "\x89PNG chart of funnel" {
		t.Fatalf("picture %q %q", pic.Photo.Name, pic.Photo.PNG)
	}
	if want := "<b>funnel, 01.11.2026 – 23.11.2026</b>\nПереходов: 3 &lt;b&gt;&amp;\nКонверсия: 50%"; pic.Text != want {
		t.Fatalf("caption %q, want %q", pic.Text, want)
	}
	buttons := strings.Join(head.buttons(), "|")
	head.expect(buttons, "📊 Таблица (xlsx)=rpx:funnel:20261101:20261123", "🗓 Другой период=rp:funnel:n", "📊 Все отчёты=rpm:n")
	for _, b := range head.buttons() {
		if _, d, _ := strings.Cut(b, "="); len(d) > 64 {
			t.Fatalf("button data over Telegram's 64 bytes: %s", b)
		}
	}

	head.tap("Таблица (xlsx)")
	var doc *bot.Document
	for _, r := range head.last {
		if r.Document != nil {
			doc = r.Document
		}
	}
	if doc == nil || doc.Name != "funnel-2026-11-01_2026-11-23.xlsx" || doc.MIME != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		doc.FileID != "" || doc.Load == nil {
		t.Fatalf("the spreadsheet: %+v\n%s", doc, head.text())
	}
	if content, err := doc.Load(context.Background()); err != nil || string(content) != "PK workbook of funnel" {
		t.Fatalf("the spreadsheet's content: %q %v", content, err)
	}
	if xs := rs.sheets(); len(xs) != 1 {
		t.Fatalf("spreadsheets asked: %+v", xs)
	} else {
		wantAsk(t, xs[0], bot.ReportAsk{Name: "funnel", From: day(2026, 11, 1), To: day(2026, 11, 24), Lang: "ru"})
	}

	// Under the picture, another period and the menu come as new messages: a photo has
	// no text to edit.
	head.tapData("rp:funnel:n")
	if len(head.last) == 0 || head.last[len(head.last)-1].EditMessageID != 0 {
		t.Fatalf("the period menu under a picture edits it: %+v", head.last)
	}
	head.expect(head.text(), "За какой период")
	head.tapData("rpm:n")
	head.expect(head.text(), "Какой отчёт")
	head.tap("ABC/XYZ")
	head.tap("Этот квартал")
	ask, _ = rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "abc", From: day(2026, 10, 1), To: day(2026, 11, 24), Lang: "ru"})

	// An administrator in English.
	admin := w.manager("Admin", store.RoleAdmin, "en", "Europe/Moscow")
	admin.send("/report")
	admin.tap("Lead sources")
	admin.tap("Last week")
	ask, _ = rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "sources", From: day(2026, 11, 16), To: day(2026, 11, 23), Lang: "en"})
	admin.expect(strings.Join(admin.buttons(), "|"), "📊 Table (xlsx)=rpx:sources:20261116:20261122")
	admin.tapData("rpm:n")
	admin.tap("Payments")
	admin.tap("Last month")
	ask, _ = rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "payments", From: day(2026, 10, 1), To: day(2026, 11, 1), Lang: "en"})
	admin.expect(admin.send("/help"), "/report", "payments and overdue invoices")
}

func TestManagerGetsTheirOwnFiguresWhateverTheButtonSays(t *testing.T) {
	w, rs := reportWorld(t)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	anna.expect(anna.send("/report"), "Ваши клиенты и ваши цифры")
	anna.expect(anna.tap("Менеджеры"), "Ваши клиенты и ваши цифры")
	anna.tap("Прошлый месяц")
	ask, _ := rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "managers", From: day(2026, 10, 1), To: day(2026, 11, 1), Own: anna.m.ID, Lang: "ru"})
	anna.picture()

	// Forged taps: extra parts naming someone else, or everyone, change nothing.
	for _, d := range []string{"rpp:funnel:tw:" + head.m.ID, "rpp:funnel:tw::", "rpx:funnel:20261001:20261031:" + head.m.ID,
		"rpx:funnel:20261001:20261031:"} {
		anna.tapData(d)
	}
	for _, ask := range append(rs.reports[len(rs.reports)-2:], rs.sheets()...) {
		if ask.Own != anna.m.ID {
			t.Fatalf("a manager's forged tap asked %+v", ask)
		}
	}
	wantAsk(t, rs.reports[len(rs.reports)-1], bot.ReportAsk{Name: "funnel", From: day(2026, 11, 23), To: day(2026, 11, 24), Own: anna.m.ID, Lang: "ru"})

	// Buttons that are not ours are stale, and ask for nothing.
	_, n := rs.last()
	sheets := len(rs.sheets())
	for _, d := range []string{"rpp:sales:tm", "rpp:funnel:zz", "rp:../x", "rpx:funnel:2026:20261031", "rpx:sales:20261001:20261031",
		"rpx:funnel:20261031:20261001", "rpx:funnel:20200101:20261031"} {
		anna.expect(anna.tapData(d), "Эта кнопка устарела")
	}
	if _, m := rs.last(); m != n || len(rs.sheets()) != sheets {
		t.Fatalf("stale buttons asked for reports: %d -> %d, sheets %d -> %d", n, m, sheets, len(rs.sheets()))
	}

	// A head demoted since the picture was sent gets their own figures from its button.
	head.send("/report")
	head.tap("Воронка")
	head.tap("Эта неделя")
	if ask, _ := rs.last(); ask.Own != "" {
		t.Fatalf("a head's report: %+v", ask)
	}
	if _, err := w.st.UpdateManager(context.Background(), "test", head.m.ID, map[string]any{"role": store.RoleManager}); err != nil {
		t.Fatal(err)
	}
	head.tap("Таблица (xlsx)")
	if xs := rs.sheets(); xs[len(xs)-1].Own != head.m.ID {
		t.Fatalf("a demoted head's spreadsheet: %+v", xs[len(xs)-1])
	}
}

func TestCustomDatesAreReadOrRefused(t *testing.T) {
	w, rs := reportWorld(t)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/report")
	head.tap("Воронка")
	head.expect(head.tap("Свои даты"), "напишите период", "01.10.2026 – 31.10.2026")
	for _, c := range []struct{ text, want string }{
		{"вчера", "Не понял период «вчера»"},
		{"01.10.2026 – 31.10", "Не понял период"},
		{"31.02.2026 - 10.03.2026", "Не понял период"},
		{"2026-13-01 2026-13-05", "Не понял период"},
		{"01.10.2026 – 15.10.2026 – 31.10.2026", "Не понял период"},
		{"01.10.2026 и 31.10.2026", "Не понял период"},
		{"31.10.2026 – 01.10.2026", "Первый день позже последнего: 31.10.2026 – 01.10.2026"},
		{"01.01.2025 – 01.01.2026", "длиннее года"},
		{"<b>", "Не понял период «&lt;b&gt;»"},
	} {
		got := head.send(c.text)
		head.expect(got, c.want)
		head.refuse(got, "[picture]")
	}
	if _, n := rs.last(); n != 0 {
		t.Fatalf("bad dates asked for a report: %+v", rs.reports)
	}
	head.send("01.10.2026 – 31.10.2026")
	ask, _ := rs.last()
	wantAsk(t, ask, bot.ReportAsk{Name: "funnel", From: day(2026, 10, 1), To: day(2026, 11, 1), Lang: "ru"})
	head.picture()
	head.expect(strings.Join(head.buttons(), "|"), "rpx:funnel:20261001:20261031")
	// The dates were taken: a text is a search again.
	head.refuse(head.send("01.10.2026 – 31.10.2026"), "Не понял", "[picture]")
	if _, n := rs.last(); n != 1 {
		t.Fatalf("a report after the dialog ended: %d", n)
	}

	// The other spellings: ISO days, a year to the day, one day alone.
	for _, c := range []struct {
		text     string
		from, to time.Time
	}{
		{"2026-10-01 2026-10-31", day(2026, 10, 1), day(2026, 11, 1)},
		{"01.01.2025-31.12.2025", day(2025, 1, 1), day(2026, 1, 1)},
		{" 5.10.2026 ", day(2026, 10, 5), day(2026, 10, 6)},
	} {
		head.tapData("rpp:sources:cu")
		head.send(c.text)
		ask, _ := rs.last()
		wantAsk(t, ask, bot.ReportAsk{Name: "sources", From: c.from, To: c.to, Lang: "ru"})
	}

	// /cancel, another command or another button leaves the dates unasked.
	_, n := rs.last()
	head.tapData("rpp:funnel:cu")
	head.expect(head.send("/cancel"), "Отменено")
	head.tapData("rpp:funnel:cu")
	head.expect(head.send("/today"), "Предыдущий диалог закрыт")
	head.tapData("rpp:funnel:cu")
	head.tap("Отмена")
	head.tapData("rpp:funnel:cu")
	head.tapData("rpm")
	for _, text := range []string{"01.10.2026 – 31.10.2026"} {
		head.refuse(head.send(text), "[picture]", "Не понял")
	}
	if _, m := rs.last(); m != n {
		t.Fatalf("a report after leaving the dates: %d -> %d", n, m)
	}
}

func TestEmptyOrFailedReportSaysSoWithoutAPicture(t *testing.T) {
	w, rs := reportWorld(t)
	rs.view = func(ask bot.ReportAsk) (bot.ReportView, error) {
		if ask.Name == "abc" {
			return bot.ReportView{}, errors.New("the base is away")
		}
		return bot.ReportView{Title: "Источники, 01.11.2026 – 23.11.2026", Empty: true, NoData: "Нет данных <за период>"}, nil
	}
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/report")
	head.tap("Источники")
	got := head.tap("Этот месяц")
	head.expect(got, "<b>Источники, 01.11.2026 – 23.11.2026</b>\nНет данных &lt;за период&gt;")
	head.refuse(got, "[picture]", "Таблица")
	head.refuse(strings.Join(head.buttons(), "|"), "rpx:")
	head.expect(strings.Join(head.buttons(), "|"), "Другой период")

	head.tapData("rp:abc:n")
	got = head.tap("Этот месяц")
	head.expect(got, "Не получилось построить отчёт")
	head.refuse(got, "[picture]", "the base is away")
}

func TestNoReportsWithoutThem(t *testing.T) {
	w := newWorld(t)
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.expect(head.send("/report"), "Не знаю команду /report")
	head.expect(head.tapData("rpp:funnel:tm"), "Эта кнопка устарела")
	head.expect(head.tapData("rpx:funnel:20261001:20261031"), "Эта кнопка устарела")
	head.refuse(head.send("/help"), "/report")
	for _, c := range w.bot.Commands("ru") {
		if c.Name == "report" {
			t.Fatal("/report in the menu without reports")
		}
	}
	rw, _ := reportWorld(t)
	var names []string
	for _, c := range rw.bot.Commands("en") {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, "report") {
		t.Fatalf("/report not in the menu: %v", names)
	}
}

// A report may take a while on a large base: the tap is answered first, with a pop-up,
// so the button stops spinning, and the reply does not answer it a second time.
func TestReportTapIsAnsweredBeforeTheReportIsBuilt(t *testing.T) {
	w := newWorld(t)
	out := &outbox{}
	rs := &askedReports{}
	rs.view = func(ask bot.ReportAsk) (bot.ReportView, error) {
		if len(out.sent) != 1 || out.sent[0].CallbackID == "" || out.sent[0].Notice != "Строю отчёт…" || out.sent[0].Text != "" {
			t.Errorf("when the report is built, the outbox has %+v", out.sent)
		}
		return bot.ReportView{Title: "Воронка", Summary: []string{"Переходов: 3"}, PNG: []byte("\x89PNG")}, nil
	}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, Reports: rs, Outbox: out,
		Calendar: store.DefaultWorkCalendar(company)})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	head.send("/report")
	head.tap("Воронка")
	out.sent = nil
	head.tap("Прошлый месяц")
	if _, n := rs.last(); n != 1 {
		t.Fatalf("%d reports built", n)
	}
	for _, r := range head.last {
		if r.CallbackID != "" || r.Notice != "" {
			t.Fatalf("the tap answered again: %+v", r)
		}
	}
	head.picture()

	out.sent = nil
	rs.view = nil
	head.tap("Таблица (xlsx)")
	if len(out.sent) != 1 || out.sent[0].Notice != "Строю отчёт…" {
		t.Fatalf("spreadsheet tap answered with %+v", out.sent)
	}
}
