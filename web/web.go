package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// Prefix is where the workspace is served.
const Prefix = "/app"

// Defaults of Options.
const (
	DefaultSessionTTL  = 7 * 24 * time.Hour
	DefaultLinkTTL     = 10 * time.Minute
	DefaultInitDataAge = 24 * time.Hour
	DefaultInviteTTL   = 72 * time.Hour // the bot's
)

// Options configure the workspace.
type Options struct {
	// Texts holds web/<lang>.txt (templates.FS).
	Texts fs.FS
	// PublicURL is where browsers reach the listener (CRM_PUBLIC_URL): sign-in links
	// point there, and an https one makes the session cookie Secure.
	PublicURL string
	// BotToken checks a Mini App's init data; empty: only links sign in.
	BotToken string
	// SessionTTL is how long a sign-in lasts (DefaultSessionTTL); LinkTTL how long a
	// sign-in link works (DefaultLinkTTL); InitDataAge how old a Mini App's init data
	// may be (DefaultInitDataAge).
	SessionTTL, LinkTTL, InitDataAge time.Duration
	Logger                           *slog.Logger
	Now                              func() time.Time

	// reports and team
	// Location is the company's time zone (CRM_TIMEZONE): reports count its days
	// (default UTC).
	Location *time.Location
	// InviteLink makes the deep link of an invite code, as the bot's does; nil shows
	// the bare command "/start <code>". InviteTTL is how long an invite works (72 h).
	InviteLink func(code string) string
	InviteTTL  time.Duration
	// Campaigns runs the mailings pages (heads and admins); nil: they say mailings are
	// off. Mailer sends their test letters; nil: no SMTP server is set.
	// Given tells a manager in Telegram that a client, or a leaver's clients, were
	// given to them here, as the bot does; nil: nobody is told (no bot).
	Given     GivenNotifier
	Campaigns *campaign.Campaigns
	Mailer    campaign.Sender
}

// GivenNotifier tells managers of clients given to them (the bot, wired by cmd/crm).
type GivenNotifier interface {
	NotifyClientGiven(ctx context.Context, by, managerID, clientID, clientName string) error
	NotifyClientsGiven(ctx context.Context, by, managerID, from string, clients, tasks int) error
}

// Handler serves /app.
type Handler struct {
	st     *store.Store
	opts   Options
	texts  templates.Phrases
	pages  pages
	secure bool
	log    *slog.Logger
	now    func() time.Time
	h      http.Handler
}

// New builds the workspace over a store.
func New(st *store.Store, opts Options) (*Handler, error) {
	if opts.Texts == nil {
		opts.Texts = templates.FS
	}
	texts, err := templates.ReadPhrases(opts.Texts, "web")
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = DefaultLinkTTL
	}
	if opts.InitDataAge <= 0 {
		opts.InitDataAge = DefaultInitDataAge
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	// reports and team
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.InviteTTL <= 0 {
		opts.InviteTTL = DefaultInviteTTL
	}
	h := &Handler{st: st, opts: opts, texts: texts, pages: pg, log: opts.Logger, now: opts.Now,
		secure: strings.HasPrefix(opts.PublicURL, "https://")}
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		// Behind a proxy the Host the listener sees may differ from the public one.
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("public URL %q: %w", opts.PublicURL, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(h.forbiddenOrigin))
	h.h = cop.Handler(h.routes())
	return h, nil
}

// routes is the workspace's one route table.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/{$}", h.home)
	mux.HandleFunc("GET "+Prefix+"/login", h.linkPage)
	mux.HandleFunc("POST "+Prefix+"/login", h.linkSignIn)
	mux.HandleFunc("POST "+Prefix+"/login/telegram", h.telegramSignIn)
	mux.HandleFunc("POST "+Prefix+"/logout", h.signedIn(h.signOut))
	mux.HandleFunc("GET "+Prefix+"/clients", h.signedIn(h.clients))
	mux.HandleFunc("GET "+Prefix+"/clients/{id}", h.signedIn(h.card))
	// card: the client's card, its letters and files, and its changes
	mux.HandleFunc("GET "+Prefix+"/clients/{id}/audit", h.signedIn(h.audit))
	mux.HandleFunc("GET "+Prefix+"/clients/{id}/edit", h.signedIn(h.editClient))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/edit", h.signedIn(h.saveClient))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/take", h.signedIn(h.takeClient))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/manager", h.signedIn(h.reassign))
	mux.HandleFunc("GET "+Prefix+"/clients/{id}/contacts/new", h.signedIn(h.newContact))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/contacts/new", h.signedIn(h.addContact))
	mux.HandleFunc("GET "+Prefix+"/clients/{id}/contacts/{contact}", h.signedIn(h.editContact))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/contacts/{contact}", h.signedIn(h.saveContact))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/contacts/{contact}/consent", h.signedIn(h.consent))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/contacts/{contact}/delete", h.signedIn(h.removeContact))
	mux.HandleFunc("GET "+Prefix+"/letters/{id}", h.signedIn(h.letter))
	mux.HandleFunc("GET "+Prefix+"/files/{id}", h.signedIn(h.file))
	// reports, dashboard and team
	mux.HandleFunc("GET "+Prefix+"/reports", h.signedIn(h.reportPage))
	mux.HandleFunc("GET "+Prefix+"/reports/{name}", h.signedIn(h.reportPage))
	mux.HandleFunc("GET "+Prefix+"/reports/{name}/chart.png", h.signedIn(h.reportChart))
	mux.HandleFunc("GET "+Prefix+"/reports/{name}/sheet.xlsx", h.signedIn(h.reportSheet))
	mux.HandleFunc("GET "+Prefix+"/team", h.signedIn(h.teamPage))
	mux.HandleFunc("POST "+Prefix+"/team/invite", h.signedIn(h.teamInvite))
	mux.HandleFunc("POST "+Prefix+"/team/{id}/role", h.signedIn(h.teamRole))
	mux.HandleFunc("POST "+Prefix+"/team/{id}/off", h.signedIn(h.teamOff))
	mux.HandleFunc("POST "+Prefix+"/team/{id}/on", h.signedIn(h.teamOn))
	mux.HandleFunc("POST "+Prefix+"/team/{id}/handover", h.signedIn(h.teamHandover))
	// board
	mux.HandleFunc("GET "+Prefix+"/board", h.signedIn(h.board))
	mux.HandleFunc("GET "+Prefix+"/clients/{id}/stage", h.signedIn(h.movePage))
	mux.HandleFunc("POST "+Prefix+"/clients/{id}/stage", h.signedIn(h.moveStage))
	mux.HandleFunc("GET "+Prefix+"/clients.xlsx", h.signedIn(h.export))
	// mailings
	mux.HandleFunc("GET "+Prefix+"/campaigns", h.mailing(h.campaignList))
	mux.HandleFunc("POST "+Prefix+"/campaigns", h.mailing(h.campaignCreate))
	mux.HandleFunc("GET "+Prefix+"/campaigns/new", h.mailing(h.campaignNew))
	mux.HandleFunc("GET "+Prefix+"/campaigns/count", h.mailing(h.campaignCount))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}", h.mailing(h.campaignPage))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}/edit", h.mailing(h.campaignEdit))
	mux.HandleFunc("POST "+Prefix+"/campaigns/{id}/edit", h.mailing(h.campaignSave))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}/preview", h.mailing(h.campaignPreview))
	mux.HandleFunc("POST "+Prefix+"/campaigns/{id}/test", h.mailing(h.campaignTest))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}/status", h.mailing(h.campaignStatus))
	mux.HandleFunc("GET "+Prefix+"/campaigns/{id}/report", h.mailing(h.campaignReport))
	mux.HandleFunc("POST "+Prefix+"/campaigns/{id}/{action}", h.mailing(h.campaignAct))
	mux.Handle("GET "+Prefix+"/static/", staticFiles())
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, nil, http.StatusNotFound, "refused.notfound")
	})
	return mux
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Scripts and styles only from here; frames only by Telegram's web client, which
	// shows a Mini App in one. No page's address goes to another site as a referrer
	// (a sign-in link's token is in one); "same-origin", not "no-referrer", which
	// would make a form's Origin "null" in browsers without Sec-Fetch-Site.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "+
		"form-action 'self'; frame-ancestors 'self' https://web.telegram.org")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	h.h.ServeHTTP(w, r)
}

// SignInLink makes a one-time sign-in link for a manager (the bot's /web).
func (h *Handler) SignInLink(ctx context.Context, managerID string) (string, error) {
	if h.opts.PublicURL == "" {
		return "", errors.New("web: no public URL to link to")
	}
	token, err := h.st.CreateWebLink(ctx, managerID, h.opts.LinkTTL)
	if err != nil {
		return "", err
	}
	return h.opts.PublicURL + Prefix + "/login?t=" + url.QueryEscape(token), nil
}

// home shows a head or an administrator the week's dashboard, sends a manager to the
// clients, anyone else to the sign-in page (which a Mini App's script completes with
// Telegram's init data).
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if v, _ := h.visitOf(r); v != nil && v.m.Active {
		if v.m.Role.SeesAll() {
			h.dashboard(w, r, v)
			return
		}
		http.Redirect(w, r, Prefix+"/clients", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "signin", h.guestPage(r, "signin.title", nil))
}

func (h *Handler) forbiddenOrigin(w http.ResponseWriter, r *http.Request) {
	h.message(w, r, nil, http.StatusForbidden, "refused.csrf")
}
