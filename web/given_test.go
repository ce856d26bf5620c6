package web_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
	"github.com/crm-team/crm/web"
)

// sentBox is the bot's outbox, keeping what the bot sends.
type sentBox struct {
	mu   sync.Mutex
	sent []bot.Reply
}

func (o *sentBox) Send(_ context.Context, r bot.Reply) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, r)
	return nil
}

func (o *sentBox) texts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, r := range o.sent {
		out = append(out, r.Text)
	}
	return out
}

// A client given on the web, or a leaver's clients handed over there, is told to the
// manager who gets them in Telegram, as the bot's own giving is; taking a client
// oneself tells nobody.
func TestGivingOnTheWebTellsTheManager(t *testing.T) {
	box := &sentBox{}
	var core *bot.Bot
	s := newSite(t, func(st *store.Store, o *web.Options) {
		var err error
		if core, err = bot.New(st, bot.Options{Texts: templates.FS, Outbox: box}); err != nil {
			t.Fatal(err)
		}
		o.Given = core
	})
	head := s.manager("Helen", store.RoleHead, 0)
	admin := s.manager("Adam", store.RoleAdmin, 0)
	anna := s.manager("Anna", store.RoleManager, 601)
	boris := s.manager("Boris", store.RoleManager, 602)
	c := s.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID})
	free := s.client(&store.Client{Name: "Лютик"})

	if r := s.signIn(head).postCSRF("/app/clients/"+c.ID+"/manager", url.Values{"manager": {boris.ID}}); r.code != 303 {
		t.Fatalf("reassign: %d %s", r.code, r.body)
	}
	if r := s.signIn(anna).postCSRF("/app/clients/"+free.ID+"/take", nil); r.code != 303 {
		t.Fatalf("take: %d %s", r.code, r.body)
	}
	if _, err := s.st.UpdateManager(context.Background(), "test", anna.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	if r := s.signIn(admin).postCSRF("/app/team/"+anna.ID+"/handover", url.Values{"to": {boris.ID}}); r.code != 200 || !strings.Contains(r.body, "Boris") {
		t.Fatalf("handover: %d %s", r.code, r.body)
	}
	got := box.texts()
	if len(got) != 2 || !strings.Contains(got[0], "Helen gave you the client <b>Ромашка</b>") ||
		!strings.Contains(got[1], "Adam gave you Anna's clients and tasks: 1 clients") {
		t.Fatalf("told: %q", got)
	}
	for _, r := range box.sent {
		if r.ChatID != 602 {
			t.Errorf("told chat %d, not Boris's", r.ChatID)
		}
	}
}
