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
	return b.refuse(u)
}

func (b *Bot) refuse(u Update) []Reply {
	var out []Reply
	if u.Callback != nil {
		out = append(out, Reply{ChatID: u.ChatID, CallbackID: u.Callback.ID})
	}
	if b.refusals.allow(u.User.ID, b.now()) {
		out = append(out, Reply{ChatID: u.ChatID, Text: b.texts.get(b.texts.pickLang(u.User.LanguageCode), "start.refused")})
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

func (t *turn) managers() {
	if !t.m.Role.SeesAll() {
		t.say(t.tr("head.only"))
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	var b strings.Builder
	b.WriteString(t.tr("managers.title"))
	var kb [][]Button
	for _, m := range team {
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
	t.say(b.String(), kb...)
}

const tapDeactivate tap = "md" // md:<manager>

func (t *turn) deactivate(id string) {
	if t.m.Role != store.RoleAdmin || id == t.m.ID {
		t.notice(t.tr("admin.only"))
		return
	}
	m, err := t.st.UpdateManager(t.ctx, t.m.ID, id, map[string]any{"active": false})
	if errors.Is(err, store.ErrNotFound) {
		t.notice(t.tr("tap.stale"))
		return
	}
	if err != nil {
		t.fail("deactivate manager", err)
		return
	}
	t.notice(t.tr("managers.deactivated", "name", m.Name))
	t.managers()
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

func (t *turn) reassignMenu(id string) {
	c := t.headsClient(id)
	if c == nil {
		return
	}
	team, err := t.st.Managers(t.ctx)
	if err != nil {
		t.fail("list managers", err)
		return
	}
	var kb [][]Button
	for _, m := range team {
		if m.Active && m.ID != c.ManagerID {
			kb = append(kb, row(btn(m.Name, tapReassign.data(c.ID, m.ID))))
		}
	}
	kb = append(kb, row(btn(t.tr("btn.cancel"), tapCard.data(c.ID))))
	t.show(t.tr("reassign.choose", "name", c.Name), kb...)
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
}

// today shows today's tasks, the overdue count and today's birthdays.
func (t *turn) today() {
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
	var b strings.Builder
	b.WriteString(t.tr("today.title", "date", strings.TrimSuffix(t.whenFull(start), " 00:00")))
	if len(todays) == 0 {
		b.WriteString("\n" + t.tr("today.no_tasks"))
	}
	kb := t.taskLines(&b, todays)
	if overdue > 0 {
		b.WriteString("\n\n" + t.tr("today.overdue", "n", overdue))
		kb = append(kb, row(btn(t.tr("btn.overdue"), tapOverdue.data())))
	}
	if len(birthdays) > 0 {
		b.WriteString("\n\n" + t.tr("today.birthdays"))
		for _, h := range birthdays {
			b.WriteString("\n🎂 " + html.EscapeString(h.ContactName) + " — " + html.EscapeString(h.ClientName))
			kb = append(kb, row(btn("🎂 "+h.ClientName, tapCard.data(h.ClientID))))
		}
	}
	t.say(b.String(), kb...)
}

const tapOverdue tap = "ov"

func (t *turn) overdue() {
	t.taskList("overdue.title", "overdue.none", func(r store.TaskRef) bool { return r.Due.Before(t.now) })
}

func (t *turn) tasks() {
	t.taskList("tasks.title", "tasks.none", func(store.TaskRef) bool { return true })
}

// taskList shows the manager's open tasks that keep says to.
func (t *turn) taskList(title, none string, keep func(store.TaskRef) bool) {
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
	var b strings.Builder
	b.WriteString(t.tr(title, "n", len(list)))
	if len(list) == 0 {
		b.WriteString("\n" + t.tr(none))
	}
	kb := t.taskLines(&b, list)
	t.say(b.String(), kb...)
}

// taskLines writes numbered tasks and gives each a row of buttons: done, an hour
// later, the client's card.
func (t *turn) taskLines(b *strings.Builder, refs []store.TaskRef) [][]Button {
	var kb [][]Button
	for i, r := range refs {
		if i == 20 {
			b.WriteString("\n" + t.tr("find.more"))
			break
		}
		mark := ""
		if r.Due.Before(t.now) {
			mark = " ⚠"
		}
		fmt.Fprintf(b, "\n%d. %s%s — %s", i+1, html.EscapeString(t.when(r.Due)), mark, html.EscapeString(r.Text))
		if i < 8 {
			line := row(btn(fmt.Sprintf("✅ %d", i+1), tapTaskDone.data(r.ID)), btn(fmt.Sprintf("⏰ %d +1h", i+1), tapTaskSnooze.data(r.ID, "1h")))
			if r.ClientID != "" {
				line = append(line, btn(fmt.Sprintf("📇 %d", i+1), tapCard.data(r.ClientID)))
			}
			kb = append(kb, line)
		}
	}
	return kb
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
