package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
)

// NotifyReminder sends a task's reminder to its assignee, with its client, contact
// person and phone, and buttons: done, an hour later, tomorrow at 10, the client's
// card. late marks a reminder that comes after its time (the service was down).
func (b *Bot) NotifyReminder(ctx context.Context, task store.Task, late bool) error {
	m, ok, err := b.recipient(ctx, task.AssigneeID)
	if !ok {
		return err
	}
	lang, loc := m.Language, b.location(m.TimeZone)
	var text strings.Builder
	text.WriteString(b.texts.get(lang, "remind.text", "text", task.Text, "when", task.Due.In(loc).Format("02.01 15:04")))
	kb := [][]Button{row(btn(b.texts.get(lang, "btn.done"), tapTaskDone.data(task.ID)),
		btn(b.texts.get(lang, "btn.hour_later"), tapTaskSnooze.data(task.ID, "1h")),
		btn(b.texts.get(lang, "btn.tomorrow10"), tapTaskSnooze.data(task.ID, "t10")))}
	if task.ClientID != "" {
		c, err := b.st.Client(ctx, task.ClientID)
		switch {
		case err == nil && (store.Viewer{ManagerID: m.ID, Role: m.Role}).CanSee(c):
			text.WriteString("\n" + clientLine(c, task.ContactID))
			kb = append(kb, row(btn(b.texts.get(lang, "btn.card"), tapCard.data(c.ID))))
		case err == nil: // given to another manager since: the name alone, no card to open
			text.WriteString("\n" + b.texts.get(lang, "task.about", "name", c.Name))
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if late {
		text.WriteString("\n" + b.texts.get(lang, "remind.late"))
	}
	return b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: text.String(), Buttons: kb})
}

// recipient reads a manager who can be sent a message: active, with a chat, and an
// Outbox to send through.
func (b *Bot) recipient(ctx context.Context, managerID string) (*store.Manager, bool, error) {
	if b.opts.Outbox == nil {
		return nil, false, nil
	}
	m, err := b.st.Manager(ctx, managerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil || !m.Active || m.TelegramID == 0 {
		return nil, false, err
	}
	return m, true, nil
}

// SendDigest sends a morning digest: today's tasks, the overdue ones, birthdays with
// their greetings, and the client letters waiting for an answer.
func (b *Bot) SendDigest(ctx context.Context, d notice.Digest) error {
	m, ok, err := b.recipient(ctx, d.ManagerID)
	if !ok {
		return err
	}
	lang, loc := m.Language, b.location(m.TimeZone)
	tr := func(key string, args ...any) string { return b.texts.get(lang, key, args...) }
	var out strings.Builder
	out.WriteString(tr("digest.title", "name", m.Name, "date", d.Day.Format("02.01.2006")))
	if d.Late {
		out.WriteString("\n" + tr("digest.late"))
	}
	var kb [][]Button
	v, clients := store.Viewer{ManagerID: m.ID, Role: m.Role}, map[string]*store.Client{}
	taskLines := func(title string, refs []store.TaskRef, layout string) {
		if len(refs) == 0 {
			return
		}
		out.WriteString("\n\n" + tr(title, "n", len(refs)))
		for i, r := range refs {
			if i == 10 {
				out.WriteString("\n" + tr("digest.more"))
				break
			}
			fmt.Fprintf(&out, "\n• %s — %s", r.Due.In(loc).Format(layout), html.EscapeString(clip(r.Text, 120)))
			if c := b.clientOfTask(ctx, v, clients, r.ClientID); c != nil {
				out.WriteString("\n   " + clientLine(c, ""))
			}
		}
	}
	taskLines("digest.today", d.Today, "15:04")
	taskLines("digest.overdue", d.Overdue, "02.01 15:04")
	if len(d.Today) == 0 && len(d.Overdue) == 0 {
		out.WriteString("\n\n" + tr("today.no_tasks"))
	}
	if len(d.Overdue) > 0 {
		kb = append(kb, row(btn(tr("btn.overdue"), tapOverdue.data())))
	}
	if len(d.Birthdays) > 0 {
		out.WriteString("\n\n" + tr("digest.birthdays"))
		for _, h := range d.Birthdays {
			when := tr("digest.today_short")
			if !h.Date.Equal(d.Day) {
				when = h.Date.Format("02.01")
			}
			fmt.Fprintf(&out, "\n🎂 %s — %s, %s", when, html.EscapeString(h.ContactName), html.EscapeString(h.ClientName))
			if h.Greeting != "" {
				out.WriteString(" · " + tr("greeting."+string(h.Greeting)))
			}
			if len(kb) < 8 {
				kb = append(kb, row(btn("🎂 "+h.ClientName, tapCard.data(h.ClientID))))
			}
		}
	}
	if len(d.Awaiting) > 0 {
		out.WriteString("\n\n" + tr("digest.awaiting", "n", len(d.Awaiting)))
		for i, r := range d.Awaiting {
			if i == 10 {
				out.WriteString("\n" + tr("digest.more"))
				break
			}
			fmt.Fprintf(&out, "\n✉ %s — %s (%s)", html.EscapeString(r.From), html.EscapeString(clip(r.Subject, 80)),
				r.ReceivedAt.In(loc).Format("02.01 15:04"))
		}
	}
	return b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: out.String(), Buttons: kb})
}

// SendWeekly sends a head the team's week: one line per manager and the total.
func (b *Bot) SendWeekly(ctx context.Context, w notice.Weekly) error {
	m, ok, err := b.recipient(ctx, w.HeadID)
	if !ok {
		return err
	}
	tr := func(key string, args ...any) string { return b.texts.get(m.Language, key, args...) }
	line := func(r notice.WeeklyRow) string {
		return tr("weekly.row", "name", r.Name, "new", r.NewClients, "moves", r.StageMoves, "done", r.TasksDone,
			"overdue", r.Overdue, "awaiting", r.Awaiting)
	}
	var out strings.Builder
	out.WriteString(tr("weekly.title", "from", w.From.Format("02.01"), "to", w.To.AddDate(0, 0, -1).Format("02.01")))
	out.WriteString("\n" + tr("weekly.legend"))
	for _, r := range w.Rows {
		out.WriteString("\n" + line(r))
	}
	if len(w.Rows) == 0 {
		out.WriteString("\n" + tr("weekly.empty"))
	}
	w.Total.Name = tr("weekly.total")
	out.WriteString("\n\n<b>" + line(w.Total) + "</b>")
	if err := b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: out.String()}); err != nil {
		return err
	}
	for _, p := range w.Pictures {
		if err := b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: html.EscapeString(p.Caption),
			Photo: &Photo{Name: p.Name, PNG: p.PNG}}); err != nil {
			return err
		}
	}
	return nil
}
