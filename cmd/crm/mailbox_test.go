package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/mail/imaptest"
)

// crm serve reads the shared mailbox into the chat: a client's letter reaches its
// manager in Telegram, and a stranger's waits in /inbox until the manager attaches it
// to a client found by name.
func TestServeReadsTheMailboxIntoTheChat(t *testing.T) {
	tg := tgtest.New(t)
	box := imaptest.NewServer(t)
	addr := freeAddr(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_HTTP_ADDR": addr, "CRM_LOG_LEVEL": "warn",
		"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": tg.URL(),
		"CRM_IMAP_HOST": box.Host(), "CRM_IMAP_PORT": strconv.Itoa(box.Port()), "CRM_IMAP_SECURITY": "none",
		"CRM_IMAP_USER": imaptest.User, "CRM_IMAP_PASSWORD": imaptest.Password, "CRM_MAIL_OWN_DOMAINS": "company.ru"}
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Ольга", "--role", "head", "--telegram-id", "7"); r.code != 0 {
		t.Fatalf("manager add: %+v", r)
	}
	csv := filepath.Join(t.TempDir(), "clients.csv")
	if err := os.WriteFile(csv, []byte("name;manager;contact_name;contact_email\nРомашка;Ольга;Анна;anna@romashka.ru\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCRM(context.Background(), t, vars, "import", csv); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}

	startServe(t, vars)

	date := testNow().Format(time.RFC1123Z)
	letter := func(id, from, subject string) []byte {
		return []byte(fmt.Sprintf("Message-ID: <%s>\r\nFrom: %s\r\nTo: sales@company.ru\r\nSubject: %s\r\nDate: %s\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\nДобрый день!\r\n", id, from, subject, date))
	}
	box.AddLetters("INBOX", [][]byte{
		letter("1@romashka.ru", "Анна <anna@romashka.ru>", "Счёт на оплату"),
		letter("2@gmail.com", "stranger@gmail.com", "Прайс-лист"),
	})
	got := tg.Next(7, 30*time.Second)
	if !strings.Contains(got.Text, "anna@romashka.ru") || !strings.Contains(got.Text, "Счёт на оплату") {
		t.Fatalf("the letter's notice: %q", got.Text)
	}

	tg.SendText(7, "/inbox")
	got = tg.Next(7, 20*time.Second)
	if !strings.Contains(got.Text, "stranger@gmail.com") || strings.Contains(got.Text, "anna@") {
		t.Fatalf("/inbox: %q", got.Text)
	}
	tg.TapButton(got, "📎 1")
	if got = tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "stranger@gmail.com") {
		t.Fatalf("which client: %q", got.Text)
	}
	tg.SendText(7, "Ромашка")
	got = tg.Next(7, 20*time.Second)
	var pick string
	for _, text := range got.ButtonTexts() {
		if strings.Contains(text, "Ромашка") {
			pick = text
		}
	}
	if pick == "" {
		t.Fatalf("no client to pick: %q %q", got.Text, got.ButtonTexts())
	}
	tg.TapButton(got, pick)
	if got = tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "Прайс-лист") {
		t.Fatalf("attached: %q", got.Text)
	}
	tg.SendText(7, "/inbox")
	if got = tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "Неразобранных писем нет") {
		t.Fatalf("/inbox after attaching: %q", got.Text)
	}
	tg.SendText(7, "Ромашка")
	if got = tg.Next(7, 20*time.Second); !strings.Contains(got.Text, "Счёт на оплату") || !strings.Contains(got.Text, "Прайс-лист") {
		t.Fatalf("the card lacks the letters: %q", got.Text)
	}
}

func TestDoctorChecksTheMailbox(t *testing.T) {
	box := imaptest.NewServer(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_IMAP_HOST": box.Host(), "CRM_IMAP_PORT": strconv.Itoa(box.Port()),
		"CRM_IMAP_SECURITY": "none", "CRM_IMAP_USER": imaptest.User, "CRM_IMAP_PASSWORD": imaptest.Password}
	if r := runCRM(context.Background(), t, vars, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	r := runCRM(context.Background(), t, vars, "doctor")
	if want := "[ok  ] mailbox: " + imaptest.User + " on " + box.Host() + ": logged in; reads INBOX, Sent"; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("doctor with a working mailbox: want %q in %+v", want, r)
	}
	vars["CRM_IMAP_PASSWORD"] = "wrong"
	r = runCRM(context.Background(), t, vars, "doctor")
	if want := "[FAIL] mailbox: login as \"" + imaptest.User + "\" failed (check the user name and password)"; r.code == 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("doctor with a wrong password: want %q in %+v", want, r)
	}
	vars["CRM_IMAP_MAILBOXES"], vars["CRM_IMAP_SALES_HOST"], vars["CRM_IMAP_SALES_PORT"] = "sales", "127.0.0.1", "1"
	vars["CRM_IMAP_SALES_USER"], vars["CRM_IMAP_SALES_PASSWORD"] = "sales", "secret"
	r = runCRM(context.Background(), t, vars, "doctor")
	if want := "[FAIL] mailbox \"sales\": connect to 127.0.0.1:1 failed (check host, port and firewall)"; r.code == 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("doctor with a mailbox nobody answers for: want %q in %+v", want, r)
	}
}
