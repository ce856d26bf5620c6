package campaign

import (
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
	st     UnsubscribeStore
	secret []byte
	base   string // public URL of the HTTP listener, e.g. https://crm.example.com
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

var unsubscribePage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Отписка / Unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
{{if .Test}}<h1>Это было тестовое письмо</h1><p>Ссылка из тестового письма ничего не меняет: никто не отписан.</p>
<p lang="en">This was a test letter: its link changes nothing, and nobody was unsubscribed.</p>
{{else if .Done}}<h1>Вы отписаны</h1><p>Рассылки больше не придут на этот адрес.</p>
<p lang="en">You are unsubscribed: no more mailings will come to this address.</p>
{{else if .Bad}}<h1>Ссылка недействительна</h1><p>Откройте ссылку из письма целиком.</p>
<p lang="en">This link is not valid. Open the whole link from the letter.</p>
{{else}}<h1>Отписаться от рассылок?</h1>
<form method="post"><button type="submit" style="font-size: 1.2em; padding: .5em 1em">Отписаться / Unsubscribe</button></form>
<p lang="en">Press the button to stop receiving our mailings.</p>{{end}}
</body></html>`))

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

// ServeHTTP shows a confirmation page for GET and unsubscribes for POST, also the
// one-click POST of RFC 8058 that mail programs send ("List-Unsubscribe=One-Click").
// A test letter's link only says that it was a test, for GET and POST alike.
func (u *Unsubscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := struct{ Done, Bad, Test bool }{}
	to, ok := u.parse(strings.TrimPrefix(r.URL.Path, UnsubscribePath))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case !ok:
		page.Bad = true
		w.WriteHeader(http.StatusBadRequest)
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
		via := "link"
		if r.PostFormValue("List-Unsubscribe") == "One-Click" {
			via = "one-click"
		}
		_, err := u.st.Unsubscribe(r.Context(), to.clientID, to.contactID, via, to.campaignID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			page.Bad = true
			w.WriteHeader(http.StatusNotFound)
		case err != nil:
			http.Error(w, "please try again in a minute", http.StatusServiceUnavailable)
			return
		default:
			page.Done = true
		}
	}
	_ = unsubscribePage.Execute(w, page)
}
