package bot

import (
	"errors"
	"strings"

	"github.com/crm-team/crm/store"
)

// headsPage is how many people a page of the heads' view lists (a button each).
const headsPage = 8

const tapHeads tap = "hd" // hd:<offset>

// headsView is the admin's list of whose unanswered letters escalate to whom, a
// button per active person to choose their head.
func (t *turn) headsView(offset int) {
	if t.m.Role != store.RoleAdmin {
		t.notice(t.tr("admin.only"))
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	names := map[string]string{}
	var active []store.Manager
	for _, m := range team {
		names[m.ID] = m.Name
		if m.Active {
			active = append(active, m)
		}
	}
	offset = min(max(offset, 0), max(len(active)-1, 0)/headsPage*headsPage)
	var b strings.Builder
	b.WriteString(t.tr("heads.title"))
	var kb [][]Button
	for _, m := range active[offset:min(offset+headsPage, len(active))] {
		head := names[m.HeadID]
		if head == "" {
			head = t.tr("heads.every")
		}
		b.WriteString("\n" + t.tr("heads.line", "name", m.Name, "head", head))
		kb = append(kb, row(btn(m.Name+" → "+head, tapHeadPick.data(m.ID))))
	}
	var nav []Button
	if offset > 0 {
		nav = append(nav, btn("◀", tapHeads.data(offset-headsPage)))
	}
	if offset+headsPage < len(active) {
		nav = append(nav, btn("▶", tapHeads.data(offset+headsPage)))
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	t.show(b.String(), kb...)
}

const tapHeadPick tap = "hp" // hp:<manager>

// headPick offers the heads one may escalate to: active heads and administrators
// other than the person, and "every head".
func (t *turn) headPick(id string) {
	m := t.headsSubject(id)
	if m == nil {
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	var kb [][]Button
	for _, h := range team {
		if h.Active && h.ID != m.ID && (h.Role == store.RoleHead || h.Role == store.RoleAdmin) && len(kb) < headsPage {
			mark := ""
			if h.ID == m.HeadID {
				mark = "✓ "
			}
			kb = append(kb, row(btn(mark+h.Name, tapHeadSet.data(m.ID, h.ID))))
		}
	}
	kb = append(kb, row(btn(t.tr("btn.head_every"), tapHeadSet.data(m.ID, "-"))), row(btn(t.tr("btn.back"), tapHeads.data(0))))
	t.show(t.tr("heads.choose", "name", m.Name), kb...)
}

const tapHeadSet tap = "hs" // hs:<manager>:<head, or - for none>

func (t *turn) headSet(id, headID string) {
	m := t.headsSubject(id)
	if m == nil {
		return
	}
	if headID == "-" {
		headID = ""
	}
	m, err := t.st.SetManagerHead(t.ctx, t.m.ID, m.ID, headID)
	switch {
	case errors.Is(err, store.ErrInvalid):
		t.notice(t.tr("tap.stale")) // the head left or changed role meanwhile
		t.headPick(id)
		return
	case err != nil:
		t.fail("set head", err)
		return
	}
	if headID == "" {
		t.notice(t.tr("heads.set_every", "name", m.Name))
	} else if h, err := t.st.Manager(t.ctx, headID); err == nil {
		t.notice(t.tr("heads.set", "name", m.Name, "head", h.Name))
	}
	t.headsView(0)
}

// headsSubject reads the active person whose head an admin chooses.
func (t *turn) headsSubject(id string) *store.Manager {
	if t.m.Role != store.RoleAdmin {
		t.notice(t.tr("admin.only"))
		return nil
	}
	m, err := t.st.Manager(t.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read manager", err)
		return nil
	}
	if err != nil || !m.Active {
		t.notice(t.tr("tap.stale"))
		return nil
	}
	return m
}
