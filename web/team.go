package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/crm-team/crm/store"
)

// The team, for an administrator, as the bot's /invite and /managers give it: the
// same store calls with the same checks (an administrator changes everyone but
// themselves, so the team always keeps one).

// teamData is the team page: the list, and what the last action did.
type teamData struct {
	Rows    []teamRow
	Roles   []store.Role
	Invite  *inviteMade // an invitation just made
	Done    string      // what was done, in words
	Problem string      // what was refused, and why
}

type inviteMade struct {
	Link, Role, Until string
}

type teamRow struct {
	store.Manager
	Me       bool
	Clients  int             // a deactivated manager's, to hand over
	Tasks    int             // their open tasks
	HandTo   []store.Manager // whom they can go to: the active team but them
	Telegram bool
}

// teamPage lists the team.
func (h *Handler) teamPage(w http.ResponseWriter, r *http.Request, v *visit) {
	if !h.adminOnly(w, r, v) {
		return
	}
	h.renderTeam(w, r, v, http.StatusOK, &teamData{})
}

// adminOnly refuses anyone but an administrator, as the bot does.
func (h *Handler) adminOnly(w http.ResponseWriter, r *http.Request, v *visit) bool {
	if v.m.Role != store.RoleAdmin {
		h.message(w, r, v, http.StatusForbidden, "team.admin_only")
		return false
	}
	return true
}

// renderTeam shows the team with d's news; a deactivated manager's clients and open
// tasks are counted for the handover (the team is small).
func (h *Handler) renderTeam(w http.ResponseWriter, r *http.Request, v *visit, status int, d *teamData) {
	team, _, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	d.Roles = []store.Role{store.RoleManager, store.RoleHead, store.RoleAdmin}
	for _, m := range team {
		row := teamRow{Manager: m, Me: m.ID == v.m.ID, Telegram: m.TelegramID != 0}
		if !m.Active {
			if _, row.Clients, err = h.st.ManagerClients(r.Context(), m.ID, 0, 0); err != nil {
				h.fail(w, r, v, "count a manager's clients", err)
				return
			}
			tasks, err := h.st.OpenTasks(r.Context(), m.ID)
			if err != nil {
				h.fail(w, r, v, "count a manager's tasks", err)
				return
			}
			row.Tasks = len(tasks)
			for _, x := range team {
				if x.Active && x.ID != m.ID {
					row.HandTo = append(row.HandTo, x)
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, status, "team", h.visitPage(v, "team", "team.title", d))
}

// teamProblem shows the team with a refusal: nothing was changed.
func (h *Handler) teamProblem(w http.ResponseWriter, r *http.Request, v *visit, key string, args ...string) {
	p := h.visitPage(v, "team", "team.title", nil)
	h.renderTeam(w, r, v, http.StatusBadRequest, &teamData{Problem: p.T(key, args...)})
}

// teamDone shows the team with what was done.
func (h *Handler) teamDone(w http.ResponseWriter, r *http.Request, v *visit, d *teamData, key string, args ...string) {
	d.Done = h.visitPage(v, "team", "team.title", nil).T(key, args...)
	h.renderTeam(w, r, v, http.StatusOK, d)
}

// teamInvite makes a one-time invitation, as /invite does, and shows its link.
func (h *Handler) teamInvite(w http.ResponseWriter, r *http.Request, v *visit) {
	if !h.adminOnly(w, r, v) {
		return
	}
	role := store.Role(strings.ToLower(strings.TrimSpace(r.PostFormValue("role"))))
	if !role.Valid() {
		h.teamProblem(w, r, v, "team.bad_role")
		return
	}
	inv, err := h.st.CreateInvite(r.Context(), v.m.ID, role, r.PostFormValue("name"), h.opts.InviteTTL)
	if err != nil {
		h.fail(w, r, v, "create an invitation", err)
		return
	}
	link := "/start " + inv.ID
	if h.opts.InviteLink != nil {
		link = h.opts.InviteLink(inv.ID)
	}
	p := h.visitPage(v, "team", "team.title", nil)
	d := &teamData{Invite: &inviteMade{Link: link, Role: p.T("role." + string(role)), Until: p.Time(inv.ExpiresAt)}}
	h.renderTeam(w, r, v, http.StatusOK, d)
}

// teammate reads the manager an action is about: another one on the team. The
// administrator themselves is refused, as in the bot.
func (h *Handler) teammate(w http.ResponseWriter, r *http.Request, v *visit) *store.Manager {
	if !h.adminOnly(w, r, v) {
		return nil
	}
	id := r.PathValue("id")
	if id == v.m.ID {
		h.teamProblem(w, r, v, "team.not_yourself")
		return nil
	}
	m, err := h.st.Manager(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil
	}
	if err != nil {
		h.fail(w, r, v, "read a manager", err)
		return nil
	}
	return m
}

// teamRole changes a teammate's role.
func (h *Handler) teamRole(w http.ResponseWriter, r *http.Request, v *visit) {
	m := h.teammate(w, r, v)
	if m == nil {
		return
	}
	role := store.Role(r.PostFormValue("role"))
	if !role.Valid() {
		h.teamProblem(w, r, v, "team.bad_role")
		return
	}
	if _, err := h.st.UpdateManager(r.Context(), v.m.ID, m.ID, map[string]any{"role": string(role)}); err != nil {
		h.fail(w, r, v, "change a role", err)
		return
	}
	p := h.visitPage(v, "team", "team.title", nil)
	h.teamDone(w, r, v, &teamData{}, "team.role_set", "name", m.Name, "role", p.T("role."+string(role)))
}

// teamOff turns a teammate's access off, as the bot's confirmed deactivation does:
// their web sessions end at their next request; the page then offers the handover.
func (h *Handler) teamOff(w http.ResponseWriter, r *http.Request, v *visit) {
	h.teamActive(w, r, v, false, "team.off_done")
}

// teamOn undoes it; what was handed over meanwhile stays where it went.
func (h *Handler) teamOn(w http.ResponseWriter, r *http.Request, v *visit) {
	h.teamActive(w, r, v, true, "team.on_done")
}

func (h *Handler) teamActive(w http.ResponseWriter, r *http.Request, v *visit, active bool, done string) {
	m := h.teammate(w, r, v)
	if m == nil {
		return
	}
	if _, err := h.st.UpdateManager(r.Context(), v.m.ID, m.ID, map[string]any{"active": active}); err != nil {
		h.fail(w, r, v, "turn a manager's access on or off", err)
		return
	}
	h.teamDone(w, r, v, &teamData{}, done, "name", m.Name)
}

// teamHandover gives a teammate's clients and open tasks to an active other one.
func (h *Handler) teamHandover(w http.ResponseWriter, r *http.Request, v *visit) {
	from := h.teammate(w, r, v)
	if from == nil {
		return
	}
	to, err := h.st.Manager(r.Context(), r.PostFormValue("to"))
	if errors.Is(err, store.ErrNotFound) || err == nil && (!to.Active || to.ID == from.ID) {
		h.teamProblem(w, r, v, "team.bad_target")
		return
	}
	if err != nil {
		h.fail(w, r, v, "read a manager", err)
		return
	}
	ho, err := h.st.HandOver(r.Context(), v.m.ID, from.ID, to.ID)
	if errors.Is(err, store.ErrInvalid) {
		h.renderTeam(w, r, v, http.StatusBadRequest, &teamData{Problem: err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, v, "hand over", err)
		return
	}
	if n := h.opts.Given; n != nil && to.ID != v.m.ID {
		if err := n.NotifyClientsGiven(context.WithoutCancel(r.Context()), v.m.Name, to.ID, from.Name, ho.Clients, ho.Tasks); err != nil {
			h.log.Warn("web: tell a manager of clients handed over", "manager", to.ID, "err", err)
		}
	}
	h.teamDone(w, r, v, &teamData{}, "team.handed", "from", from.Name, "to", to.Name,
		"clients", strconv.Itoa(ho.Clients), "tasks", strconv.Itoa(ho.Tasks))
}
