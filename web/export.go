package web

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
)

// export writes what the clients table shows as an Excel workbook: every client of
// the filters and the sort (not a page of them), as the viewer may see them, from the
// directory as the table reads it.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, v *visit) {
	f := parseFilters(r.URL.Query())
	cq := f.query(v)
	cq.Limit = math.MaxInt
	res, err := h.st.ClientList(r.Context(), v.viewer(), cq)
	if errors.Is(err, store.ErrInvalid) {
		p := h.visitPage(v, "clients", "clients.title", nil)
		p.Message = err.Error()
		h.render(w, r, http.StatusUnprocessableEntity, "message", p)
		return
	}
	if err != nil {
		h.fail(w, r, v, "list clients to export", err)
		return
	}
	_, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	p := h.visitPage(v, "clients", "clients.title", nil)
	var buf bytes.Buffer
	if err := writeClients(&buf, p, res.Rows, names); err != nil {
		h.fail(w, r, v, "write clients.xlsx", err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	hd.Set("Content-Disposition", "attachment; filename=clients.xlsx")
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// writeClients writes the rows, with the table's columns and the filters' own, in
// the reader's language.
func writeClients(buf *bytes.Buffer, p *page, rows []store.ClientRow, names map[string]string) error {
	x, err := csvio.NewXLSXWriter(p.T("export.sheet"))
	if err != nil {
		return err
	}
	defer x.Close()
	if err := x.Write([]string{p.T("clients.col.name"), p.T("clients.col.stage"), p.T("clients.col.city"),
		p.T("clients.col.industry"), p.T("clients.col.manager"), p.T("export.col.class"), p.T("export.col.atrisk"),
		p.T("export.col.tags"), p.T("export.col.tasks"), p.T("clients.col.created")}); err != nil {
		return err
	}
	yes := func(b bool) string {
		if b {
			return p.T("export.yes")
		}
		return ""
	}
	for _, c := range rows {
		if err := x.Write([]string{c.Name, p.Stage(c.Stage), c.City, c.Industry, names[c.ManagerID], c.Class,
			yes(c.AtRisk), strings.Join(c.Tags, ", "), yes(c.HasTasks), p.Date(c.CreatedAt)}); err != nil {
			return err
		}
	}
	return x.Finish(buf)
}
