package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/smtptest"
)

// campaignBase makes a base with a head (Ольга), a manager (Пётр) and clients
// imported from CSV; it returns the settings that reach it.
func campaignBase(t *testing.T, rows string) map[string]string {
	t.Helper()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	for _, m := range [][]string{{"Ольга", "head"}, {"Пётр", "manager"}} {
		if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", m[0], "--role", m[1]); r.code != 0 {
			t.Fatalf("manager add: %+v", r)
		}
	}
	csv := filepath.Join(t.TempDir(), "clients.csv")
	if err := os.WriteFile(csv, []byte("name;city;manager;contact_name;contact_email;consent\n"+rows), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCRM(context.Background(), t, vars, "import", csv); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	return vars
}

// withSettings returns vars with more settings.
func withSettings(vars map[string]string, more ...string) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		out[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i]] = more[i+1]
	}
	return out
}

var campaignSavedID = regexp.MustCompile(`saved, id (\S+)`)

// createCampaign runs crm campaign create and returns its result and the draft's ID.
func createCampaign(t *testing.T, vars map[string]string, args ...string) (runResult, string) {
	t.Helper()
	r := runCRM(context.Background(), t, vars, append([]string{"campaign", "create"}, args...)...)
	m := campaignSavedID.FindStringSubmatch(r.stdout)
	if m == nil {
		return r, ""
	}
	return r, m[1]
}

func wantRun(t *testing.T, what string, r runResult, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d: %+v", what, r.code, code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Fatalf("%s: no %q in\n%s\n%s", what, w, r.stdout, r.stderr)
		}
	}
}

const autumnSubject = "{{.Contact.FirstName}}, скидки для {{.Client.Name}}"

func TestCampaignCommands(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;Иванова Анна Сергеевна;anna@romashka.ru;да\n"+
		"Лютик;Казань;Пётр;Pavel;pavel@lutik.ru;да\n"+
		"Василёк;Москва;Ольга;Без Согласия;no@vasilek.ru;нет\n")
	secret := withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret")

	r, id := createCampaign(t, vars, "--name", "Осень", "--subject", autumnSubject,
		"--text", "Здравствуйте, {{.Contact.FirstName}}!\nОтписаться: {{.UnsubscribeURL}}\n{{.Manager.Signature}}",
		"--city", "Москва", "--city", "Тверь", "--manager", "ольга", "--as", "Ольга")
	wantRun(t, "create", r, 0, "recipients now: 1", "CRM_UNSUBSCRIBE_SECRET")
	if id == "" {
		t.Fatalf("create printed no ID: %+v", r)
	}
	wantRun(t, "list", runCRM(ctx, t, vars, "campaign", "list"), 0, id, "Осень", "draft", "now")
	r = runCRM(ctx, t, vars, "campaign", "preview", id)
	wantRun(t, "preview", r, 0, "Subject: Анна Сергеевна, скидки для Ромашка", "To: Иванова Анна Сергеевна <anna@romashka.ru>",
		"Здравствуйте, Анна Сергеевна!", "Ольга")
	// A chosen contact who gets no mailings is shown, and said so.
	r = runCRM(ctx, t, vars, "campaign", "preview", id, "--client", "Василёк")
	wantRun(t, "preview for a client", r, 0, "Subject: Без Согласия, скидки для Василёк", "no consent")

	// Starting needs signed unsubscribe links; the refusal names the settings.
	r = runCRM(ctx, t, vars, "campaign", "start", id)
	wantRun(t, "start without a secret", r, 1, "CRM_UNSUBSCRIBE_SECRET", "CRM_PUBLIC_URL")
	wantRun(t, "list after a refused start", runCRM(ctx, t, vars, "campaign", "list"), 0, "draft")

	// A misspelt field: the draft is kept, and create and start say where the problem is.
	r, typo := createCampaign(t, vars, "--name", "Опечатка", "--subject", "Новости", "--text", "Здравствуйте!\n{{.Contact.Nmae}}")
	wantRun(t, "create with a typo", r, 1, "Nmae", ":2:", "crm campaign edit "+typo)
	r = runCRM(ctx, t, secret, "campaign", "start", typo)
	wantRun(t, "start with a typo", r, 1, "not started", "Nmae", ":2:")
	wantRun(t, "status after a refused start", runCRM(ctx, t, vars, "campaign", "status", typo), 0, "state: draft", "not run yet")
	// Correcting the draft by its ID.
	r, again := createCampaign(t, vars, "--id", typo, "--name", "Опечатка", "--subject", "Новости", "--text", "{{.Contact.Name}}",
		"--segment-file", campaignFile(t, `{"any":[{"cities":["Казань"]},{"managers":["Ольга"]}]}`))
	wantRun(t, "create --id", r, 0, "recipients now: 2")
	if again != typo {
		t.Fatalf("create --id made a new campaign: %s, not %s", again, typo)
	}

	// Only heads and admins start campaigns.
	r = runCRM(ctx, t, secret, "campaign", "start", id, "--as", "Пётр")
	wantRun(t, "start as a manager", r, 1, "Пётр is a manager", "heads and admins")

	r = runCRM(ctx, t, secret, "campaign", "start", id, "--as", "Ольга")
	wantRun(t, "start", r, 0, "preparing", "each batch goes out as soon as it is queued")
	wantRun(t, "start again", runCRM(ctx, t, secret, "campaign", "start", id), 1, "only a draft starts")
	wantRun(t, "create --id of a running campaign", func() runResult {
		r, _ := createCampaign(t, vars, "--id", id, "--name", "Осень", "--subject", "S", "--text", "T")
		return r
	}(), 1, "only a draft can be changed")
	wantRun(t, "pause", runCRM(ctx, t, vars, "campaign", "pause", id, "--as", "Ольга"), 0, "paused")
	wantRun(t, "status paused", runCRM(ctx, t, vars, "campaign", "status", id), 0, "state: paused", "paused by Ольга")
	// Nothing was queued yet (no crm serve runs): it goes on preparing.
	wantRun(t, "resume", runCRM(ctx, t, vars, "campaign", "resume", id), 0, "preparing")
	wantRun(t, "resume again", runCRM(ctx, t, vars, "campaign", "resume", id), 1, "not resumed", "is preparing")
	wantRun(t, "status", runCRM(ctx, t, vars, "campaign", "status", id), 0,
		"state: preparing", "recipients queued: 0 so far (the segment is still being read)\n", "sent: 0", "failed: 0", "queued (waiting): 0")

	// A test letter goes to the address given, rendered for the first recipient.
	wantRun(t, "test without SMTP", runCRM(ctx, t, vars, "campaign", "test", id, "--to", "me@company.ru"), 1, "CRM_SMTP_HOST")
	srv := smtptest.Start(t)
	smtp := withSettings(secret, "CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(srv.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru")
	wantRun(t, "test", runCRM(ctx, t, smtp, "campaign", "test", id, "--to", "me@company.ru"), 0, "sent to me@company.ru")
	got := srv.To("me@company.ru")
	if len(got) != 1 || got[0].Header("Subject") != "[test] Анна Сергеевна, скидки для Ромашка" || srv.Count() != 1 ||
		!strings.HasPrefix(got[0].Header("List-Unsubscribe"), "<https://crm.test/unsubscribe/") {
		t.Fatalf("test letter: %d received, %+v", srv.Count(), got)
	}

	// Bad usage exits 2 and says how; an unknown ID is one clear line.
	for _, args := range [][]string{{"campaign"}, {"campaign", "frobnicate"}, {"campaign", "start"},
		{"campaign", "create", "--name", "X", "--text", "T"}, {"campaign", "create", "--name", "X", "--subject", "S"},
		{"campaign", "create", "--name", "X", "--subject", "S", "--text", "T", "--stage", "blue"},
		{"campaign", "create", "--name", "X", "--subject", "S", "--text", "T", "--has-orders", "maybe"},
		{"campaign", "create", "--name", "X", "--subject", "S", "--text", "T", "--class", "AQ"},
		{"campaign", "create", "--name", "X", "--subject", "S", "--text", "T", "--city", "A", "--segment-file", "s.json"},
		{"campaign", "test", id}, {"campaign", "preview", id, "--contact", "c1"}} {
		if r := runCRM(ctx, t, vars, args...); r.code != 2 || !strings.Contains(r.stderr, "crm campaign") {
			t.Errorf("%q: %+v", args, r)
		}
	}
	wantRun(t, "unknown ID", runCRM(ctx, t, vars, "campaign", "status", "nope"), 1, `no campaign "nope"`)
	wantRun(t, "bad schedule", func() runResult {
		r, _ := createCampaign(t, vars, "--name", "X", "--subject", "S", "--text", "T", "--schedule", "2001-01-01 10:00")
		return r
	}(), 1, "in the past")
	wantRun(t, "list", runCRM(ctx, t, vars, "campaign", "list"), 0, "Осень", "Опечатка")
	if r := runCRM(ctx, t, vars, "campaign", "list"); strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("a refused create saved something:\n%s", r.stdout)
	}
}

func campaignFile(t *testing.T, json string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "segment.json")
	if err := os.WriteFile(f, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Package campaign says what is wrong with the unsubscribe links' settings; the
// binary names them.
func TestUnsubscribeSettingsAreNamed(t *testing.T) {
	for _, cfg := range []Config{{PublicURL: "https://crm.test", UnsubscribeSecret: "short"},
		{PublicURL: "crm.test", UnsubscribeSecret: "0123456789abcdef-secret"}} {
		_, err := newUnsubscriber(&env{cfg: cfg}, nil)
		if err == nil || !strings.Contains(err.Error(), "CRM_UNSUBSCRIBE_SECRET") || !strings.Contains(err.Error(), "CRM_PUBLIC_URL") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// A campaign started from the command line is sent by crm serve, and its status
// counts what happened to each letter, the cut one included.
func TestServeSendsACampaignStartedFromTheCLI(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "Ромашка;Москва;Ольга;Анна;anna@romashka.ru;да\n"+
		"Лютик;Москва;Пётр;Pavel;pavel@lutik.ru;да\n"+
		"Василёк;Москва;;Вера;vera@vasilek.ru;да\n")
	srv := smtptest.Start(t)
	srv.Refuse("pavel@lutik.ru", 550)
	srv.CutDuringData("vera@vasilek.ru")
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(srv.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru", "CRM_HTTP_ADDR", freeAddr(t))
	r, id := createCampaign(t, vars, "--name", "Весна", "--subject", "Для {{.Client.Name}}", "--text-file",
		campaignFile(t, "{{.Contact.Name}}, {{.UnsubscribeURL}}"), "--sender", "Продажи <sales@company.ru>")
	wantRun(t, "create", r, 0, "recipients now: 3", "ready: crm campaign start "+id)
	wantRun(t, "start", runCRM(ctx, t, vars, "campaign", "start", id), 0, "preparing")

	startServe(t, vars)
	r = waitStatus(t, vars, id, "state: done")
	wantRun(t, "status", r, 0, "state: done", "recipients queued: 3\n", "sent: 1",
		"failed: 1\n  1 × sending SMTP RCPT TO command: 550 5.1.1 refused by the test\n", "queued (waiting): 0",
		"cut: 1 (the connection broke during sending")
	if got := srv.To("anna@romashka.ru"); len(got) != 1 || got[0].Header("Subject") != "Для Ромашка" ||
		got[0].Header("From") != "Продажи <sales@company.ru>" {
		t.Fatalf("the letter: %+v", got)
	}
}

// crm serve killed (SIGKILL) in the middle of a campaign: the instance started next
// takes its batch over and sends the rest; nobody gets two letters, and what the
// dead process left "sending" is reported as cut, not lost and not sent again.
func TestServeKilledMidCampaignSendsNobodyTwice(t *testing.T) {
	ctx := context.Background()
	const n = 300
	vars := campaignBase(t, shopRows(n))
	srv := smtptest.Start(t)
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(srv.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru", "CRM_SMTP_CONNS", "2", "CRM_SMTP_RATE", "60",
		"CRM_CAMPAIGN_TAKEOVER", "5s", "CRM_HTTP_ADDR", freeAddr(t))
	r, id := createCampaign(t, vars, "--name", "Зима", "--subject", "Для {{.Client.Name}}", "--text-file",
		campaignFile(t, "{{.Contact.Name}}, {{.UnsubscribeURL}}"))
	wantRun(t, "create", r, 0, fmt.Sprintf("recipients now: %d", n))
	wantRun(t, "start", runCRM(ctx, t, vars, "campaign", "start", id), 0, "preparing")

	serve := startServeProcess(t, vars)
	for deadline := time.Now().Add(30 * time.Second); srv.Count() < 60 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = serve.Wait()
	killedAt := srv.Count()
	if killedAt < 60 || killedAt >= n {
		t.Fatalf("%d letters had gone when crm serve was killed", killedAt)
	}

	startServe(t, vars)
	r = waitStatus(t, vars, id, "state: done")
	wantRun(t, "status", r, 0, "state: done", "failed: 0", "queued (waiting): 0")
	sent, cut := statusCount(r.stdout, "sent"), statusCount(r.stdout, "cut")
	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if got[to]++; got[to] > 1 {
				t.Errorf("%s got two letters", to)
			}
		}
	}
	// At most the two groups marked before the kill are cut (8 a connection, at least
	// 64 a group), and the end of the group before them still in the pipeline (a
	// message a core rendering, and two a connection); each may or may not have
	// arrived.
	t.Logf("killed after %d letters: sent %d, cut %d, %d arrived", killedAt, sent, cut, len(got))
	if sent+cut != n || cut > 2*64+runtime.NumCPU()+2*2 || len(got) < sent || len(got) > sent+cut {
		t.Fatalf("sent %d, cut %d, %d addresses got a letter; killed after %d\n%s", sent, cut, len(got), killedAt, r.stdout)
	}
}

// statusCount reads "name: N" from crm campaign status (0 when the line is left out,
// as "cut" is when nothing was).
func statusCount(status, name string) int {
	m := regexp.MustCompile(`(?m)^` + name + `: (\d+)`).FindStringSubmatch(status)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// waitStatus runs crm campaign status until its output has want, a minute at most.
func waitStatus(t *testing.T, vars map[string]string, id, want string) runResult {
	t.Helper()
	var r runResult
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r = runCRM(context.Background(), t, vars, "campaign", "status", id); strings.Contains(r.stdout, want) {
			return r
		}
	}
	t.Fatalf("no %q in crm campaign status:\n%s", want, r.stdout)
	return r
}

// shopRows are n clients in Kazan for campaignBase, each with a contact who consented,
// c<i>@shop.ru.
func shopRows(n int) string {
	var rows strings.Builder
	for i := range n {
		fmt.Fprintf(&rows, "Магазин %d;Казань;Ольга;Покупатель %d;c%d@shop.ru;да\n", i, i, i)
	}
	return rows.String()
}
