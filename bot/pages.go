package bot

import (
	"strconv"
	"strings"
)

// listKind names a paged list in its ◀ ▶ buttons. The codes are on the wire, so a
// kind never changes.
type listKind string

const (
	listTasks    listKind = "t" // /tasks
	listToday    listKind = "d" // /today
	listOverdue  listKind = "o" // /overdue
	listClients  listKind = "c" // /clients
	listInbox    listKind = "i" // /inbox
	listFound    listKind = "f" // search results; the query is the last argument
	listManagers listKind = "m" // /managers
	listReassign listKind = "a" // the managers a client can be given to; the client is the argument
	listOrders   listKind = "z" // a client's orders; the client is the argument
)

// Page sizes: what a phone shows without scrolling, and a keyboard Telegram takes
// (at most ten rows with the ◀ ▶ row and the list's own).
const (
	taskPage = 5 // a task is two lines and a row of buttons
	listPage = 8 // clients, letters, managers: a line and a row each
)

// pager cuts a list of total items into pages. The page asked for is clamped: a tap
// on a page that no longer exists (the list shrank) shows the nearest one.
type pager struct {
	kind  listKind
	size  int
	total int
	page  int
	arg   string // what the list needs besides the page (the query, the client)
}

func newPager(kind listKind, size, total, page int, arg string) pager {
	last := 0
	if total > 0 {
		last = (total - 1) / size
	}
	return pager{kind: kind, size: size, total: total, page: min(max(page, 0), last), arg: arg}
}

// span is the page's items: list[from:to].
func (p pager) span() (from, to int) {
	from = p.page * p.size
	return from, min(from+p.size, p.total)
}

// head is the list's title with "1–8 of 37" under it when the list has pages.
func (p pager) head(t *turn, title string) string {
	if p.total <= p.size {
		return title
	}
	from, to := p.span()
	return title + "\n" + t.tr("list.range", "from", from+1, "to", to, "total", p.total)
}

// keys adds the ◀ ▶ row, if any, to a page's buttons.
func (p pager) keys(kb [][]Button) [][]Button {
	if nav := p.nav(); nav != nil {
		return append(kb, nav)
	}
	return kb
}

// nav is the ◀ ▶ row: only the buttons that lead somewhere, nil on a single page.
// A page whose data would not fit a button's 64 bytes (a long query) gets none, and
// the list says to narrow the search instead.
func (p pager) nav() []Button {
	var out []Button
	if p.page > 0 {
		out = append(out, btn("◀", p.data(p.page-1)))
	}
	if (p.page+1)*p.size < p.total {
		out = append(out, btn("▶", p.data(p.page+1)))
	}
	if len(out) == 0 || !p.fits() {
		return nil
	}
	return out
}

func (p pager) data(page int) tapData {
	if p.arg == "" {
		return tapPage.data(p.kind, page)
	}
	return tapPage.data(p.kind, page, p.arg)
}

// maxData is Telegram's limit on a button's callback data, in bytes.
const maxData = 64

func (p pager) fits() bool {
	last := (p.total - 1) / p.size
	return len(p.data(max(last, 0)).s) <= maxData
}

// more says a list goes on where its buttons cannot (see nav).
func (p pager) more() bool {
	return !p.fits() && p.total > p.size
}

const tapPage tap = "pg" // pg:<list>:<page>[:<argument>]

// showPage shows a list: a page tap replaces the page it was under, anything else (a
// command, a button of a card or a digest) sends the list as a new message.
func (t *turn) showPage(text string, kb ...[]Button) {
	if t.u.Callback != nil {
		code, _, _ := strings.Cut(t.u.Callback.Data, ":")
		if code == string(tapPage) || code == string(tapClients) {
			t.show(text, kb...)
			return
		}
	}
	t.say(text, kb...)
}

// turnPage shows another page of a list. The list is read again, so the page shows
// what is there now.
func (t *turn) turnPage(a tapArgs) {
	page, err := strconv.Atoi(a.at(1))
	if err != nil {
		t.notice(t.tr("tap.stale"))
		return
	}
	// The query may hold ':', the separator of the arguments.
	arg := strings.Join(a[min(2, len(a)):], ":")
	switch listKind(a.at(0)) {
	case listTasks:
		t.tasksPage(page)
	case listToday:
		t.todayPage(page)
	case listOverdue:
		t.overduePage(page)
	case listClients:
		t.clientsPage(page)
	case listInbox:
		t.inboxPage(page)
	case listFound:
		if arg == "" {
			t.notice(t.tr("tap.stale"))
			return
		}
		t.foundPage(arg, page)
	case listManagers:
		if !t.m.Role.SeesAll() {
			t.notice(t.tr("head.only"))
			return
		}
		t.managersPage(page)
	case listReassign:
		t.reassignPage(arg, page)
	case listOrders:
		t.ordersPage(arg, page)
	default:
		t.notice(t.tr("tap.stale"))
	}
}
