package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// stranger answers someone who is not on the team: /start with a valid invite makes
// them a manager; anything else gets a polite refusal, at most once a minute.
func (b *Bot) stranger(ctx context.Context, u Update) []Reply {
	lang := b.texts.pickLang(u.User.LanguageCode)
	cmd, code, _ := strings.Cut(strings.TrimSpace(u.Text), " ")
	if u.Callback == nil && cmd == "/start" && strings.TrimSpace(code) != "" {
		m := &store.Manager{TelegramID: u.User.ID, Name: strings.TrimSpace(u.User.FirstName + " " + u.User.LastName), Language: lang}
		if m.Name == "" {
			m.Name = u.User.Username
		}
		err := b.st.RedeemInvite(ctx, strings.TrimSpace(code), m)
		switch {
		case err == nil:
			b.log.Info("manager joined by invite", "manager", m.ID, "role", m.Role, "telegram_user", u.User.ID)
			text := b.texts.get(lang, "start.welcome", "name", m.Name, "role", b.texts.get(lang, "role."+string(m.Role))) +
				"\n\n" + b.texts.get(lang, "help")
			return []Reply{{ChatID: u.ChatID, Text: text}}
		case errors.Is(err, store.ErrInviteInvalid), errors.Is(err, store.ErrInvalid):
		default:
			b.log.Error("redeem invite", "telegram_user", u.User.ID, "err", err)
			return []Reply{{ChatID: u.ChatID, Text: b.texts.get(lang, "error.internal")}}
		}
	}
	return b.refuse(u, b.texts.get(lang, "start.refused"))
}

// refuse answers someone the bot does not serve with text, at most once a minute.
func (b *Bot) refuse(u Update, text string) []Reply {
	var out []Reply
	if u.Callback != nil {
		out = append(out, Reply{ChatID: u.ChatID, CallbackID: u.Callback.ID})
	}
	if b.refusals.allow(u.User.ID, b.now()) {
		out = append(out, Reply{ChatID: u.ChatID, Text: text})
	}
	return out
}

// invite is the admin's /invite [role] [name].
func (t *turn) invite(arg string) {
	if t.m.Role != store.RoleAdmin {
		t.say(t.tr("admin.only"))
		return
	}
	roleArg, name, _ := strings.Cut(arg, " ")
	role := store.Role(strings.ToLower(strings.TrimSpace(roleArg)))
	if role == "" {
		role = store.RoleManager
	}
	if !role.Valid() {
		t.say(t.tr("invite.usage"))
		return
	}
	inv, err := t.st.CreateInvite(t.ctx, t.m.ID, role, name, t.opts.InviteTTL)
	if err != nil {
		t.fail("create invite", err)
		return
	}
	link := "/start " + inv.ID
	if t.opts.InviteLink != nil {
		link = t.opts.InviteLink(inv.ID)
	}
	t.say(t.tr("invite.made", "role", t.tr("role."+string(role)), "link", link, "until", t.whenFull(inv.ExpiresAt)))
}

func (t *turn) managers() { t.managersPage(0) }

// managersPage shows a page of the team, with an admin's buttons for its managers.
func (t *turn) managersPage(page int) {
	if !t.m.Role.SeesAll() {
		t.notice(t.tr("head.only"))
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	p := newPager(listManagers, listPage, len(team), page, "")
	from, to := p.span()
	var b strings.Builder
	b.WriteString(p.head(t, t.tr("managers.title")))
	var kb [][]Button
	for _, m := range team[from:to] {
		state := ""
		if !m.Active {
			state = " " + t.tr("managers.inactive")
		}
		fmt.Fprintf(&b, "\n• %s — %s%s", html.EscapeString(m.Name), t.tr("role."+string(m.Role)), state)
		if t.m.Role == store.RoleAdmin && m.Active && m.ID != t.m.ID {
			kb = append(kb, row(btn(t.tr("btn.deactivate")+" "+m.Name, tapDeactivate.data(m.ID))))
		}
	}
	if t.m.Role == store.RoleAdmin {
		kb = append(kb, row(btn(t.tr("btn.heads"), tapHeads.data(0))))
	}
	t.showPage(b.String(), p.keys(kb)...)
}

const tapDeactivate tap = "md" // md:<manager>

// deactivate asks the admin to confirm turning a manager's access off.
func (t *turn) deactivate(id string) {
	m := t.teammate(id)
	if m == nil {
		return
	}
	t.show(t.tr("managers.confirm", "name", m.Name),
		row(btn(t.tr("btn.deactivate_yes"), tapDeactivateYes.data(m.ID)), btn(t.tr("btn.cancel"), tapCancel.data())))
}

const tapLang tap = "lang" // lang:<ru|en>

func (t *turn) setLang(lang string) {
	if _, ok := t.texts[lang]; !ok {
		t.notice(t.tr("tap.stale"))
		return
	}
	m, err := t.st.UpdateManager(t.ctx, t.m.ID, t.m.ID, map[string]any{"language": lang})
	if err != nil {
		t.fail("set language", err)
		return
	}
	t.m, t.lang = m, lang
	t.show(t.tr("lang.set"))
}

const tapTake tap = "tk" // tk:<client>

// take makes an unassigned client the manager's own.
func (t *turn) take(id string) {
	c := t.client(id)
	if c == nil {
		return
	}
	if c.ManagerID != "" && c.ManagerID != t.m.ID && !t.m.Role.SeesAll() {
		t.notice(t.tr("client.none"))
		return
	}
	me := t.m.ID
	c, err := t.st.UpdateClient(t.ctx, t.m.ID, c.ID, store.ClientPatch{ManagerID: &me})
	if err != nil {
		t.fail("take client", err)
		return
	}
	t.notice(t.tr("client.taken"))
	t.showCard(c)
}

// headsClient reads a client for a head or admin; managers get a refusal.
func (t *turn) headsClient(id string) *store.Client {
	if !t.m.Role.SeesAll() {
		t.notice(t.tr("head.only"))
		return nil
	}
	return t.client(id)
}

const tapReassignMenu tap = "as" // as:<client>

func (t *turn) reassignMenu(id string) { t.reassignPage(id, 0) }

// reassignPage shows a page of the active managers a client can be given to.
func (t *turn) reassignPage(id string, page int) {
	c := t.headsClient(id)
	if c == nil {
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	var to []store.Manager
	for _, m := range team {
		if m.Active && m.ID != c.ManagerID {
			to = append(to, m)
		}
	}
	p := newPager(listReassign, listPage, len(to), page, c.ID)
	from, end := p.span()
	var kb [][]Button
	for _, m := range to[from:end] {
		kb = append(kb, row(btn(m.Name, tapReassign.data(c.ID, m.ID))))
	}
	kb = append(p.keys(kb), row(btn(t.tr("btn.cancel"), tapCard.data(c.ID))))
	t.show(p.head(t, t.tr("reassign.choose", "name", c.Name)), kb...)
}

const tapReassign tap = "am" // am:<client>:<manager>

func (t *turn) reassign(id, managerID string) {
	c := t.headsClient(id)
	if c == nil {
		return
	}
	to, err := t.st.Manager(t.ctx, managerID)
	if err != nil || !to.Active {
		t.notice(t.tr("tap.stale"))
		return
	}
	c, err = t.st.UpdateClient(t.ctx, t.m.ID, c.ID, store.ClientPatch{ManagerID: &to.ID})
	if err != nil {
		t.fail("reassign client", err)
		return
	}
	t.notice(t.tr("reassign.done", "name", to.Name))
	t.showCard(c)
	t.tellGiven(to.ID, func(tr func(string, ...any) string) (string, []Button) {
		return tr("given.client", "by", t.m.Name, "name", c.Name), row(btn(tr("btn.card"), tapCard.data(c.ID)))
	})
}

func (t *turn) today() { t.todayPage(0) }

// todayPage shows a page of today's tasks, the overdue count and today's birthdays.
func (t *turn) todayPage(page int) {
	refs, err := t.st.OpenTasks(t.ctx, t.m.ID)
	if err != nil {
		t.fail("read tasks", err)
		return
	}
	local := t.now.In(t.loc)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, t.loc)
	end := start.AddDate(0, 0, 1)
	var todays []store.TaskRef
	overdue := 0
	for _, r := range refs {
		switch {
		case r.Due.Before(t.now) && r.Due.Before(start):
			overdue++
		case r.Due.Before(end):
			todays = append(todays, r)
		}
	}
	birthdays, err := t.st.Birthdays(t.ctx, t.viewer(), t.now.In(t.loc), 1)
	if err != nil {
		t.fail("read birthdays", err)
		return
	}
	p := newPager(listToday, taskPage, len(todays), page, "")
	var b strings.Builder
	b.WriteString(p.head(t, t.tr("today.title", "date", strings.TrimSuffix(t.whenFull(start), " 00:00"))))
	if len(todays) == 0 {
		b.WriteString("\n" + t.tr("today.no_tasks"))
	}
	kb := p.keys(t.taskLines(&b, p, todays))
	if overdue > 0 {
		b.WriteString("\n\n" + t.tr("today.overdue", "n", overdue))
		kb = append(kb, row(btn(t.tr("btn.overdue"), tapOverdue.data())))
	}
	if len(birthdays) > 0 {
		b.WriteString("\n\n" + t.tr("today.birthdays"))
		var cards []Button
		for _, h := range birthdays {
			b.WriteString("\n🎂 " + html.EscapeString(h.ContactName) + " — " + html.EscapeString(h.ClientName))
			// Two rows of cards at most: the keyboard stays within a screen.
			if len(cards) < 4 {
				cards = append(cards, btn("🎂 "+clip(h.ClientName, 20), tapCard.data(h.ClientID)))
			}
		}
		for len(cards) > 0 {
			n := min(2, len(cards))
			kb, cards = append(kb, cards[:n]), cards[n:]
		}
	}
	t.showPage(b.String(), kb...)
}

const tapOverdue tap = "ov"

func (t *turn) overdue() { t.overduePage(0) }

func (t *turn) overduePage(page int) {
	t.taskList(listOverdue, page, "overdue.title", "overdue.none", func(r store.TaskRef) bool { return r.Due.Before(t.now) })
}

func (t *turn) tasks() { t.tasksPage(0) }

func (t *turn) tasksPage(page int) {
	t.taskList(listTasks, page, "tasks.title", "tasks.none", func(store.TaskRef) bool { return true })
}

// taskList shows a page of the manager's open tasks that keep says to.
func (t *turn) taskList(kind listKind, page int, title, none string, keep func(store.TaskRef) bool) {
	refs, err := t.st.OpenTasks(t.ctx, t.m.ID)
	if err != nil {
		t.fail("read tasks", err)
		return
	}
	var list []store.TaskRef
	for _, r := range refs {
		if keep(r) {
			list = append(list, r)
		}
	}
	p := newPager(kind, taskPage, len(list), page, "")
	var b strings.Builder
	b.WriteString(p.head(t, t.tr(title, "n", len(list))))
	if len(list) == 0 {
		b.WriteString("\n" + t.tr(none))
	}
	kb := t.taskLines(&b, p, list)
	t.showPage(b.String(), p.keys(kb)...)
}

// taskLines writes a page of tasks, numbered, each with its client, contact person
// and phone (which Telegram makes tappable), and gives each a row of buttons: done,
// an hour later, the client's card. A client the manager no longer sees is left out.
func (t *turn) taskLines(b *strings.Builder, p pager, refs []store.TaskRef) [][]Button {
	var kb [][]Button
	from, to := p.span()
	clients := map[string]*store.Client{} // a page's tasks often share a client
	for i := from; i < to; i++ {
		r, n := refs[i], i+1
		mark := ""
		if r.Due.Before(t.now) {
			mark = " ⚠"
		}
		fmt.Fprintf(b, "\n%d. %s%s — %s", n, html.EscapeString(t.when(r.Due)), mark, html.EscapeString(clip(r.Text, 120)))
		line := row(btn(fmt.Sprintf("✅ %d", n), tapTaskDone.data(r.ID)), btn(fmt.Sprintf("⏰ %d +1h", n), tapTaskSnooze.data(r.ID, "1h")))
		if c := t.taskClient(clients, r.ClientID); c != nil {
			b.WriteString("\n     " + clientLine(c, ""))
			line = append(line, btn(fmt.Sprintf("📇 %d", n), tapCard.data(c.ID)))
		}
		kb = append(kb, line)
	}
	return kb
}

// taskClient reads a task's client, once a page, if the manager may see it.
func (t *turn) taskClient(seen map[string]*store.Client, id string) *store.Client {
	return t.clientOfTask(t.ctx, t.viewer(), seen, id)
}

// clientOfTask reads a task's client, once for all the tasks seen holds, if v may see
// it; nil without one.
func (b *Bot) clientOfTask(ctx context.Context, v store.Viewer, seen map[string]*store.Client, id string) *store.Client {
	if id == "" {
		return nil
	}
	if c, ok := seen[id]; ok {
		return c
	}
	c, err := b.st.Client(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.Warn("read a task's client", "client", id, "err", err)
	}
	if err != nil || !v.CanSee(c) {
		c = nil
	}
	seen[id] = c
	return c
}

// task reads a task the manager may change: their own, or any for a head.
func (t *turn) task(id string) *store.Task {
	task, err := t.st.Task(t.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read task", err)
		return nil
	}
	if err != nil || (task.AssigneeID != t.m.ID && !t.m.Role.SeesAll()) {
		t.notice(t.tr("task.none"))
		return nil
	}
	return task
}

const tapTaskDone tap = "td" // td:<task>

func (t *turn) taskDone(id string) {
	task := t.task(id)
	if task == nil {
		return
	}
	if _, err := t.st.SetTaskState(t.ctx, t.m.ID, task.ID, store.TaskDone, time.Time{}); err != nil {
		t.fail("finish task", err)
		return
	}
	t.notice(t.tr("task.done"))
	t.say(t.tr("task.done_text", "text", task.Text))
}

const tapTaskSnooze tap = "tz" // tz:<task>:<1h|t10>

// taskSnooze moves a task an hour on ("1h") or to tomorrow at 10 ("t10").
func (t *turn) taskSnooze(id, preset string) {
	task := t.task(id)
	if task == nil {
		return
	}
	var due time.Time
	switch preset {
	case "1h":
		due = t.now.Add(time.Hour)
	case "t10":
		due = t.tomorrowAt10()
	default:
		t.notice(t.tr("tap.stale"))
		return
	}
	if _, err := t.st.SetTaskState(t.ctx, t.m.ID, task.ID, store.TaskSnoozed, due); err != nil {
		t.fail("snooze task", err)
		return
	}
	t.notice(t.tr("task.snoozed"))
	t.say(t.tr("task.set", "when", t.whenFull(due), "text", task.Text))
}
