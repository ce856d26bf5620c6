package web

import (
	"errors"
	"net/http"

	"github.com/crm-team/crm/store"
)

// letterData is a letter read whole: its headers, its text, and its HTML body, which
// the page shows in a sandboxed frame (no scripts, no forms, no same origin: the
// workspace's cookie and pages are out of its reach; the page's CSP, which the frame
// inherits, keeps remote images and their tracking out too).
type letterData struct {
	L        *store.Letter
	ClientID string // a client of the letter the viewer sees, to go back to
}

// letter shows a letter through store.LetterFor, the bot's check: one of a client the
// viewer sees, or one waiting in the unsorted queue; any other is "not found".
func (h *Handler) letter(w http.ResponseWriter, r *http.Request, v *visit) {
	l, err := h.st.LetterFor(r.Context(), v.viewer(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return
	}
	if err != nil {
		h.fail(w, r, v, "read a letter", err)
		return
	}
	d := &letterData{L: l}
	for _, id := range l.Clients {
		if c, err := h.st.Client(r.Context(), id); err == nil && v.viewer().CanSee(c) {
			d.ClientID = c.ID
			break
		}
	}
	p := h.visitPage(v, "clients", "letter.title", d)
	if l.Subject != "" {
		p.Title = l.Subject
	}
	h.render(w, r, http.StatusOK, "letter", p)
}
