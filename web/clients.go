package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crm-team/crm/store"
)

// clientsPageSize is how many clients a page of the table shows.
const clientsPageSize = 50

// clientsData is the clients page: the filters as asked, and a page of the table.
type clientsData struct {
	Q, Stage, Manager, City, Sort string
	Class                         string
	AtRisk                        bool
	Stages                        []store.Stage
	Classes                       []string
	Sorts                         []store.ClientSort
	Team                          []store.Manager // to filter by, for those who see all
	SeesAll                       bool
	Cities                        []string
	Rows                          []clientRow
	Total, From, To               int
	Prev, Next                    string // addresses of the neighbouring pages; "" at an end
	Loading                       bool
	Problem                       string // a search the store refused, and why
}

type clientRow struct {
	store.ClientRow
	ManagerName string
}

// clients is the clients table: the bot's search, filters, sorting and pages.
func (h *Handler) clients(w http.ResponseWriter, r *http.Request, v *visit) {
	q := r.URL.Query()
	d := &clientsData{Q: strings.TrimSpace(q.Get("q")), Stage: q.Get("stage"), Manager: q.Get("manager"),
		City: strings.TrimSpace(q.Get("city")), Sort: q.Get("sort"), Stages: store.Stages, SeesAll: v.m.Role.SeesAll(),
		Class: strings.ToUpper(q.Get("class")), AtRisk: q.Get("risk") == "1", Classes: []string{"A", "B", "C", "X", "Y", "Z"},
		Sorts: []store.ClientSort{store.SortRelevance, store.SortName, store.SortStage, store.SortCity, store.SortNewest}}
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	if !store.ValidClass(d.Class) {
		d.Class = ""
	}
	cq := store.ClientQuery{Text: d.Q, City: d.City, Class: d.Class, AtRisk: d.AtRisk, Sort: store.ClientSort(d.Sort),
		Offset: (pageNo - 1) * clientsPageSize, Limit: clientsPageSize}
	if !slices.Contains(d.Sorts, cq.Sort) {
		cq.Sort, d.Sort = store.SortRelevance, ""
	}
	if st := store.Stage(d.Stage); st.Valid() {
		cq.Stages = []store.Stage{st}
	} else {
		d.Stage = ""
	}
	switch d.Manager {
	case "me":
		cq.Manager = v.m.ID
	case store.NoManager:
		cq.Manager = store.NoManager
	case "":
	default:
		cq.Manager = d.Manager
	}
	team, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	if d.SeesAll {
		d.Team = team
	}
	res, err := h.st.ClientList(r.Context(), v.viewer(), cq)
	switch {
	case errors.Is(err, store.ErrInvalid):
		d.Problem = err.Error()
	case err != nil:
		h.fail(w, r, v, "list clients", err)
		return
	}
	d.Cities, d.Total, d.Loading = res.Cities, res.Total, res.Loading
	for _, row := range res.Rows {
		d.Rows = append(d.Rows, clientRow{ClientRow: row, ManagerName: names[row.ManagerID]})
	}
	if len(d.Rows) > 0 {
		d.From, d.To = cq.Offset+1, cq.Offset+len(d.Rows)
	}
	at := func(n int) string {
		q := url.Values{}
		risk := ""
		if d.AtRisk {
			risk = "1"
		}
		for k, v := range map[string]string{"q": d.Q, "stage": d.Stage, "manager": d.Manager, "city": d.City, "class": d.Class,
			"risk": risk, "sort": d.Sort} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return Prefix + "/clients?" + q.Encode()
	}
	if pageNo > 1 {
		d.Prev = at(pageNo - 1)
	}
	if d.To < d.Total {
		d.Next = at(pageNo + 1)
	}
	h.render(w, r, http.StatusOK, "clients", h.visitPage(v, "clients", "clients.title", d))
}
