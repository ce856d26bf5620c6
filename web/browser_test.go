package web_test

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
	"github.com/crm-team/crm/web"
)

// skipBrowserEnv, set to 1, lets a developer without Chromium skip the browser tests;
// anywhere else (CI) a missing Chromium fails them.
const skipBrowserEnv = "CRM_SKIP_BROWSER"

// chromium finds Debian's Chromium (or another Chrome) to drive.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(skipBrowserEnv) == "1" {
		t.Skip("no Chromium, and " + skipBrowserEnv + "=1")
	}
	t.Fatal("the browser tests need Chromium: apt-get install chromium (.ci/run does), or set " + skipBrowserEnv + "=1 to skip them locally")
	return ""
}

// liveSite is the workspace on a real listener, for a real browser.
func liveSite(t *testing.T, with ...siteOption) (*site, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	clock := storetest.NewClock(testNow)
	st := storetest.OnClock(t, clock)
	opts := web.Options{PublicURL: base, BotToken: testToken, Now: clock.Now}
	for _, f := range with {
		f(st, &opts)
	}
	h, err := web.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &site{t: t, st: st, clock: clock, h: h}, base
}

// browse starts a headless Chromium at a phone's width (the Mini App's).
func browse(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(390, 844))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	// A bound for a browser that hangs, not a measure of speed.
	ctx, cancelAll := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelAll)
	return ctx
}

// shot saves a screenshot under CRM_BROWSER_SHOTS, when set, to look at the pages.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CRM_BROWSER_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// signInWith opens a sign-in link, presses its button and waits for the clients.
func signInWith(ctx context.Context, link string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("signin-button")),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("client-filters")),
	)
}

// A manager asks the bot for a link, opens it in Chromium, signs in, finds a client
// by typing part of its name and opens its card.
func TestBrowserSignInAndFindAClient(t *testing.T) {
	s, _ := liveSite(t)
	anna := s.manager("Anna", store.RoleManager, 701)
	s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, City: "Москва", Stage: store.StageGreen})
	s.client(&store.Client{Name: "Лютик", ManagerID: anna.ID, City: "Тверь", Stage: store.StageGrey})
	if err := s.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(s.st, bot.Options{Texts: templates.FS, Web: s.h, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	replies := b.Handle(context.Background(), bot.Update{ChatID: 701, User: bot.User{ID: 701}, Text: "/web"})
	link := ""
	if len(replies) == 1 {
		_, after, _ := strings.Cut(replies[0].Text, "http://")
		link = "http://" + strings.Fields(after)[0]
	}

	ctx := browse(t)
	err = signInWith(ctx, link)
	if err != nil {
		t.Fatalf("sign in with %q: %v", link, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "Клиенты") && !strings.Contains(title, "Clients") {
		t.Fatalf("after signing in the page is %q", title)
	}
	shot(t, ctx, "clients")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("q"), "ромаш"),
		// The filters answer as one types: Лютик leaves the table.
		chromedp.WaitNotPresent(chromedp.Search(`//a[text()="Лютик"]`)),
		chromedp.WaitVisible(chromedp.Search(`//a[text()="Ромашка"]`)),
	)
	if err != nil {
		t.Fatalf("find a client: %v", err)
	}
	shot(t, ctx, "found")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[text()="Ромашка"]`)),
		chromedp.WaitVisible(chromedp.ID("client-name")),
	)
	if err != nil {
		t.Fatalf("open the card: %v", err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("client-name")))
	if err != nil || name != "Ромашка" {
		t.Fatalf("open the card: %q %v", name, err)
	}
	shot(t, ctx, "card")
}

// Telegram opens the Mini App with its signed init data in the address's fragment:
// the page's script signs the manager in with it and shows the clients.
func TestBrowserMiniAppSignsIn(t *testing.T) {
	s, base := liveSite(t)
	anna := s.manager("Anna", store.RoleManager, 702)
	s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, City: "Москва"})
	if err := s.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	launch := base + "/app/#tgWebAppData=" + url.QueryEscape(initData(testToken, 702, testNow)) + "&tgWebAppVersion=8.0"
	ctx := browse(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(launch), chromedp.WaitVisible(chromedp.Search(`//a[text()="Ромашка"]`))); err != nil {
		t.Fatalf("the Mini App: %v", err)
	}
	// Forged data leaves the page saying why, signed in as nobody.
	forged := base + "/app/#tgWebAppData=" + url.QueryEscape(initData("1:forged", 702, testNow))
	ctx = browse(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(forged), chromedp.WaitVisible(chromedp.CSS("#signin-tg.warn"))); err != nil {
		t.Fatalf("forged data: %v", err)
	}
	why, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("signin-tg")))
	if err != nil || !strings.Contains(why, "подпись") && !strings.Contains(why, "signature") {
		t.Fatalf("forged data says %q (%v)", why, err)
	}
}

// A head signs in, opens a report, changes its period in the picker and sees the
// chart of the new period load.
func TestBrowserHeadReportsChart(t *testing.T) {
	s, _ := liveSite(t)
	tm := seedReports(t, s)
	link, err := s.h.SignInLink(context.Background(), tm.head.ID)
	if err != nil {
		t.Fatal(err)
	}
	// chartWidth waits for the chart to load (the browser's own bound ends a hang) and
	// says how wide the browser found it.
	chartWidth := func(ctx context.Context) int {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Poll[int](`(function(){var i=document.getElementById("chart");`+
			`return i && i.complete ? i.naturalWidth : 0})()`))
		if err != nil {
			t.Fatalf("the chart: %v", err)
		}
		return w
	}
	ctx := browse(t)
	if err := signInWith(ctx, link); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//nav[@class="nav"]/a[@href="/app/reports"]`)),
		chromedp.WaitVisible(chromedp.ID("report-period")),
		chromedp.Click(chromedp.Search(`//nav[@class="tabs"]/a[contains(@href, "/app/reports/managers")]`)),
		chromedp.WaitVisible(chromedp.ID("chart")),
	)
	if err != nil {
		t.Fatalf("open the managers' report: %v", err)
	}
	if w := chartWidth(ctx); w <= 0 {
		t.Fatalf("this month's chart is %d pixels wide", w)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("report-title")))
	if err != nil || !strings.Contains(title, "2026-12-01") {
		t.Fatalf("this month's title: %q %v", title, err)
	}
	shot(t, ctx, "report-month")
	// Last month: choosing it in the list shows it (the page's script submits it on
	// the change event, which SetValue fires as a person's choice does).
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("period"), "lm"),
		chromedp.WaitVisible(chromedp.Search(`//h2[@id="report-title"][contains(., "2026-11-01")]`)),
	)
	if err != nil {
		t.Fatalf("change the period: %v", err)
	}
	if w := chartWidth(ctx); w <= 0 {
		t.Fatalf("last month's chart is %d pixels wide", w)
	}
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("chart"), "src"))
	if err != nil || !strings.Contains(src.Value, "period=lm") {
		t.Fatalf("the chart's address: %q %v", src.Value, err)
	}
	shot(t, ctx, "report-lastmonth")
}
