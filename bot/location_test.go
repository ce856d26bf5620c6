package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// A manager whose time zone is not known (empty, or a name this system lacks) works in
// the company's, the zone of the bot's calendar.
func TestManagerWithoutAZoneWorksInTheCompanys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	vvo, err := time.LoadLocation("Asia/Vladivostok")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow },
		Calendar: store.DefaultWorkCalendar(vvo)})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	if _, err := w.st.UpdateManager(ctx, "test", anna.m.ID, map[string]any{"timeZone": ""}); err != nil {
		t.Fatal(err)
	}
	// 10:00 tomorrow in Vladivostok, not in Moscow.
	anna.expect(anna.send("/remind завтра в 10 позвонить"), "вт 24.11.2026 10:00")
	open, err := w.st.OpenTasks(ctx, anna.m.ID)
	if want := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC); err != nil || len(open) != 1 || !open[0].Due.Equal(want) {
		t.Fatalf("tasks %+v %v, want one due at %v", open, err, want)
	}
}
