package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot/telegram/tgtest"
)

func TestChatInTheTerminalOnAFreshBase(t *testing.T) {
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	ctx := context.Background()
	var out, errb bytes.Buffer
	in := strings.NewReader("/new\n1\nРомашка\n7707083893\n-\n-\n-\n-\n-\n1\n/tasks\n")
	// The buttons: [1] company; after the questions, [1] Save.
	code := run(ctx, []string{"chat", "--as", "Анна"}, func(k string) string { return vars[k] }, testNow, in, &out, &errb)
	if code != 0 {
		t.Fatalf("chat: %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"first admin", "Chatting as Анна", "Клиент «Ромашка» создан", "Открытые задачи"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("chat output lacks %q:\n%s", want, out.String())
		}
	}
	if r := runCRM(ctx, t, vars, "chat", "--as", "Борис"); r.code != 1 || !strings.Contains(r.stderr, "Анна") {
		t.Fatalf("unknown manager: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "chat"); r.code != 2 {
		t.Fatalf("chat without --as: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "manager", "add", "--name", "Борис", "--role", "boss"); r.code != 1 || !strings.Contains(r.stderr, "manager, head, admin") {
		t.Fatalf("bad role: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "manager", "add", "--name", "Борис", "--role", "head", "--telegram-id", "55"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	r := runCRM(ctx, t, vars, "manager", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "Борис") || !strings.Contains(r.stdout, "head") || !strings.Contains(r.stdout, "Анна") {
		t.Fatalf("manager list: %+v", r)
	}
	r = runCRM(ctx, t, vars, "manager", "invite", "--role", "manager")
	if r.code != 0 || !strings.Contains(r.stdout, "/start ") {
		t.Fatalf("invite without a bot name: %+v", r)
	}
}

// crm serve with a token talks to the Bot API it is pointed at: an invite made with
// crm manager invite turns a stranger into a manager.
func TestServeRunsTheBot(t *testing.T) {
	srv := tgtest.New(t)
	addr := freeAddr(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": addr, "CRM_LOG_LEVEL": "warn",
		"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": srv.URL()}
	startServe(t, vars)
	if !srv.Await(20*time.Second, func() bool { return srv.Count("setMyCommands") > 0 }) {
		t.Fatal("the bot never set its commands")
	}
	r := runCRM(context.Background(), t, vars, "manager", "invite", "--role", "head", "--name", "Ольга")
	link := "https://t.me/" + tgtest.BotUsername + "?start="
	if r.code != 0 || !strings.Contains(r.stdout, link) {
		t.Fatalf("invite: %+v", r)
	}
	code := strings.Fields(r.stdout[strings.Index(r.stdout, link)+len(link):])[0]
	srv.SendText(7, "/start "+code)
	if got := srv.Next(7, 20*time.Second); !strings.Contains(got.Text, "Ольга") {
		t.Fatalf("welcome: %q", got.Text)
	}
	srv.SendText(7, "/today")
	if got := srv.Next(7, 20*time.Second); !strings.Contains(got.Text, "Сегодня") {
		t.Fatalf("/today: %q", got.Text)
	}
	if cmds := srv.Commands("en"); len(cmds) == 0 {
		t.Fatal("no English command menu")
	}
}

// The chat's /invite and crm manager invite name the same bot: CRM_TELEGRAM_BOT_NAME
// when it is set, over the name Telegram gives.
func TestInviteLinksNameTheSameBot(t *testing.T) {
	srv := tgtest.New(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": freeAddr(t), "CRM_LOG_LEVEL": "warn",
		"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": srv.URL(), "CRM_TELEGRAM_BOT_NAME": "@company_crm_bot"}
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Админ", "--role", "admin", "--telegram-id", "8"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	startServe(t, vars)
	const link = "https://t.me/company_crm_bot?start="
	if r := runCRM(context.Background(), t, vars, "manager", "invite"); r.code != 0 || !strings.Contains(r.stdout, link) {
		t.Fatalf("crm manager invite: %+v", r)
	}
	srv.SendText(8, "/invite manager Пётр")
	if got := srv.Next(8, 20*time.Second); !strings.Contains(got.Text, link) {
		t.Fatalf("/invite in the chat: %q", got.Text)
	}
}

// A reply crm serve had not sent when it was killed is sent by the next crm serve,
// once the killed one's hold on its outbox lane ran out (CRM_CAMPAIGN_TAKEOVER).
func TestServeSendsAfterARestartWhatAKillLeft(t *testing.T) {
	srv := tgtest.New(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": freeAddr(t), "CRM_LOG_LEVEL": "warn",
		"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": srv.URL(), "CRM_CAMPAIGN_TAKEOVER": "5s"}
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Анна", "--telegram-id", "7"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	first := startServeProcess(t, vars)
	srv.Hang(true)
	srv.SendText(7, "/today")
	if !srv.Await(20*time.Second, func() bool { return srv.Hanging() == 1 && srv.Pending() == 0 }) {
		t.Fatalf("the reply never hung: %d hanging, %d updates unconfirmed", srv.Hanging(), srv.Pending())
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if !srv.Await(20*time.Second, func() bool { return srv.Hanging() == 0 }) {
		t.Fatal("the killed reply still hangs")
	}
	srv.Hang(false)

	startServeProcess(t, vars)
	if got := srv.Next(7, 30*time.Second); !strings.Contains(got.Text, "Сегодня") {
		t.Fatalf("after the restart: %q", got.Text)
	}
	if n := len(srv.Sent(7)); n != 1 {
		t.Errorf("%d messages to the chat, want the one reply", n)
	}
}

// A stop of crm serve sends the replies still waiting for the chat's turn before it
// returns.
func TestServeStopSendsTheQueuedReplies(t *testing.T) {
	srv := tgtest.New(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": freeAddr(t), "CRM_LOG_LEVEL": "warn",
		"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": srv.URL()}
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Анна", "--telegram-id", "7"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan runResult, 1)
	go func() { done <- runCRM(ctx, t, vars, "serve") }()
	waitReady(t, vars["CRM_HTTP_ADDR"])
	srv.SendText(7, "/today")
	srv.SendText(7, "/tasks")
	srv.Next(7, 20*time.Second) // the second reply waits a second for the chat's turn
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("serve: %+v", r)
	}
	if n := len(srv.Sent(7)); n != 2 {
		t.Errorf("%d replies sent when serve returned, want 2", n)
	}
}

// A person added without --tz works in the company's time zone, CRM_TIMEZONE.
func TestManagerAddTakesTheCompanysTimeZone(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn", "CRM_TIMEZONE": "Asia/Vladivostok"}
	for _, args := range [][]string{{"--name", "Ольга"}, {"--name", "Борис", "--tz", "Europe/Kaliningrad"}} {
		if r := runCRM(ctx, t, vars, append([]string{"manager", "add"}, args...)...); r.code != 0 {
			t.Fatalf("manager add %v: %+v", args, r)
		}
	}
	r := runCRM(ctx, t, vars, "manager", "list")
	zones := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 8 {
			zones[f[1]] = f[4]
		}
	}
	if r.code != 0 || zones["Ольга"] != "Asia/Vladivostok" || zones["Борис"] != "Europe/Kaliningrad" {
		t.Fatalf("manager list: %+v, want Ольга in Asia/Vladivostok and Борис in Europe/Kaliningrad", r)
	}
}
