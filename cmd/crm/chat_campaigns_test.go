package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// crm chat drives mailings as the Telegram bot does where an SMTP server is set.
func TestChatHasCampaignsWhereMailIsSetUp(t *testing.T) {
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	chat := func(vars map[string]string) string {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"chat", "--as", "Анна"}, func(k string) string { return vars[k] }, testNow,
			strings.NewReader("/campaigns\n"), &out, &errb)
		if code != 0 {
			t.Fatalf("chat: %d\n%s\n%s", code, out.String(), errb.String())
		}
		return out.String()
	}
	if out := chat(vars); !strings.Contains(out, "Рассылки на этом сервере не настроены") {
		t.Fatalf("without SMTP:\n%s", out)
	}
	out := chat(withSettings(vars, "CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_SECURITY", "none", "CRM_SMTP_FROM", "news@company.ru"))
	if !strings.Contains(out, "Рассылок пока нет") || strings.Contains(out, "не настроены") {
		t.Fatalf("with SMTP:\n%s", out)
	}
}
