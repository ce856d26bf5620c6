package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// The nightly at-risk notice reaches the manager with a button to each card, and the
// card shows the risk and the class.
func TestAtRiskNoticeAndCard(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка <опт>", ManagerID: anna.m.ID, Stage: store.StageGold})
	if _, _, err := w.st.MarkClients(ctx, map[string]store.Marks{c.ID: {Class: "BZ", AtRisk: true}}); err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Outbox: out})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.NotifyAtRisk(ctx, notice.AtRisk{ManagerID: anna.m.ID, Days: 90, Clients: []notice.RiskyClient{
		{ID: c.ID, Name: c.Name, Stage: store.StageGold, LastOrder: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}}); err != nil {
		t.Fatal(err)
	}
	if len(out.sent) != 1 || out.sent[0].ChatID != anna.m.TelegramID || !strings.Contains(out.sent[0].Text, "дольше 90 дн.") ||
		!strings.Contains(out.sent[0].Text, "Ромашка &lt;опт&gt;") || !strings.Contains(out.sent[0].Text, "01.05.2026") {
		t.Fatalf("notice: %+v", out.sent)
	}
	anna.last = out.sent
	anna.expect(anna.tap("Ромашка <опт>"), "риск уйти в «красные»", "класс ABC/XYZ: BZ")
}
