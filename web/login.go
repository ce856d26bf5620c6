package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/crm-team/crm/store"
)

// linkPage shows a sign-in link's page: a button that signs in, or why the link no
// longer works. Opening it spends nothing, so a messenger's link preview, which
// fetches the address, cannot use the link up.
func (h *Handler) linkPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	ok, err := h.st.WebLinkValid(r.Context(), token)
	if err != nil {
		h.fail(w, r, nil, "read a sign-in link", err)
		return
	}
	if !ok {
		h.linkInvalid(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "link", h.guestPage(r, "link.title", token))
}

func (h *Handler) linkInvalid(w http.ResponseWriter, r *http.Request) {
	p := h.guestPage(r, "link.invalid.title", nil)
	p.Message = p.T("link.invalid")
	h.render(w, r, http.StatusGone, "message", p)
}

// linkSignIn spends a sign-in link and opens a session.
func (h *Handler) linkSignIn(w http.ResponseWriter, r *http.Request) {
	id, err := h.st.UseWebLink(r.Context(), r.PostFormValue("t"))
	if errors.Is(err, store.ErrWebLinkInvalid) {
		h.linkInvalid(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, nil, "use a sign-in link", err)
		return
	}
	m, err := h.st.Manager(r.Context(), id)
	if err != nil {
		h.fail(w, r, nil, "read the manager of a sign-in link", err)
		return
	}
	h.signIn(w, r, m, "link")
}

// signIn opens a session for an active manager (ending the browser's previous one)
// and goes to the clients; a manager whose access is off is refused.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, m *store.Manager, via string) {
	if !m.Active {
		h.message(w, r, nil, http.StatusForbidden, "refused.off")
		return
	}
	if old, _ := h.visitOf(r); old != nil {
		_ = h.st.EndWebSession(r.Context(), old.ws.ID)
	}
	if err := h.startSession(r.Context(), w, m, via); err != nil {
		h.fail(w, r, nil, "open a web session", err)
		return
	}
	if via == "telegram" {
		writeJSON(w, http.StatusOK, map[string]string{"go": Prefix + "/clients"})
		return
	}
	http.Redirect(w, r, Prefix+"/clients", http.StatusSeeOther)
}

// telegramSignIn signs in the Mini App's user by the init data its script posts
// (form field initData). It answers JSON: where to go, or why not.
func (h *Handler) telegramSignIn(w http.ResponseWriter, r *http.Request) {
	lang := h.guestLang(r)
	u, err := checkInitData(r.PostFormValue("initData"), h.opts.BotToken, h.now(), h.opts.InitDataAge)
	if err != nil {
		h.log.Warn("web: Telegram init data refused", "err", err, "remote", r.RemoteAddr)
		why := h.texts.Lookup(lang, initDataWhy[err])
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": h.texts.Lookup(lang, "signin.telegram.failed", "why", why)})
		return
	}
	m, err := h.st.ManagerByTelegram(r.Context(), u.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusForbidden, map[string]string{"error": h.texts.Lookup(lang, "refused.stranger")})
		return
	case err != nil:
		h.log.Error("web: look up a Telegram user", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": h.texts.Lookup(lang, "error.internal")})
		return
	case !m.Active:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": h.texts.Lookup(m.Language, "refused.off")})
		return
	}
	h.signIn(w, r, m, "telegram")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
