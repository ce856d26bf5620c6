package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/mail/imaptest"
	"github.com/crm-team/crm/mail/smtptest"
)

// scrape reads /metrics: each series ("name{labels}") with its value, and the
// families announced by # TYPE.
func scrape(t *testing.T, addr string) (series map[string]float64, families map[string]bool) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s %q\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	series, families = map[string]float64{}, map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(f)[0]] = true
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	return series, families
}

// crm serve with the bot, a mailbox and a campaign sending exports every family on
// its HTTP listener, and the counters move with what happens.
func TestServeExportsMetrics(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, shopRows(20))
	smtp := smtptest.Start(t)
	smtp.Refuse("c3@shop.ru", 450) // deferred: the campaign runs on, waiting to try again
	box := imaptest.NewServer(t)
	box.AddLetters("INBOX", [][]byte{[]byte("Message-ID: <m1@x.ru>\r\nFrom: stranger@unknown.org\r\nTo: sales@company.ru\r\n" +
		"Subject: hello\r\nDate: Mon, 12 Jan 2026 10:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nПисьмо.\r\n")})
	tg := tgtest.New(t)
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(smtp.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru",
		"CRM_IMAP_HOST", box.Host(), "CRM_IMAP_PORT", strconv.Itoa(box.Port()), "CRM_IMAP_SECURITY", "none",
		"CRM_IMAP_USER", imaptest.User, "CRM_IMAP_PASSWORD", imaptest.Password, "CRM_MAIL_OWN_DOMAINS", "company.ru",
		"CRM_TELEGRAM_TOKEN", tgtest.Token, "CRM_TELEGRAM_API_URL", tg.URL(), "CRM_HTTP_ADDR", freeAddr(t))
	r, id := createCampaign(t, vars, "--name", "Весна", "--subject", "Для {{.Client.Name}}", "--text-file",
		campaignFile(t, "{{.Contact.Name}}, {{.UnsubscribeURL}}"))
	wantRun(t, "create", r, 0, "recipients now: 20")
	wantRun(t, "start", runCRM(ctx, t, vars, "campaign", "start", id), 0, "preparing")

	serveLog := serveInBackground(t, vars)
	waitReady(t, vars["CRM_HTTP_ADDR"])
	if !tg.Await(20*time.Second, func() bool { return tg.Count("setMyCommands") > 0 }) {
		t.Fatal("the bot never connected")
	}
	tg.SendText(7, "/start")
	if got := tg.Next(7, 20*time.Second); got.Text == "" {
		t.Fatal("the bot did not answer")
	}

	addr := vars["CRM_HTTP_ADDR"]
	moved := map[string]func(float64) bool{
		`crm_telegram_updates_total`:                             func(v float64) bool { return v >= 1 },
		`crm_telegram_sent_total`:                                func(v float64) bool { return v >= 1 },
		`crm_mail_letters_read_total{mailbox="mailbox"}`:         func(v float64) bool { return v == 1 },
		`crm_mail_letters_stored_total{mailbox="mailbox"}`:       func(v float64) bool { return v == 1 },
		`crm_mail_letters_unsorted_total{mailbox="mailbox"}`:     func(v float64) bool { return v == 1 },
		`crm_mail_send_total{kind="campaign",result="sent"}`:     func(v float64) bool { return v >= 1 },
		`crm_campaign_letters{campaign="Весна",state="sent"}`:    func(v float64) bool { return v >= 1 },
		`crm_campaign_letters_left{campaign="Весна"}`:            func(v float64) bool { return v >= 1 },
		`crm_directory_clients`:                                  func(v float64) bool { return v == 20 },
		`crm_db_command_seconds_count{command="find"}`:           func(v float64) bool { return v >= 1 },
		`crm_mail_send_total{kind="greeting",result="deferred"}`: func(v float64) bool { return v == 0 },
		`crm_telegram_update_seconds_count`:                      func(v float64) bool { return v >= 1 },
		`crm_mail_poll_lag_seconds{mailbox="mailbox"}`:           func(v float64) bool { return v >= 0 },
		`crm_reminders_sent_total`:                               func(v float64) bool { return v == 0 },
		`crm_telegram_rate_limited_total`:                        func(v float64) bool { return v == 0 },
		`crm_directory_loading`:                                  func(v float64) bool { return v == 0 },
	}
	var series map[string]float64
	var families map[string]bool
	var missing []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		series, families = scrape(t, addr)
		missing = missing[:0]
		for s, ok := range moved {
			if v, found := series[s]; !found || !ok(v) {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			break
		}
	}
	if len(missing) > 0 {
		got := map[string]float64{}
		for _, s := range missing {
			got[s] = series[s]
		}
		t.Errorf("series not (yet) as expected: %v\ncrm serve's log:\n%s", got, serveLog())
		t.Logf("smtp %d; status %+v", smtp.Count(), runCRM(ctx, t, vars, "campaign", "status", id))
	}
	for _, f := range []string{"crm_telegram_updates_total", "crm_telegram_update_seconds", "crm_telegram_sent_total",
		"crm_telegram_rate_limited_total", "crm_telegram_retries_total", "crm_telegram_failed_total",
		"crm_mail_letters_read_total", "crm_mail_letters_stored_total", "crm_mail_letters_unsorted_total",
		"crm_mail_poll_lag_seconds", "crm_mail_send_total", "crm_campaign_letters", "crm_campaign_letters_left",
		"crm_reminders_sent_total", "crm_reminder_lateness_seconds", "crm_directory_clients", "crm_directory_lag_seconds",
		"crm_directory_loading", "crm_db_command_seconds", "go_goroutines", "go_memstats_heap_alloc_bytes",
		"process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if !families[f] {
			t.Errorf("/metrics has no %s", f)
		}
	}
}
