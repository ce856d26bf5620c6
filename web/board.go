package web

import (
	"errors"
	"net/http"

	"github.com/crm-team/crm/store"
)

// boardColumnSize is how many cards a board's column shows; the rest are a link to
// the table filtered by that stage.
const boardColumnSize = 50

// boardData is the board: a column a stage of the funnel, with the table's filters.
type boardData struct {
	filterForm
	Columns      []boardColumn
	Total        int
	Loading      bool
	Problem      string
	Refusals     []store.RefusalCode
	Code, Reason string // none chosen: the reasons' form is shared with the move page
	Back         string // this board's address, where a move without the script returns
}

type boardColumn struct {
	Stage       store.Stage
	Mark        string
	Red         bool
	Cards       []boardCard
	Total, More int
	MoreAt      string // the table of the stage's clients, with the board's filters
}

type boardCard struct {
	store.ClientRow
	ManagerName string
	Editable    bool // the viewer may move it: as the bot, their own, or any for a head
}

// board shows the clients the viewer sees by stage, read from the directory as the
// table is: a column holds its first boardColumnSize cards.
func (h *Handler) board(w http.ResponseWriter, r *http.Request, v *visit) {
	f := parseFilters(r.URL.Query())
	f.Stage = "" // the columns are the stages
	team, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	d := &boardData{Refusals: store.RefusalCodes, Back: f.addr(Prefix + "/board")}
	cols, res, err := h.st.ClientBoard(r.Context(), v.viewer(), f.query(v), boardColumnSize)
	switch {
	case errors.Is(err, store.ErrInvalid):
		d.Problem = err.Error()
	case err != nil:
		h.fail(w, r, v, "list the board", err)
		return
	}
	d.filterForm = newFilterForm(f, v, Prefix+"/board", team, res)
	d.Total, d.Loading = res.Total, res.Loading
	if cols == nil { // a search the store refused: the columns, empty
		for _, st := range store.Stages {
			cols = append(cols, store.BoardColumn{Stage: st})
		}
	}
	for _, c := range cols {
		col := boardColumn{Stage: c.Stage, Mark: c.Stage.Mark(), Red: c.Stage.Red(), Total: c.Total,
			More: c.Total - len(c.Rows), MoreAt: f.addr(Prefix+"/clients", "stage", string(c.Stage))}
		for _, row := range c.Rows {
			col.Cards = append(col.Cards, boardCard{ClientRow: row, ManagerName: names[row.ManagerID],
				Editable: canMove(v, row.ManagerID)})
		}
		d.Columns = append(d.Columns, col)
	}
	p := h.visitPage(v, "board", "board.title", d)
	h.render(w, r, http.StatusOK, "board", p)
}

// canMove is the bot's rule for changing a client: a head or admin any, a manager
// their own; an unassigned client is taken first.
func canMove(v *visit, managerID string) bool {
	return v.m.Role.SeesAll() || managerID == v.m.ID
}
