package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store/storetest"
)

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// readyzWhen polls /readyz until its body matches re, and returns its status and body.
func readyzWhen(t *testing.T, addr string, re *regexp.Regexp) (int, string) {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(b)
			if re.MatchString(body) {
				return code, body
			}
		}
	}
	t.Fatalf("/readyz never matched %q; last: %d %q", re, code, body)
	return 0, ""
}

// serveWhileBotAPIDown runs crm serve with settings (name, value pairs), a fresh data
// directory and a bot whose Bot API answers every call with status until tg.Recover;
// Анна (Telegram user 7) is an admin.
func serveWhileBotAPIDown(t *testing.T, status int, settings ...string) (tg *tgtest.Server, log func() string) {
	t.Helper()
	tg = tgtest.New(t)
	tg.Unavailable(status)
	vars := withSettings(map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_TELEGRAM_TOKEN": tgtest.Token,
		"CRM_TELEGRAM_API_URL": tg.URL()}, settings...)
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Анна", "--role", "admin", "--telegram-id", "7"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	return tg, serveInBackground(t, vars)
}

// crm serve starts while the Bot API cannot be reached: health, readiness and the
// unsubscribe page work, and the bot joins without a restart once the API is back.
func TestServeStartsWhileTheBotAPIIsDown(t *testing.T) {
	addr := freeAddr(t)
	const secret = "0123456789abcdef-secret"
	tg, log := serveWhileBotAPIDown(t, http.StatusBadGateway, "CRM_HTTP_ADDR", addr,
		"CRM_PUBLIC_URL", "http://"+addr, "CRM_UNSUBSCRIBE_SECRET", secret)

	code, body := readyzWhen(t, addr, regexp.MustCompile(`telegram bot: not ready — cannot reach the Bot API, retrying \(next try in \d+s\)`))
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready\n") || !strings.Contains(body, "database: ok\n") ||
		!strings.Contains(body, "scheduler: ok\n") || !strings.Contains(body, "mailboxes: off") {
		t.Fatalf("readyz while the Bot API is down: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	unsub, err := campaign.NewUnsubscriber(nil, secret, "http://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	// The page is served; a link of nobody in the base says it is not valid.
	if code, page := get(t, unsub.Link("camp", "client", "contact")); code != http.StatusNotFound || !strings.Contains(page, "Ссылка недействительна") {
		t.Fatalf("unsubscribe page: %d %q", code, page)
	}
	if !strings.Contains(log(), "Telegram bot: cannot reach the Bot API") {
		t.Fatalf("the log does not say the Bot API is unreachable:\n%s", log())
	}

	tg.Recover()
	waitReady(t, addr)
	if _, body := get(t, "http://"+addr+"/readyz"); !strings.Contains(body, "telegram bot: ok (@"+tgtest.BotUsername+", long polling)\n") {
		t.Fatalf("readyz once connected: %q", body)
	}
	tg.SendText(7, "/today")
	if got := tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "Сегодня") {
		t.Fatalf("/today: %q", got.Text)
	}
}

// A token Telegram refuses is told apart from an unreachable API, and tried again at
// the longest wait only.
func TestServeWithATokenTelegramRefuses(t *testing.T) {
	tg := tgtest.New(t)
	tg.RequireToken(tgtest.Token)
	addr := freeAddr(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": addr,
		"CRM_TELEGRAM_TOKEN": "123456:WRONG-token", "CRM_TELEGRAM_API_URL": tg.URL()}
	log := serveInBackground(t, vars)

	code, body := readyzWhen(t, addr, regexp.MustCompile(`telegram bot: not ready — Telegram rejected the bot token \(401; check CRM_TELEGRAM_TOKEN\), retrying \(next try in [45]m`))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database: ok\n") {
		t.Fatalf("readyz with a wrong token: %d %q", code, body)
	}
	if l := log(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "Telegram bot: Telegram rejected the bot token") ||
		strings.Contains(l, "WRONG-token") {
		t.Fatalf("the log:\n%s", l)
	}
	if n := tg.Failures(); n != 1 {
		t.Fatalf("%d calls with the refused token, want 1", n)
	}
}

// /readyz says the database does not answer in plain words; the driver's error goes to
// the log only.
func TestReadyzKeepsTheDriversErrorInTheLog(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var logged bytes.Buffer
	ready := &readiness{}
	ready.add("database", databaseReady(s, slog.New(slog.NewTextHandler(&logged, nil))))
	ready.add("telegram bot", off("set CRM_TELEGRAM_TOKEN to run it"))
	h := healthHandler(ready)
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := readyz(); code != http.StatusOK || body != "ready\ndatabase: ok\ntelegram bot: off (set CRM_TELEGRAM_TOKEN to run it)\n" {
		t.Fatalf("readyz: %d %q", code, body)
	}

	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	perr := s.Ping(ctx)
	driver := errors.Unwrap(perr)
	if driver == nil {
		t.Fatalf("ping of a closed store: %v", perr)
	}
	code, body := readyz()
	if code != http.StatusServiceUnavailable || body != "not ready\ndatabase: not ready — the database does not answer (crm's log says why)\n"+
		"telegram bot: off (set CRM_TELEGRAM_TOKEN to run it)\n" {
		t.Fatalf("readyz on a closed store: %d %q", code, body)
	}
	if !strings.Contains(logged.String(), driver.Error()) {
		t.Fatalf("the driver's error %q is not in the log:\n%s", driver, logged.String())
	}
}

// With a webhook, the handler is mounted once the bot connects, and Telegram's calls
// then reach the bot.
func TestServeMountsTheWebhookOnceConnected(t *testing.T) {
	addr := freeAddr(t)
	const secret = "0123456789abcdef"
	tg, _ := serveWhileBotAPIDown(t, http.StatusServiceUnavailable, "CRM_HTTP_ADDR", addr,
		"CRM_TELEGRAM_WEBHOOK_URL", "https://crm.example/tg/hook", "CRM_TELEGRAM_WEBHOOK_SECRET", secret,
		"CRM_PUBLIC_URL", "https://crm.example", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef0123")
	readyzWhen(t, addr, regexp.MustCompile(`telegram bot: not ready — cannot reach the Bot API`))
	post := func() int {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,`+
			`"chat":{"id":7,"type":"private"},"from":{"id":7,"first_name":"Анна","language_code":"ru"},"text":"/today",`+
			`"entities":[{"type":"bot_command","offset":0,"length":6}]}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code == http.StatusOK {
		t.Fatal("an update was taken before the bot could answer it")
	}

	tg.Recover()
	if _, body := readyzWhen(t, addr, regexp.MustCompile(`(?m)^ready$`)); !strings.Contains(body, "telegram bot: ok (@"+tgtest.BotUsername+", webhook)") {
		t.Fatalf("readyz: %q", body)
	}
	if !tg.Await(20*time.Second, func() bool { u, _ := tg.Webhook(); return u == "https://crm.example/tg/hook" }) {
		t.Fatal("the webhook was never set")
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("webhook call: %d", code)
	}
	// An https public address makes the menu button open the web workspace.
	if !tg.Await(20*time.Second, func() bool { return tg.Count("setChatMenuButton") == 1 }) {
		t.Fatal("the menu button was never set")
	}
	for _, c := range tg.Calls() {
		if c.Method == "setChatMenuButton" && c.URL != "https://crm.example/app/" {
			t.Errorf("menu button opens %q", c.URL)
		}
	}
	if got := tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "Сегодня") {
		t.Fatalf("/today: %q", got.Text)
	}
}
