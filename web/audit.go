package web

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// auditEntries is how many of the newest audit entries the page shows.
const auditEntries = 100

type auditData struct {
	ClientID, Name string
	Rows           []auditRow
}

type auditRow struct {
	At        time.Time
	Who, What string
	Changes   []string
}

// audit shows who changed what in a client, newest first (store.AuditLog: a cold
// path that scans the log, so it has a page of its own rather than a part of the card).
func (h *Handler) audit(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.viewable(w, r, v, r.PathValue("id"))
	if c == nil {
		return
	}
	log, err := h.st.AuditLog(r.Context(), c.ID, auditEntries)
	if err != nil {
		h.fail(w, r, v, "read the audit log", err)
		return
	}
	_, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	d := &auditData{ClientID: c.ID, Name: c.Name}
	p := h.visitPage(v, "clients", "audit.title", d)
	p.Title = p.T("audit.title") + " · " + c.Name
	for _, e := range log {
		row := auditRow{At: e.At, Who: names[e.ActorID], What: e.Action}
		if row.Who == "" {
			row.Who = e.ActorID
		}
		if t := p.T("audit." + e.Action); t != "audit."+e.Action && t != "" {
			row.What = t
		}
		keys := make([]string, 0, len(e.Changes))
		for k := range e.Changes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := e.Changes[k]
			if k == "contact" {
				if ct, ok := c.Contacts[fmt.Sprint(val)]; ok {
					val = ct.Name
				}
			}
			if k == "managerId" {
				if n, ok := names[fmt.Sprint(val)]; ok {
					val = n
				}
			}
			row.Changes = append(row.Changes, k+": "+auditValue(val))
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "audit", p)
}

// auditValue shows a changed value in a line: lists joined, nothing as a dash.
func auditValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	case time.Time:
		return x.Format("02.01.2006 15:04")
	}
	return fmt.Sprint(v)
}
