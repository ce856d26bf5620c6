package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/crm-team/crm/store"
)

// refusalOther is the reason "other", typed in words (the bot's button of that name).
const refusalOther = "other"

// moveData is the page that moves a client to another stage without the board's
// script, and asks a red stage's reason.
type moveData struct {
	C            *store.Client
	To           store.Stage
	Stages       []store.Stage
	Refusals     []store.RefusalCode
	Code, Reason string
	Back         string
	Problem      string
}

// moveRefusal is a move's refusal: from the form, a quick reason's code (kept with
// its words in the viewer's language, as the bot keeps it) or one in words.
type moveRefusal struct {
	to           store.Stage
	code, reason string
}

func moveForm(r *http.Request) moveRefusal {
	return moveRefusal{to: store.Stage(r.FormValue("stage")), code: r.FormValue("code"),
		reason: strings.TrimSpace(r.FormValue("reason"))}
}

// refusal is the store's Refusal, or the text key of what is wrong with it.
func (m moveRefusal) refusal(p *page) (store.Refusal, string) {
	switch {
	case !m.to.Valid():
		return store.Refusal{}, "board.stage.unknown"
	case !m.to.Red():
		return store.Refusal{}, ""
	case m.code != "" && m.code != refusalOther && slices.Contains(store.RefusalCodes, store.RefusalCode(m.code)):
		return store.Refusal{Code: store.RefusalCode(m.code), Reason: p.T("board.refusal." + m.code)}, ""
	case (m.code == "" || m.code == refusalOther) && m.reason != "":
		return store.Refusal{Reason: m.reason}, ""
	}
	return store.Refusal{}, "board.reason.needed"
}

// backTo is where a move without the script returns: a page of the workspace the
// form names, else the client's card.
func backTo(r *http.Request, clientID string) string {
	back := r.FormValue("back")
	if strings.HasPrefix(back, Prefix+"/") && !strings.ContainsAny(back, "\\\r\n") {
		return back
	}
	return Prefix + "/clients/" + clientID
}

// movable reads a client the viewer may move, as the bot's editable does: another
// manager's client is "not found"; an unassigned one is taken first. It answers the
// refusal itself and gives nil then.
func (h *Handler) movable(w http.ResponseWriter, r *http.Request, v *visit, p *page) *store.Client {
	c, err := h.st.Client(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && !v.viewer().CanSee(c):
		h.moveRefused(w, r, v, p, nil, http.StatusNotFound, p.T("refused.notfound"))
	case err != nil:
		h.fail(w, r, v, "read a client", err)
	case !canMove(v, c.ManagerID):
		h.moveRefused(w, r, v, p, c, http.StatusForbidden, p.T("board.take_first"))
	default:
		return c
	}
	return nil
}

// wantsJSON: the board's script asks for JSON; a form gets pages.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// moveRefused says why nothing was moved: JSON to the script; to a form, the move
// page again with the problem (or a page of the refusal, without a client to show).
func (h *Handler) moveRefused(w http.ResponseWriter, r *http.Request, v *visit, p *page, c *store.Client, status int, why string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": why})
		return
	}
	if c == nil {
		p.Message = why
		h.render(w, r, status, "message", p)
		return
	}
	m := moveForm(r)
	d := &moveData{C: c, To: m.to, Stages: store.Stages, Refusals: store.RefusalCodes, Code: m.code, Reason: m.reason,
		Back: backTo(r, c.ID), Problem: why}
	p.Data = d
	p.Title = p.T("board.move.title", "name", c.Name)
	h.render(w, r, status, "move", p)
}

// movePage is the form to move a client (the board's "move" without its script).
func (h *Handler) movePage(w http.ResponseWriter, r *http.Request, v *visit) {
	p := h.visitPage(v, "board", "board.move", nil)
	c := h.movable(w, r, v, p)
	if c == nil {
		return
	}
	to := store.Stage(r.FormValue("stage"))
	if !to.Valid() {
		to = c.Stage
	}
	p.Data = &moveData{C: c, To: to, Stages: store.Stages, Refusals: store.RefusalCodes, Back: backTo(r, c.ID)}
	p.Title = p.T("board.move.title", "name", c.Name)
	h.render(w, r, http.StatusOK, "move", p)
}

// moveStage moves a client to the stage posted, with the store's MoveStage as the
// bot does; a red stage needs its reason. Bad input changes nothing and says why.
func (h *Handler) moveStage(w http.ResponseWriter, r *http.Request, v *visit) {
	p := h.visitPage(v, "board", "board.move", nil)
	c := h.movable(w, r, v, p)
	if c == nil {
		return
	}
	m := moveForm(r)
	why, problem := m.refusal(p)
	if problem != "" {
		h.moveRefused(w, r, v, p, c, http.StatusUnprocessableEntity, p.T(problem))
		return
	}
	if c.Stage != m.to {
		moved, err := h.st.MoveStage(r.Context(), v.m.ID, c.ID, m.to, why)
		switch {
		case errors.Is(err, store.ErrNotFound):
			h.moveRefused(w, r, v, p, nil, http.StatusNotFound, p.T("refused.notfound"))
			return
		case errors.Is(err, store.ErrInvalid):
			h.moveRefused(w, r, v, p, c, http.StatusUnprocessableEntity, err.Error())
			return
		case err != nil:
			h.fail(w, r, v, "move a client's stage", err)
			return
		}
		c = moved
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"stage": string(c.Stage),
			"text": p.T("board.moved", "name", c.Name, "stage", p.Stage(c.Stage))})
		return
	}
	http.Redirect(w, r, backTo(r, c.ID), http.StatusSeeOther)
}
