package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/crm-team/crm/mail/smtptest"
)

// On a fresh data directory doctor says what to run, not which collections are missing.
func TestDoctorOnAFreshDirectorySaysMigrate(t *testing.T) {
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir()}
	r := runCRM(context.Background(), t, vars, "doctor")
	if r.code == 0 || !strings.Contains(r.stdout, "[FAIL] schema: a new, empty database: run `crm migrate`") || strings.Contains(r.stdout, "clients") {
		t.Fatalf("doctor on a fresh directory: %+v", r)
	}
	if r := runCRM(context.Background(), t, vars, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	r = runCRM(context.Background(), t, vars, "doctor")
	if r.code != 0 || !strings.Contains(r.stdout, "[ok  ] schema: every collection and index exists") {
		t.Fatalf("doctor after migrate: %+v", r)
	}
}

// doctor connects to the SMTP server and sends nothing; mailings also need the
// unsubscribe links' address and secret.
func TestDoctorChecksTheSMTPServer(t *testing.T) {
	srv := smtptest.Start(t)
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_SMTP_HOST": "127.0.0.1", "CRM_SMTP_PORT": strconv.Itoa(srv.Port()),
		"CRM_SMTP_SECURITY": "none", "CRM_SMTP_FROM": "hello@shop.test"}
	if r := runCRM(context.Background(), t, vars, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	r := runCRM(context.Background(), t, vars, "doctor")
	if r.code == 0 || !strings.Contains(r.stdout, "[ok  ] SMTP: 127.0.0.1 (none): connected; nothing sent") ||
		!strings.Contains(r.stdout, "[FAIL] unsubscribe links: mailings and greetings carry a one-click unsubscribe link: set CRM_PUBLIC_URL") {
		t.Fatalf("doctor without the unsubscribe settings: %+v", r)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("doctor sent %d letters", n)
	}
	vars["CRM_PUBLIC_URL"], vars["CRM_UNSUBSCRIBE_SECRET"] = "https://crm.shop.test", "0123456789abcdef-doctor"
	if r := runCRM(context.Background(), t, vars, "doctor"); r.code != 0 || !strings.Contains(r.stdout, "[ok  ] unsubscribe links: https://crm.shop.test/unsubscribe/…, signed") {
		t.Fatalf("doctor with everything set: %+v", r)
	}
	srv.Stop()
	if r := runCRM(context.Background(), t, vars, "doctor"); r.code == 0 || !strings.Contains(r.stdout, "[FAIL] SMTP: 127.0.0.1: connect to the SMTP server") {
		t.Fatalf("doctor with the server down: %+v", r)
	}
}
