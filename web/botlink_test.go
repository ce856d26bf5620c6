package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

var linkRE = regexp.MustCompile(`https://crm\.example\.com/app/login\?t=[A-Za-z0-9_-]+`)

// The bot's /web sends a link that signs its manager in, once.
func TestBotWebCommandSignsIn(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 601)
	b, err := bot.New(s.st, bot.Options{Texts: templates.FS, Web: s.h, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	replies := b.Handle(context.Background(), bot.Update{ChatID: 601, User: bot.User{ID: 601}, Text: "/web"})
	if len(replies) != 1 {
		t.Fatalf("replies: %+v", replies)
	}
	link := linkRE.FindString(replies[0].Text)
	if link == "" {
		t.Fatalf("no link in %q", replies[0].Text)
	}
	u, _ := url.Parse(link)
	br := &browser{s: s}
	if a := br.do(http.MethodPost, "/app/login", url.Values{"t": {u.Query().Get("t")}}); a.code != http.StatusSeeOther {
		t.Fatalf("sign in by the bot's link: %d", a.code)
	}
	mustContain(t, "the clients page", br.get("/app/clients").body, anna.Name)
}
