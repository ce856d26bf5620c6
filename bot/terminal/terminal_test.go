package terminal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/terminal"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestTerminalChatTapsNumberedButtons(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	m := &store.Manager{Name: "Анна", Role: store.RoleManager, Language: "ru"}
	if err := st.CreateManager(ctx, "test", m); err != nil {
		t.Fatal(err)
	}
	c := &store.Client{Name: "Ромашка & Ко", ManagerID: m.ID}
	if err := st.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	core, err := bot.New(st, bot.Options{Texts: templates.FS})
	if err != nil {
		t.Fatal(err)
	}
	// Open the card, tap "Звонок" (button 1), then "Дозвонился" (button 1), then save (1).
	in := strings.NewReader("Ромашка\n1\n1\n1\n")
	var out strings.Builder
	if err := terminal.Run(ctx, core, m, in, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"Ромашка & Ко", "[1] 📞 Звонок", "Чем закончился", "Звонок записан"} {
		if !strings.Contains(got, want) {
			t.Fatalf("terminal output lacks %q:\n%s", want, got)
		}
	}
	items, _, err := st.Timeline(ctx, c.ID, 0, 5)
	if err != nil || len(items) != 1 || items[0].Call == nil || items[0].Call.Outcome != "reached" {
		t.Fatalf("the call was not logged: %+v %v", items, err)
	}
}

// A picture is named with its size; its caption and buttons print as text does.
func TestPrintShowsAPicture(t *testing.T) {
	var out strings.Builder
	buttons := terminal.Print(&out, []bot.Reply{{Text: "<b>Воронка</b>\nПереходов: 3 &lt;", Photo: &bot.Photo{Name: "funnel.png",
		PNG: make([]byte, 48*1024)}, Buttons: [][]bot.Button{{{Text: "📊 Таблица (xlsx)", Data: "rpx"}}}}})
	want := "Воронка\nПереходов: 3 <\n  [picture funnel.png, 48 KB]\n  [1] 📊 Таблица (xlsx)\n"
	if out.String() != want || len(buttons) != 1 {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}
