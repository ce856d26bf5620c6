package telegram_test

import (
	"testing"

	"github.com/crm-team/crm/bot/telegram"
)

// With a Mini App's address the bot's menu button opens it; without one the button
// is left alone.
func TestMenuButtonOpensTheMiniApp(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	run(t, e.transport(t, telegram.Options{MiniAppURL: "https://crm.example.com/app/"}), &echo{})
	if !srv.Await(wait, func() bool { return srv.Count("setChatMenuButton") == 1 }) {
		t.Fatalf("setChatMenuButton called %d times, want 1", srv.Count("setChatMenuButton"))
	}
	for _, c := range srv.Calls() {
		if c.Method == "setChatMenuButton" && (c.URL != "https://crm.example.com/app/" || c.Text == "") {
			t.Errorf("menu button = %q %q", c.Text, c.URL)
		}
	}

	plain := newEnv(t)
	run(t, plain.transport(t, telegram.Options{}), &echo{})
	if !plain.srv.Await(wait, func() bool { return plain.srv.Count("setMyCommands") == 3 }) {
		t.Fatal("the commands were not set")
	}
	if n := plain.srv.Count("setChatMenuButton"); n != 0 {
		t.Errorf("without a Mini App the menu button was set %d times", n)
	}
}
