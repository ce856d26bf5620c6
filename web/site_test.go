package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/web"
)

// testToken is the bot token the test site checks Mini App data with.
const testToken = "123456:TEST-token"

// The tests' clock.
var testNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// site is the workspace over a fresh store, driven through its handler.
type site struct {
	t     testing.TB
	st    *store.Store
	clock *storetest.Clock
	h     *web.Handler
}

// siteOption adds to a test site's options (its mailings, say).
type siteOption func(*store.Store, *web.Options)

func newSite(t *testing.T, with ...siteOption) *site {
	t.Helper()
	clock := storetest.NewClock(testNow)
	st := storetest.OnClock(t, clock)
	opts := web.Options{PublicURL: "https://crm.example.com", BotToken: testToken, Now: clock.Now}
	for _, f := range with {
		f(st, &opts)
	}
	h, err := web.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &site{t: t, st: st, clock: clock, h: h}
}

func (s *site) manager(name string, role store.Role, tg int64) *store.Manager {
	s.t.Helper()
	return storetest.Manager(s.t, s.st, store.Manager{Name: name, Role: role, TelegramID: tg, Language: "en", Active: true})
}

func (s *site) client(c *store.Client) *store.Client {
	s.t.Helper()
	if err := s.st.CreateClient(context.Background(), "test", c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// browser is one browser: its cookie, as the site set it.
type browser struct {
	s      *site
	cookie *http.Cookie
}

type answer struct {
	code     int
	body     string
	location string
	cookies  []*http.Cookie
	header   http.Header
}

// do sends a request; form, when not nil, is posted. Origin is the site's own unless
// header says otherwise.
func (b *browser) do(method, path string, form url.Values, header ...string) answer {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://crm.example.com"+path, body)
	r.Header.Set("Accept-Language", "en-GB,en;q=0.9,ru;q=0.8")
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "https://crm.example.com")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	b.s.h.ServeHTTP(w, r)
	res := w.Result()
	a := answer{code: res.StatusCode, body: w.Body.String(), location: res.Header.Get("Location"), cookies: res.Cookies(),
		header: res.Header}
	for _, c := range a.cookies {
		if c.Name == "crm_session" {
			if c.MaxAge < 0 {
				b.cookie = nil
			} else {
				b.cookie = c
			}
		}
	}
	return a
}

func (b *browser) get(path string) answer { b.s.t.Helper(); return b.do(http.MethodGet, path, nil) }

// signIn signs a manager in through a one-time link.
func (s *site) signIn(m *store.Manager) *browser {
	s.t.Helper()
	b := &browser{s: s}
	link, err := s.h.SignInLink(context.Background(), m.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if a := b.do(http.MethodPost, "/app/login", url.Values{"t": {u.Query().Get("t")}}); a.code != http.StatusSeeOther || b.cookie == nil {
		s.t.Fatalf("sign in: %d %q", a.code, a.body)
	}
	return b
}

// csrf reads the CSRF token of the browser's pages.
func (b *browser) csrf() string {
	b.s.t.Helper()
	page := b.get("/app/clients").body
	_, rest, ok := strings.Cut(page, `name="csrf-token" content="`)
	if !ok {
		b.s.t.Fatalf("no CSRF token on the page: %s", page)
	}
	token, _, _ := strings.Cut(rest, `"`)
	return token
}

// initData signs Mini App init data as Telegram does, for a user at a time.
func initData(token string, userID int64, at time.Time) string {
	v := url.Values{"auth_date": {fmt.Sprint(at.Unix())}, "query_id": {"AAH"},
		"user": {fmt.Sprintf(`{"id":%d,"first_name":"Anna","language_code":"en"}`, userID)}}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + v.Get(k)
	}
	secret := hmac.New(sha256.New, []byte("WebAppData"))
	secret.Write([]byte(token))
	mac := hmac.New(sha256.New, secret.Sum(nil))
	mac.Write([]byte(strings.Join(lines, "\n")))
	v.Set("hash", hex.EncodeToString(mac.Sum(nil)))
	return v.Encode()
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", what, w)
		}
	}
}
