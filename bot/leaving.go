package bot

import (
	"context"
	"errors"

	"github.com/crm-team/crm/store"
)

// A manager who leaves: the admin confirms turning their access off, may undo it, and
// is offered to hand their clients and open tasks to someone on the team, who is told.

// teammate reads another manager for the admin's team taps; anyone else is refused.
func (t *turn) teammate(id string) *store.Manager {
	if t.m.Role != store.RoleAdmin || id == t.m.ID {
		t.notice(t.tr("admin.only"))
		return nil
	}
	m, err := t.st.Manager(t.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		t.notice(t.tr("tap.stale"))
		return nil
	}
	if err != nil {
		t.fail("read manager", err)
		return nil
	}
	return m
}

const tapDeactivateYes tap = "mdy" // mdy:<manager>

// deactivateYes turns the manager's access off and offers the handover and the undo.
func (t *turn) deactivateYes(id string) {
	m := t.teammate(id)
	if m == nil {
		return
	}
	m, err := t.st.UpdateManager(t.ctx, t.m.ID, m.ID, map[string]any{"active": false})
	if err != nil {
		t.fail("deactivate manager", err)
		return
	}
	t.notice(t.tr("managers.deactivated", "name", m.Name))
	t.handoverMenu(m, 0)
}

// handoverPage is how many managers the handover offers at a time (two a row).
const handoverPage = 10

const tapHandoverMenu tap = "mo" // mo:<manager>:<offset>

// handoverMenu says what the manager leaves and offers whom to give it to, a page of
// the active team at a time, with the undo under it.
func (t *turn) handoverMenu(m *store.Manager, offset int) {
	_, clients, err := t.st.ManagerClients(t.ctx, m.ID, 0, 0)
	if err != nil {
		t.fail("count clients", err)
		return
	}
	tasks, err := t.st.OpenTasks(t.ctx, m.ID)
	if err != nil {
		t.fail("count tasks", err)
		return
	}
	text := t.tr("managers.off", "name", m.Name)
	var undo [][]Button
	if m.Active {
		text = t.tr("managers.active", "name", m.Name)
	} else {
		undo = append(undo, row(btn(t.tr("btn.undo_deactivate"), tapReactivate.data(m.ID))))
	}
	if clients == 0 && len(tasks) == 0 {
		t.show(text+"\n"+t.tr("managers.has_nothing"), undo...)
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	var to []store.Manager
	for _, x := range team {
		if x.Active && x.ID != m.ID {
			to = append(to, x)
		}
	}
	offset = min(max(offset, 0), max(len(to)-1, 0))
	var kb [][]Button
	var line []Button
	for _, x := range to[offset:min(offset+handoverPage, len(to))] {
		line = append(line, btn("→ "+x.Name, tapHandover.data(m.ID, x.ID)))
		if len(line) == 2 {
			kb, line = append(kb, line), nil
		}
	}
	if len(line) > 0 {
		kb = append(kb, line)
	}
	var nav []Button
	if offset > 0 {
		nav = append(nav, btn("◀", tapHandoverMenu.data(m.ID, max(offset-handoverPage, 0))))
	}
	if offset+handoverPage < len(to) {
		nav = append(nav, btn("▶", tapHandoverMenu.data(m.ID, offset+handoverPage)))
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	t.show(text+"\n"+t.tr("managers.has", "clients", clients, "tasks", len(tasks)), append(kb, undo...)...)
}

func (t *turn) handoverPageTap(id, offset string) {
	if m := t.teammate(id); m != nil {
		t.handoverMenu(m, atoi(offset))
	}
}

const tapReactivate tap = "mu" // mu:<manager>

// reactivate undoes the deactivation: the manager's access is back. What was handed
// over meanwhile stays where it went.
func (t *turn) reactivate(id string) {
	m := t.teammate(id)
	if m == nil {
		return
	}
	m, err := t.st.UpdateManager(t.ctx, t.m.ID, m.ID, map[string]any{"active": true})
	if err != nil {
		t.fail("reactivate manager", err)
		return
	}
	t.notice(t.tr("managers.restored", "name", m.Name))
	t.show(t.tr("managers.restored", "name", m.Name))
}

const tapHandover tap = "mh" // mh:<from>:<to>

// handover gives the manager's clients and open tasks to another and tells them.
func (t *turn) handover(fromID, toID string) {
	from := t.teammate(fromID)
	if from == nil {
		return
	}
	to, err := t.st.Manager(t.ctx, toID)
	if err != nil || !to.Active || to.ID == from.ID {
		t.notice(t.tr("tap.stale"))
		return
	}
	t.answerNow(t.tr("managers.handing"))
	h, err := t.st.HandOver(t.ctx, t.m.ID, from.ID, to.ID)
	if err != nil {
		t.fail("hand over", err)
		return
	}
	var undo [][]Button
	if !from.Active {
		undo = append(undo, row(btn(t.tr("btn.undo_deactivate"), tapReactivate.data(from.ID))))
	}
	t.show(t.tr("managers.handed", "from", from.Name, "to", to.Name, "clients", h.Clients, "tasks", h.Tasks), undo...)
	t.tellGiven(to.ID, func(tr func(string, ...any) string) (string, []Button) {
		return tr("given.clients", "by", t.m.Name, "from", from.Name, "clients", h.Clients, "tasks", h.Tasks),
			row(btn(tr("btn.my_clients"), tapClients.data(0)))
	})
}

// tellGiven tells a manager that clients were given to them (not when they took them
// themselves), in their language, with a button; a failure is only logged: the
// change is made.
func (t *turn) tellGiven(managerID string, say func(tr func(string, ...any) string) (string, []Button)) {
	if managerID == t.m.ID {
		return
	}
	if err := t.sayGiven(context.WithoutCancel(t.ctx), managerID, say); err != nil {
		t.log.Warn("tell a manager of clients given", "manager", managerID, "err", err)
	}
}

func (b *Bot) sayGiven(ctx context.Context, managerID string, say func(tr func(string, ...any) string) (string, []Button)) error {
	m, ok, err := b.recipient(ctx, managerID)
	if !ok {
		return err
	}
	text, buttons := say(func(key string, args ...any) string { return b.texts.get(m.Language, key, args...) })
	return b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: text, Buttons: [][]Button{buttons}})
}

// NotifyClientGiven tells a manager that someone gave them a client elsewhere (in the
// web workspace), as the bot's own reassign does.
func (b *Bot) NotifyClientGiven(ctx context.Context, by, managerID, clientID, clientName string) error {
	return b.sayGiven(ctx, managerID, func(tr func(string, ...any) string) (string, []Button) {
		return tr("given.client", "by", by, "name", clientName), row(btn(tr("btn.card"), tapCard.data(clientID)))
	})
}

// NotifyClientsGiven tells a manager that someone handed them another's clients and
// tasks elsewhere (in the web workspace), as the bot's own handover does.
func (b *Bot) NotifyClientsGiven(ctx context.Context, by, managerID, from string, clients, tasks int) error {
	return b.sayGiven(ctx, managerID, func(tr func(string, ...any) string) (string, []Button) {
		return tr("given.clients", "by", by, "from", from, "clients", clients, "tasks", tasks), row(btn(tr("btn.my_clients"), tapClients.data(0)))
	})
}
