package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

//go:embed ui/*.html
var uiFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates of ui/ besides the layout, each a page.
var pageNames = []string{"signin", "link", "message", "clients", "card",
	"letter", "audit", "edit", // card
	"reports", "dashboard", "team", // reports, dashboard, team
	"board", "move", // board
	"campaigns", "campaign", "campaign_edit", "campaign_preview", // mailings
}

// partNames are templates of ui/ that pages share, parsed with each.
var partNames = []string{"filters", "reasons"}

// pages holds each page parsed with the layout.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	out := pages{}
	for _, name := range pageNames {
		files := []string{"ui/layout.html", "ui/" + name + ".html"}
		for _, part := range partNames {
			files = append(files, "ui/"+part+".html")
		}
		t, err := template.ParseFS(uiFS, files...)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// staticVersion changes with the static files, so that a browser that cached an old
// app.css asks for the new one (their addresses carry it).
var staticVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(path)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:10]
}()

func staticFiles() http.Handler {
	files := http.StripPrefix(Prefix+"/", http.FileServerFS(staticFS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// page is what every template gets: the texts in the reader's language, who is
// signed in (nil on the sign-in pages) and the page's own Data.
type page struct {
	Lang, Title, Message string
	Me                   *store.Manager
	CSRF                 string
	Nav                  string // the menu item to mark
	Static               string // the static files' version
	Data                 any
	texts                templates.Phrases
	loc                  *time.Location
}

// T is a text of the page's language; args are name, value pairs.
func (p *page) T(key string, args ...string) string { return p.texts.Lookup(p.Lang, key, args...) }

// Stage names a stage.
func (p *page) Stage(s store.Stage) string { return p.T("stage." + string(s)) }

// Date and Time show a moment in the reader's time zone.
func (p *page) Date(t time.Time) string { return t.In(p.loc).Format("02.01.2006") }
func (p *page) Time(t time.Time) string { return t.In(p.loc).Format("02.01.2006 15:04") }

// Tel is a phone's tel: link; html/template lets only http, https and mailto through
// on its own. The store keeps phones in E.164, digits after a "+".
func (p *page) Tel(phone string) template.URL {
	if strings.Trim(phone, "+0123456789") != "" {
		return ""
	}
	return template.URL("tel:" + phone)
}

// guestLang is the language of someone not signed in: the browser's first choice of
// those there are texts for.
func (h *Handler) guestLang(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := h.texts[lang]; ok {
			return lang
		}
	}
	return templates.FallbackLang
}

func (h *Handler) guestPage(r *http.Request, titleKey string, data any) *page {
	p := &page{Lang: h.guestLang(r), Static: staticVersion, Data: data, texts: h.texts, loc: time.UTC}
	p.Title = p.T(titleKey)
	return p
}

func (h *Handler) visitPage(v *visit, nav, titleKey string, data any) *page {
	lang := v.m.Language
	if _, ok := h.texts[lang]; !ok {
		lang = templates.FallbackLang
	}
	loc, err := time.LoadLocation(v.m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	p := &page{Lang: lang, Me: v.m, CSRF: v.ws.CSRF, Nav: nav, Static: staticVersion, Data: data, texts: h.texts, loc: loc}
	p.Title = p.T(titleKey)
	return p
}

// render writes a page whole or, when its template fails, an error: never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("web: render "+name, "err", err)
		http.Error(w, p.T("error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message shows a page of one text (a refusal, an error) with the status.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, v *visit, status int, key string) {
	var p *page
	if v != nil {
		p = h.visitPage(v, "", "app.name", nil)
	} else {
		p = h.guestPage(r, "app.name", nil)
	}
	p.Message = p.T(key)
	h.render(w, r, status, "message", p)
}

// fail logs an unexpected error and tells the reader nothing was changed.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *visit, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.log.Error("web: "+what, "err", err)
	h.message(w, r, v, http.StatusInternalServerError, "error.internal")
}
