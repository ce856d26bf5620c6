package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// A link from the bot works once and for 10 minutes; opening it spends nothing; the
// session's cookie is HttpOnly, Secure (the public URL is https) and SameSite=Lax.
func TestSignInLinkWorksOnce(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 0)
	link, err := s.h.SignInLink(context.Background(), anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://crm.example.com/app/login?t=") {
		t.Fatalf("link %q", link)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("t")
	b := &browser{s: s}
	for range 2 { // a link preview fetches it too
		a := b.get("/app/login?" + u.RawQuery)
		if a.code != http.StatusOK || b.cookie != nil {
			t.Fatalf("opening the link: %d, cookie %v", a.code, b.cookie)
		}
		mustContain(t, "the link's page", a.body, `name="t" value="`+token+`"`)
	}
	a := b.do(http.MethodPost, "/app/login", url.Values{"t": {token}})
	if a.code != http.StatusSeeOther || a.location != "/app/clients" {
		t.Fatalf("sign in: %d %q", a.code, a.location)
	}
	c := b.cookie
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/app" {
		t.Fatalf("session cookie %+v", c)
	}
	mustContain(t, "the clients page", b.get("/app/clients").body, "Anna", "Sign out")

	replay := &browser{s: s}
	a = replay.do(http.MethodPost, "/app/login", url.Values{"t": {token}})
	if a.code != http.StatusGone || replay.cookie != nil {
		t.Fatalf("a replayed link: %d, cookie %v", a.code, replay.cookie)
	}
	mustContain(t, "a replayed link's page", a.body, "already used")
	if a := replay.get("/app/login?" + u.RawQuery); a.code != http.StatusGone {
		t.Fatalf("opening a used link: %d", a.code)
	}

	late, _ := s.h.SignInLink(context.Background(), anna.ID)
	s.clock.Add(10 * time.Minute)
	u, _ = url.Parse(late)
	if a := replay.get("/app/login?" + u.RawQuery); a.code != http.StatusGone {
		t.Fatalf("opening an expired link: %d", a.code)
	}
	if a := replay.do(http.MethodPost, "/app/login", url.Values{"t": {u.Query().Get("t")}}); a.code != http.StatusGone || replay.cookie != nil {
		t.Fatalf("an expired link: %d", a.code)
	}
	if a := replay.do(http.MethodPost, "/app/login", url.Values{"t": {"forged"}}); a.code != http.StatusGone || replay.cookie != nil {
		t.Fatalf("a forged link: %d", a.code)
	}
	if a := replay.get("/app/clients"); a.code != http.StatusSeeOther || a.location != "/app/" {
		t.Fatalf("the clients without a session: %d %q", a.code, a.location)
	}
}

// A Mini App signs in with Telegram's init data; forged, stale or future data, a
// stranger and a manager whose access is off get no session.
func TestMiniAppSignIn(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 501)
	off := s.manager("Oleg", store.RoleManager, 502)
	if _, err := s.st.UpdateManager(context.Background(), "test", off.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	post := func(data string) (answer, *browser) {
		b := &browser{s: s}
		return b.do(http.MethodPost, "/app/login/telegram", url.Values{"initData": {data}}), b
	}
	good := initData(testToken, 501, testNow.Add(-time.Hour))
	for _, c := range []struct {
		name, data string
		code       int
		says       string
	}{
		{"signed by another bot", initData("999:other", 501, testNow), http.StatusUnauthorized, "signature does not match"},
		{"a changed user", strings.Replace(good, "501", "502", 1), http.StatusUnauthorized, "signature does not match"},
		{"no hash", strings.Split(good, "&hash=")[0], http.StatusUnauthorized, "signature does not match"},
		{"a day old", initData(testToken, 501, testNow.Add(-25*time.Hour)), http.StatusUnauthorized, "more than a day old"},
		{"from the future", initData(testToken, 501, testNow.Add(10*time.Minute)), http.StatusUnauthorized, "in the future"},
		{"a field twice", good + "&auth_date=1", http.StatusUnauthorized, "malformed"},
		{"a stranger", initData(testToken, 777, testNow), http.StatusForbidden, "not on the team"},
		{"access off", initData(testToken, 502, testNow), http.StatusForbidden, "turned off"},
	} {
		a, b := post(c.data)
		if a.code != c.code || b.cookie != nil || !strings.Contains(a.body, c.says) {
			t.Errorf("%s: %d %q, cookie %v", c.name, a.code, a.body, b.cookie)
		}
	}
	a, b := post(good)
	if a.code != http.StatusOK || b.cookie == nil || !strings.Contains(a.body, `"/app/clients"`) {
		t.Fatalf("valid init data: %d %q", a.code, a.body)
	}
	// web.telegram.org frames the Mini App: the cookie must be one a frame keeps.
	if c := b.cookie; !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode || !c.Partitioned {
		t.Fatalf("the Mini App's session cookie %+v", c)
	}
	mustContain(t, "the Mini App's clients page", b.get("/app/clients").body, anna.Name)
}

// Every change needs the session's CSRF token and a request from the site itself;
// a refused one changes nothing.
func TestChangesNeedCSRFAndOrigin(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 0)
	b := s.signIn(anna)
	token := b.csrf()
	for _, c := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{}, nil},
		{"a wrong token", url.Values{"csrf": {"x" + token}}, nil},
		{"a wrong header", url.Values{}, []string{"X-CSRF-Token", "nope"}},
		{"another site", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
		{"another site, by fetch metadata", url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site", "Origin", ""}},
	} {
		a := b.do(http.MethodPost, "/app/logout", c.form, c.header...)
		if a.code != http.StatusForbidden {
			t.Errorf("%s: sign-out answered %d", c.name, a.code)
		}
		if a := b.get("/app/clients"); a.code != http.StatusOK {
			t.Fatalf("%s: the session ended (%d)", c.name, a.code)
		}
	}
	if a := b.do(http.MethodPost, "/app/logout", url.Values{}, "X-CSRF-Token", token); a.code != http.StatusSeeOther {
		t.Fatalf("sign-out with the header: %d %q", a.code, a.body)
	}
	if b.cookie != nil {
		t.Error("the cookie was not cleared")
	}
	// The old cookie opens nothing either.
	old := s.signIn(anna)
	saved := old.cookie
	old.do(http.MethodPost, "/app/logout", url.Values{"csrf": {old.csrf()}})
	old.cookie = saved
	if a := old.get("/app/clients"); a.code != http.StatusSeeOther {
		t.Fatalf("a signed-out cookie: %d", a.code)
	}
}

// A manager whose access is turned off loses their session at the next request, and
// turning it on again does not bring that session back.
func TestDisabledManagerLosesSession(t *testing.T) {
	s := newSite(t)
	anna := s.manager("Anna", store.RoleManager, 0)
	b := s.signIn(anna)
	saved := b.cookie
	ctx := context.Background()
	if _, err := s.st.UpdateManager(ctx, "admin", anna.ID, map[string]any{"active": false}); err != nil {
		t.Fatal(err)
	}
	a := b.get("/app/clients")
	if a.code != http.StatusForbidden || !strings.Contains(a.body, "turned off") {
		t.Fatalf("a disabled manager's page: %d %q", a.code, a.body)
	}
	if _, err := s.st.UpdateManager(ctx, "admin", anna.ID, map[string]any{"active": true}); err != nil {
		t.Fatal(err)
	}
	b.cookie = saved
	if a := b.get("/app/clients"); a.code != http.StatusSeeOther || a.location != "/app/" {
		t.Fatalf("the old session after re-enabling: %d %q", a.code, a.location)
	}
	// A link made before the manager was turned off signs nobody in meanwhile.
	link, _ := s.h.SignInLink(ctx, anna.ID)
	_, _ = s.st.UpdateManager(ctx, "admin", anna.ID, map[string]any{"active": false})
	u, _ := url.Parse(link)
	nb := &browser{s: s}
	if a := nb.do(http.MethodPost, "/app/login", url.Values{"t": {u.Query().Get("t")}}); a.code != http.StatusForbidden || nb.cookie != nil {
		t.Fatalf("a disabled manager's link: %d", a.code)
	}
}
