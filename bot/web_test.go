package bot_test

import (
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
)

// Without the web workspace (no public address), /web says what to set.
func TestWebCommandWithoutWorkspace(t *testing.T) {
	w := newWorld(t)
	anna := w.manager("Anna", store.RoleManager, "en", "Europe/Moscow")
	if got := anna.send("/web"); !strings.Contains(got, "CRM_PUBLIC_URL") {
		t.Fatalf("/web without a workspace: %q", got)
	}
}
