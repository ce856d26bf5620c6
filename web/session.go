package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/crm-team/crm/store"
)

// cookieName names the session cookie; its value is the session's secret, the store
// keeps its hash.
const cookieName = "crm_session"

// csrfHeader carries the CSRF token of a script's request; a form sends it as the
// field csrf.
const csrfHeader = "X-CSRF-Token"

// visit is a signed-in manager's request.
type visit struct {
	m  *store.Manager
	ws *store.WebSession
}

func (v *visit) viewer() store.Viewer { return store.Viewer{ManagerID: v.m.ID, Role: v.m.Role} }

// errNoSession: no cookie, or one of no session (ended, expired, forged).
var errNoSession = errors.New("web: not signed in")

// visitOf reads the request's session and its manager: two _id reads.
func (h *Handler) visitOf(r *http.Request) (*visit, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, errNoSession
	}
	ws, err := h.st.WebSession(r.Context(), c.Value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	m, err := h.st.Manager(r.Context(), ws.ManagerID)
	if errors.Is(err, store.ErrNotFound) {
		_ = h.st.EndWebSession(r.Context(), ws.ID)
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	return &visit{m: m, ws: ws}, nil
}

// signedIn runs a page for a signed-in, active manager. A manager whose access was
// turned off has their session ended at their next request; a change (any method
// but GET and HEAD) must carry the session's CSRF token.
func (h *Handler) signedIn(page func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.visitOf(r)
		switch {
		case errors.Is(err, errNoSession):
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
				return
			}
			h.message(w, r, nil, http.StatusUnauthorized, "refused.session")
			return
		case err != nil:
			h.fail(w, r, nil, "read the web session", err)
			return
		case !v.m.Active:
			_ = h.st.EndWebSession(r.Context(), v.ws.ID)
			h.clearCookie(w)
			h.message(w, r, nil, http.StatusForbidden, "refused.off")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !csrfOK(r, v.ws.CSRF) {
			h.message(w, r, v, http.StatusForbidden, "refused.csrf")
			return
		}
		page(w, r, v)
	}
}

func csrfOK(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// startSession opens a session for a manager and sets its cookie.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, m *store.Manager, via string) error {
	secret, ws, err := h.st.CreateWebSession(ctx, m.ID, via, h.opts.SessionTTL)
	if err != nil {
		return err
	}
	c := &http.Cookie{Name: cookieName, Value: secret, Path: Prefix, Expires: ws.ExpiresAt,
		MaxAge: int(h.opts.SessionTTL / time.Second), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
	if via == "telegram" && h.secure {
		// web.telegram.org shows the Mini App in a frame of its own site, where a Lax
		// cookie is not sent: this one is kept for the frame alone (partitioned by the
		// top site). Changes still need the CSRF token and a same-origin request.
		c.SameSite, c.Partitioned = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, c)
	return nil
}

func (h *Handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteLaxMode})
}

// signOut ends the session.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := h.st.EndWebSession(r.Context(), v.ws.ID); err != nil {
		h.fail(w, r, v, "end a web session", err)
		return
	}
	h.clearCookie(w)
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

// team reads the team (a small collection) and each one's name by ID.
func (h *Handler) team(ctx context.Context) ([]store.Manager, map[string]string, error) {
	team, err := h.st.Managers(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(team))
	for _, m := range team {
		names[m.ID] = m.Name
	}
	return team, names, nil
}
