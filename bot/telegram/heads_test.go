package telegram_test

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/store"
)

// An admin chooses a manager's head from the team view, on the phone: the manager's
// unanswered letters then escalate to that head; "every head" takes the choice back.
// Only an admin can do it.
func TestConversationAdminChoosesAManagersHead(t *testing.T) {
	c := startConv(t, rate.Inf)
	ctx := context.Background()
	c.manager(1, "Админ", store.RoleAdmin, "ru", "Europe/Moscow")
	olga := c.manager(2, "Ольга", store.RoleHead, "ru", "Europe/Moscow")
	ivan := c.manager(3, "Иван", store.RoleManager, "ru", "Europe/Moscow")
	headOf := func() string {
		t.Helper()
		m, err := c.st.Manager(ctx, ivan.ID)
		if err != nil {
			t.Fatal(err)
		}
		return m.HeadID
	}

	heads := c.tap(c.say(1, "/managers"), "Руководители")
	has(t, heads, "Иван → все руководители", "Ольга → все руководители")
	pick := c.tap(heads, "Иван")
	has(t, pick, "Иван", "кто руководитель")
	for _, b := range pick.ButtonTexts() {
		if b == "Иван" {
			t.Fatalf("Иван is offered as his own head: %q", pick.ButtonTexts())
		}
	}
	heads = c.tap(pick, "Ольга")
	has(t, heads, "Иван → Ольга")
	if got := headOf(); got != olga.ID {
		t.Fatalf("Иван's head %q, want Ольга", got)
	}
	heads = c.tap(c.tap(heads, "Иван"), "Все руководители")
	has(t, heads, "Иван → все руководители")
	if got := headOf(); got != "" {
		t.Fatalf("Иван's head %q, want none", got)
	}

	// Иван forges the admin's tap: refused, nothing changes.
	today := c.say(3, "/today")
	id := c.srv.Tap(3, today.MessageID, "hs:"+ivan.ID+":"+olga.ID)
	has(t, c.srv.Answer(id, wait), "администратор")
	if got := headOf(); got != "" {
		t.Fatalf("a forged tap set Иван's head to %q", got)
	}
	// The admin's own forged tap naming a manager as a head says the button is stale.
	id = c.srv.Tap(1, heads.MessageID, "hs:"+olga.ID+":"+ivan.ID)
	has(t, c.srv.Answer(id, wait), "устарела")
	if m, _ := c.st.Manager(ctx, olga.ID); m.HeadID != "" {
		t.Fatalf("Ольга's head became %q", m.HeadID)
	}
}
