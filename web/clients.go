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

// filters are the clients' filters as a query string gives them: the table, the
// board and the export read them alike.
type filters struct {
	Q, Stage, Manager, City, Industry, Tags, Sort string
	Class                                         string
	AtRisk, HasTasks                              bool
}

// clientSorts are the orders the table offers.
var clientSorts = []store.ClientSort{store.SortRelevance, store.SortName, store.SortStage, store.SortCity, store.SortNewest}

// parseFilters reads the filters; one it does not know is dropped.
func parseFilters(q url.Values) filters {
	f := filters{Q: strings.TrimSpace(q.Get("q")), Stage: q.Get("stage"), Manager: q.Get("manager"),
		City: strings.TrimSpace(q.Get("city")), Industry: strings.TrimSpace(q.Get("industry")),
		Tags: strings.TrimSpace(q.Get("tags")), Sort: q.Get("sort"), Class: strings.ToUpper(q.Get("class")),
		AtRisk: q.Get("risk") == "1", HasTasks: q.Get("tasks") == "1"}
	if !store.ValidClass(f.Class) {
		f.Class = ""
	}
	if !slices.Contains(clientSorts, store.ClientSort(f.Sort)) {
		f.Sort = ""
	}
	if !store.Stage(f.Stage).Valid() {
		f.Stage = ""
	}
	return f
}

// query is the store's query of the filters, for a viewer.
func (f filters) query(v *visit) store.ClientQuery {
	cq := store.ClientQuery{Text: f.Q, City: f.City, Industry: f.Industry, Class: f.Class, AtRisk: f.AtRisk,
		HasTasks: f.HasTasks, Sort: store.ClientSort(f.Sort)}
	if f.Stage != "" {
		cq.Stages = []store.Stage{store.Stage(f.Stage)}
	}
	for t := range strings.SplitSeq(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cq.Tags = append(cq.Tags, t)
		}
	}
	switch f.Manager {
	case "me":
		cq.Manager = v.m.ID
	default:
		cq.Manager = f.Manager // NoManager ("-") or a manager's ID
	}
	return cq
}

// values is the filters as a query string, without empty ones.
func (f filters) values() url.Values {
	q := url.Values{}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	for k, v := range map[string]string{"q": f.Q, "stage": f.Stage, "manager": f.Manager, "city": f.City,
		"industry": f.Industry, "tags": f.Tags, "class": f.Class, "risk": flag(f.AtRisk), "tasks": flag(f.HasTasks),
		"sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Any says whether a filter is set.
func (f filters) Any() bool { return len(f.values()) > 0 }

// addr is a page's address with the filters, and changes of them (name, value pairs).
func (f filters) addr(path string, set ...string) string {
	q := f.values()
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			q.Del(set[i])
		} else {
			q.Set(set[i], set[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// filterForm is what the filters' form offers, on the table and on the board.
type filterForm struct {
	filters
	Action                 string // the page the form asks
	Board                  bool   // no stage nor sort to choose: columns are the stages
	Stages                 []store.Stage
	Classes                []string
	Sorts                  []store.ClientSort
	Team                   []store.Manager // to filter by, for those who see all
	SeesAll                bool
	Cities, Industries     []string
	Export, Table, BoardAt string // the same filters' export, table and board
}

func newFilterForm(f filters, v *visit, action string, team []store.Manager, page store.ClientPage) filterForm {
	ff := filterForm{filters: f, Action: action, Board: action == Prefix+"/board", Stages: store.Stages,
		Classes: []string{"A", "B", "C", "X", "Y", "Z"}, Sorts: clientSorts, SeesAll: v.m.Role.SeesAll(),
		Cities: page.Cities, Industries: page.Industries,
		Export: f.addr(Prefix + "/clients.xlsx"), Table: f.addr(Prefix + "/clients"), BoardAt: f.addr(Prefix+"/board", "stage", "")}
	if ff.SeesAll {
		ff.Team = team
	}
	return ff
}

// clientsData is the clients page: the filters as asked, and a page of the table.
type clientsData struct {
	filterForm
	Rows            []clientRow
	Total, From, To int
	Prev, Next      string // addresses of the neighbouring pages; "" at an end
	Loading         bool
	Problem         string // a search the store refused, and why
}

type clientRow struct {
	store.ClientRow
	ManagerName string
}

// clients is the clients table: the bot's search, filters, sorting and pages.
func (h *Handler) clients(w http.ResponseWriter, r *http.Request, v *visit) {
	f := parseFilters(r.URL.Query())
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pageNo = max(pageNo, 1)
	cq := f.query(v)
	cq.Offset, cq.Limit = (pageNo-1)*clientsPageSize, clientsPageSize
	team, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	d := &clientsData{}
	res, err := h.st.ClientList(r.Context(), v.viewer(), cq)
	switch {
	case errors.Is(err, store.ErrInvalid):
		d.Problem = err.Error()
	case err != nil:
		h.fail(w, r, v, "list clients", err)
		return
	}
	d.filterForm = newFilterForm(f, v, Prefix+"/clients", team, res)
	d.Total, d.Loading = res.Total, res.Loading
	for _, row := range res.Rows {
		d.Rows = append(d.Rows, clientRow{ClientRow: row, ManagerName: names[row.ManagerID]})
	}
	if len(d.Rows) > 0 {
		d.From, d.To = cq.Offset+1, cq.Offset+len(d.Rows)
	}
	if pageNo > 1 {
		d.Prev = f.addr(Prefix+"/clients", "page", pageNoText(pageNo-1))
	}
	if d.To < d.Total {
		d.Next = f.addr(Prefix+"/clients", "page", pageNoText(pageNo+1))
	}
	h.render(w, r, http.StatusOK, "clients", h.visitPage(v, "clients", "clients.title", d))
}

// pageNoText is a page's number in an address; the first has none.
func pageNoText(n int) string {
	if n <= 1 {
		return ""
	}
	return strconv.Itoa(n)
}
