package campaign

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/crm-team/crm/store"
)

// Unsubscriber makes and honours the unsubscribe links of mailings: each is signed for
// its recipient (HMAC-SHA256 with a secret from the configuration), so nobody can
// unsubscribe someone else by editing a link.
type Unsubscriber struct {
	st      UnsubscribeStore
	secret  []byte
	base    string // public URL of the HTTP listener, e.g. https://crm.example.com
	company string // named on the page
}

// NewUnsubscriber checks the settings: a secret of at least 16 characters and an
// http(s) base URL, the address recipients reach the HTTP listener at.
func NewUnsubscriber(st UnsubscribeStore, secret, baseURL string) (*Unsubscriber, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("the secret that signs unsubscribe links has %d characters, fewer than 16", len(secret))
	}
	if !strings.HasPrefix(baseURL, "https://") && !strings.HasPrefix(baseURL, "http://") {
		return nil, fmt.Errorf("unsubscribe links need an http:// or https:// address recipients reach this server at, not %q", baseURL)
	}
	return &Unsubscriber{st: st, secret: []byte(secret), base: strings.TrimRight(baseURL, "/")}, nil
}

// SetCompany sets the company's name the page shows (CRM_MAIL_SENDER_NAME), so that
// a person knows whose letters they leave. Call it before serving.
func (u *Unsubscriber) SetCompany(name string) { u.company = strings.TrimSpace(name) }

// UnsubscribePath is where the HTTP listener serves unsubscribe links.
const UnsubscribePath = "/unsubscribe/"

// Link is a recipient's unsubscribe URL.
func (u *Unsubscriber) Link(campaignID, clientID, contactID string) string {
	return u.link(campaignID + "\x00" + clientID + "\x00" + contactID)
}

// TestLink is the unsubscribe URL of a test letter or a preview: it shows a page
// saying so and changes nobody, whoever clicks it.
func (u *Unsubscriber) TestLink(campaignID string) string {
	return u.link(testMark + "\x00" + campaignID)
}

// testMark begins a test link's payload; a recipient's has three parts, not two.
const testMark = "test"

func (u *Unsubscriber) link(raw string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(raw))
	return u.base + UnsubscribePath + payload + "." + u.sign(payload)
}

func (u *Unsubscriber) sign(payload string) string {
	m := hmac.New(sha256.New, u.secret)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// linkTarget is what a valid link names: a recipient, or a test letter.
type linkTarget struct {
	campaignID, clientID, contactID string
	test                            bool
}

// parse checks a token and returns what it names.
func (u *Unsubscriber) parse(token string) (linkTarget, bool) {
	payload, sig, found := strings.Cut(token, ".")
	if !found || !hmac.Equal([]byte(sig), []byte(u.sign(payload))) {
		return linkTarget{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return linkTarget{}, false
	}
	switch parts := strings.Split(string(raw), "\x00"); {
	case len(parts) == 3:
		return linkTarget{campaignID: parts[0], clientID: parts[1], contactID: parts[2]}, true
	case len(parts) == 2 && parts[0] == testMark:
		return linkTarget{campaignID: parts[1], test: true}, true
	}
	return linkTarget{}, false
}

// unsubscribePage says whose letters these are, and then: a test link changes
// nobody; a bad link; the person is unsubscribed (just now or before), with a button
// to undo it; the person is subscribed again; or the button that unsubscribes.
var unsubscribePage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{with .Company}}{{.}}: {{end}}Отписка / Unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
{{with .Company}}<p style="color: #666">{{.}}</p>
{{end}}{{if .Test}}<h1>Это было тестовое письмо</h1><p>Ссылка из тестового письма ничего не меняет: никто не отписан.</p>
<p lang="en">This was a test letter: its link changes nothing, and nobody was unsubscribed.</p>
{{else if .Bad}}<h1>Ссылка недействительна</h1><p>Откройте ссылку из письма целиком.</p>
<p lang="en">This link is not valid. Open the whole link from the letter.</p>
{{else if .Out}}<h1>Вы отписаны</h1><p>Письма{{with .Company}} от {{.}}{{end}} больше не придут на этот адрес.</p>
<p lang="en">You are unsubscribed: no more letters{{with .Company}} from {{.}}{{end}} will come to this address.</p>
<form method="post"><input type="hidden" name="action" value="undo"><button type="submit" style="font-size: 1em; padding: .4em .8em">Подписаться снова / Subscribe again</button></form>
<p>Отписались по ошибке? Кнопка вернёт письма. <span lang="en">Unsubscribed by mistake? The button brings the letters back.</span></p>
{{else if .Back}}<h1>Вы снова подписаны</h1><p>Письма{{with .Company}} от {{.}}{{end}} снова будут приходить на этот адрес.</p>
<p lang="en">You are subscribed again{{with .Company}} to the letters from {{.}}{{end}}.</p>
<form method="post"><button type="submit" style="font-size: 1em; padding: .4em .8em">Отписаться / Unsubscribe</button></form>
{{else}}<h1>Отписаться от писем{{with .Company}} {{.}}{{end}}?</h1>
<form method="post"><button type="submit" style="font-size: 1.2em; padding: .5em 1em">Отписаться / Unsubscribe</button></form>
<p lang="en">Press the button to stop receiving our{{with .Company}} ({{.}}){{end}} mailings.</p>{{end}}
</body></html>`))

// pageState is what the unsubscribe page shows.
type pageState struct {
	Company              string
	Test, Bad, Out, Back bool
}

// maxUnsubscribeForm caps an unsubscribe POST's body: the page's form is empty and
// the one-click one is "List-Unsubscribe=One-Click".
const maxUnsubscribeForm = 4 << 10

// readForm reads a POST's form, urlencoded or multipart (RFC 8058 allows both), and
// the rest of its body, at most maxUnsubscribeForm bytes; it returns 200, or 413 or 400
// for a body refused.
func readForm(w http.ResponseWriter, r *http.Request) int {
	r.Body = http.MaxBytesReader(w, r.Body, maxUnsubscribeForm)
	err := r.ParseMultipartForm(maxUnsubscribeForm)
	if errors.Is(err, http.ErrNotMultipart) {
		err = nil
	}
	if err == nil {
		_, err = io.Copy(io.Discard, r.Body) // a body of another type counts too
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case err != nil:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// ServeHTTP shows a confirmation page for GET, or says the person is unsubscribed
// already, with a button to undo it. POST unsubscribes, also the one-click POST of
// RFC 8058 that mail programs send ("List-Unsubscribe=One-Click"); the undo button's
// POST ("action=undo") subscribes the person again, their own action by their own
// link, which clears only their unsubscribe. A test letter's link only says that it
// was a test, for GET and POST alike.
func (u *Unsubscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := pageState{Company: u.company}
	to, ok := u.parse(strings.TrimPrefix(r.URL.Path, UnsubscribePath))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	code, err := http.StatusOK, error(nil)
	switch {
	case !ok:
		page.Bad, code = true, http.StatusBadRequest
	case r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	case to.test:
		page.Test = true
	case r.Method == http.MethodPost:
		if code := readForm(w, r); code != http.StatusOK {
			http.Error(w, http.StatusText(code), code)
			return
		}
		if r.PostFormValue("action") == "undo" {
			_, err = u.st.Resubscribe(r.Context(), to.clientID, to.contactID, to.campaignID)
			page.Back = true
			break
		}
		via := "link"
		if r.PostFormValue("List-Unsubscribe") == "One-Click" {
			via = "one-click"
		}
		_, err = u.st.Unsubscribe(r.Context(), to.clientID, to.contactID, via, to.campaignID)
		page.Out = true
	default:
		page.Out, err = u.unsubscribed(r.Context(), to)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		page = pageState{Company: u.company, Bad: true}
		code = http.StatusNotFound
	case err != nil:
		http.Error(w, "please try again in a minute", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(code)
	_ = unsubscribePage.Execute(w, page)
}

// unsubscribed tells whether the link's person has unsubscribed; ErrNotFound when
// their client or they are gone.
func (u *Unsubscriber) unsubscribed(ctx context.Context, to linkTarget) (bool, error) {
	c, err := u.st.Client(ctx, to.clientID)
	if err != nil {
		return false, err
	}
	p, ok := c.Contacts[to.contactID]
	if !ok {
		return false, store.ErrNotFound
	}
	return p.Consent.UnsubscribedAt != nil, nil
}
