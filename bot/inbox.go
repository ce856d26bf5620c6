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

// Outbox sends a message nobody asked for (a letter arrived, a reminder is due); the
// Telegram transport is one.
type Outbox interface {
	Send(ctx context.Context, r Reply) error
}

// letterRef shortens a letter's ID for a button: "mid:<hex>" is "m<hex>".
func letterRef(id string) string {
	kind, hex, _ := strings.Cut(id, ":")
	if kind == "" {
		return ""
	}
	return kind[:1] + hex
}

func letterID(ref string) string {
	switch {
	case strings.HasPrefix(ref, "m"):
		return "mid:" + ref[1:]
	case strings.HasPrefix(ref, "r"):
		return "raw:" + ref[1:]
	}
	return ""
}

// LetterNotice is what the mailbox tells a manager about a client's letter.
type LetterNotice struct {
	ManagerID, ClientID, ClientName, LetterID string
	From, Subject, Preview                    string
}

// NotifyLetter tells a manager that their client wrote, with buttons to open the card
// and to mark the letter handled.
func (b *Bot) NotifyLetter(ctx context.Context, n LetterNotice) error {
	return b.tellAboutLetter(ctx, n.ManagerID, n.ClientID, n.LetterID, func(m *store.Manager) string {
		return b.texts.get(m.Language, "letter.arrived", "name", n.ClientName, "from", n.From, "subject", n.Subject, "preview", clip(n.Preview, 300))
	})
}

// tellAboutLetter sends an active manager a message about a client's letter, with
// buttons to open the card and to mark the letter handled.
func (b *Bot) tellAboutLetter(ctx context.Context, managerID, clientID, letterID string, text func(*store.Manager) string) error {
	m, ok, err := b.recipient(ctx, managerID)
	if !ok {
		return err
	}
	return b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: text(m), Buttons: [][]Button{
		row(btn(b.texts.get(m.Language, "btn.card"), tapCard.data(clientID)), btn(b.texts.get(m.Language, "btn.handled"), tapLetterHandled.data(letterRef(letterID)))),
	}})
}

// ReplyAlert says a client's letter waits too long for an answer.
type ReplyAlert struct {
	ManagerID   string // whom to tell
	Escalated   bool   // ManagerID is a head: the client's manager did not answer either
	ManagerName string
	ClientID    string
	ClientName  string
	LetterID    string
	From        string
	Subject     string
	ReceivedAt  time.Time
}

// NotifyReplyOverdue tells a manager (or a head) that a client's letter has waited
// longer than the reply-time limit, with buttons to open the card and mark it handled.
func (b *Bot) NotifyReplyOverdue(ctx context.Context, a ReplyAlert) error {
	return b.tellAboutLetter(ctx, a.ManagerID, a.ClientID, a.LetterID, func(m *store.Manager) string {
		key := "letter.overdue"
		if a.Escalated {
			key = "letter.overdue.head"
		}
		received := a.ReceivedAt.In(b.location(m.TimeZone)).Format("02.01 15:04")
		return b.texts.get(m.Language, key, "name", a.ClientName, "from", a.From, "subject", a.Subject, "received", received, "manager", a.ManagerName)
	})
}

// inbox shows the letters no client matched.
func (t *turn) inbox() { t.inboxPage(0) }

// inboxPage shows a page of the unsorted letters and how many wait. The queue is read
// whole: it is small, being worked off.
func (t *turn) inboxPage(page int) {
	queue, err := t.st.UnsortedLetters(t.ctx, 0)
	if err != nil {
		t.fail("read unsorted letters", err)
		return
	}
	if len(queue) == 0 {
		t.showPage(t.tr("inbox.empty"))
		return
	}
	p := newPager(listInbox, listPage, len(queue), page, "")
	from, to := p.span()
	var b strings.Builder
	b.WriteString(p.head(t, t.tr("inbox.title", "n", len(queue))))
	var kb [][]Button
	for i, l := range queue[from:to] {
		i += from
		mark := ""
		if l.UnknownBounce { // a delivery report about no letter the CRM sent
			mark = t.tr("inbox.bounce") + " "
		}
		fmt.Fprintf(&b, "\n%d. %s%s — %s", i+1, mark, html.EscapeString(l.From.Email), html.EscapeString(clip(l.Subject, 80)))
		ref := letterRef(l.LetterID)
		kb = append(kb, row(btn(fmt.Sprintf("📖 %d", i+1), tapLetterRead.data(ref, 0)), btn(fmt.Sprintf("📎 %d", i+1), tapLetterAttach.data(ref)), btn(fmt.Sprintf("➕ %d", i+1), tapLetterNewClient.data(ref)),
			btn(fmt.Sprintf("🚫 %d", i+1), tapLetterIgnore.data(ref))))
	}
	t.showPage(b.String(), p.keys(kb)...)
}

// letter reads a letter a button or a dialog names, if the manager may see it: one
// waiting in the unsorted queue or one of a client they see (store.LetterFor). Every
// action on a letter reads it here; another manager's letter is "not available".
func (t *turn) letter(id string) *store.Letter {
	l, err := t.st.LetterFor(t.ctx, t.viewer(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read letter", err)
		return nil
	}
	if err != nil {
		t.notice(t.tr("letter.none"))
		return nil
	}
	return l
}

const tapLetterAttach tap = "li" // li:<letter ref>

// startAttach asks which client an unsorted letter belongs to.
func (t *turn) startAttach(ref string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	t.s.dialog = &dialog{kind: dialogAttach, letterID: l.ID}
	t.say(t.tr("inbox.which", "from", l.From.Email, "subject", l.Subject), row(btn(t.tr("btn.cancel"), tapCancel.data())))
}

// attachSearch shows the clients found for the letter being attached.
func (t *turn) attachSearch(d *dialog, q string) {
	res, err := t.st.Search(t.ctx, t.viewer(), q, listLimit)
	if err != nil {
		t.fail("search", err)
		return
	}
	if len(res) == 0 {
		t.say(t.tr("find.none", "q", q))
		return
	}
	var kb [][]Button
	for _, r := range res {
		kb = append(kb, row(btn(r.Stage.Mark()+" "+r.Name, tapLetterAttachTo.data(letterRef(d.letterID), r.ClientID))))
	}
	t.say(t.tr("inbox.pick"), kb...)
}

const tapLetterAttachTo tap = "la" // la:<letter ref>:<client>

// attachLetter puts the letter into the client's history and out of the queue.
func (t *turn) attachLetter(ref, clientID string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	c := t.editable(clientID)
	if c == nil {
		return
	}
	t.linkLetter(l, c)
}

func (t *turn) linkLetter(l *store.Letter, c *store.Client) {
	if err := t.st.LinkLetter(t.ctx, t.m.ID, l, c.ID); err != nil {
		t.fail("link letter", err)
		return
	}
	if err := t.st.SetLetterUnsorted(t.ctx, l, false); err != nil {
		t.fail("take letter off the queue", err)
		return
	}
	t.letterTaken(l, c)
	t.s.dialog = nil
	t.say(t.tr("inbox.attached", "subject", l.Subject, "name", c.Name), row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
}

const tapLetterNewClient tap = "ln" // ln:<letter ref>

// newFromLetter creates a client from an unsorted letter's sender.
func (t *turn) newFromLetter(ref string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	name := l.From.Name
	if name == "" {
		name, _, _ = strings.Cut(l.From.Email, "@")
	}
	t.startNewClient(&store.Contact{Name: name, Emails: []string{l.From.Email}})
	t.s.dialog.form.letterID = l.ID
}

const tapLetterIgnore tap = "lx" // lx:<letter ref>

func (t *turn) ignoreSender(ref string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	if err := t.st.IgnoreSender(t.ctx, t.m.ID, l.From.Email); err != nil {
		t.fail("ignore sender", err)
		return
	}
	if err := t.st.SetLetterUnsorted(t.ctx, l, false); err != nil {
		t.fail("take letter off the queue", err)
		return
	}
	t.notice(t.tr("inbox.ignored", "from", l.From.Email))
	t.inbox()
}

const tapLetterHandled tap = "lh" // lh:<letter ref>

func (t *turn) letterHandled(ref string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	if err := t.st.MarkLetterHandled(t.ctx, t.m.ID, l.ID); err != nil {
		t.fail("mark letter handled", err)
		return
	}
	t.notice(t.tr("letter.handled"))
}

// letterTaken follows up a client's letter taken off the unsorted queue as the mailbox
// does a letter it matched itself: the reply clock starts, from now, since nobody
// could answer while nobody knew whose letter it was; and the client's manager is
// told, unless they attached it themselves. Letters over FreshLetter old do neither.
func (t *turn) letterTaken(l *store.Letter, c *store.Client) {
	received := l.Written(t.now)
	if l.Outgoing || t.now.Sub(received) >= store.FreshLetter {
		return
	}
	if t.opts.ReplySLA > 0 {
		w := store.NewAwaitedReply(l, []string{c.ID}, received, t.now, t.opts.ReplySLA, t.opts.Calendar)
		if err := t.st.AwaitReplies(t.ctx, []store.AwaitedReply{w}); err != nil {
			// The letter is attached; only its alert is lost.
			t.log.Warn("start reply clock", "letter", l.ID, "err", err)
		}
	}
	if c.ManagerID != "" && c.ManagerID != t.m.ID {
		err := t.NotifyLetter(t.ctx, LetterNotice{ManagerID: c.ManagerID, ClientID: c.ID, ClientName: c.Name, LetterID: l.ID,
			From: l.From.Email, Subject: l.Subject, Preview: l.Preview})
		if err != nil {
			t.log.Warn("tell the manager about a letter", "letter", l.ID, "err", err)
		}
	}
}
