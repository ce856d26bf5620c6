package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/crm-team/crm/store"
)

// A client's letters and a letter read whole. The card's list says, a line each, who
// wrote (the contact, or the colleague who sent it), from which address, when, about
// what and with which files; a tap on a letter shows its text in pages, with a button
// per file. /inbox links an unsorted letter here too: it can be read before it is
// sorted. Every tap reads the letter through t.letter (store.LetterFor).

// letterPage is the most of a letter's text (as sent, escaped, in UTF-16 units) one
// message shows: with the header it stays under Telegram's 4096.
const letterPage = 3500

// letterFiles is how many files of a letter get a button (the keyboard stays small).
const letterFiles = 6

const tapEmails tap = "em" // em:<client>

// emails lists the letters of the client's recent history (the last two hundred
// entries): the timeline names them, and each letter is read by _id for its
// addresses and files.
func (t *turn) emails(id string) {
	c := t.client(id)
	if c == nil {
		return
	}
	var refs []store.Interaction
	before := int64(0)
	for page := 0; page < 4 && len(refs) < listLimit; page++ {
		items, next, err := t.st.Timeline(t.ctx, c.ID, before, 50)
		if err != nil {
			t.fail("read letters", err)
			return
		}
		for _, it := range items {
			if it.Mail != nil && it.Mail.LetterID != "" && len(refs) < listLimit {
				refs = append(refs, it)
			}
		}
		if next == 0 {
			break
		}
		before = next
	}
	var b strings.Builder
	b.WriteString(t.tr("emails.title", "name", c.Name))
	if len(refs) == 0 {
		b.WriteString("\n" + t.tr("emails.none"))
	}
	var kb [][]Button
	var line []Button
	team := t.team(refs)
	for i, it := range refs {
		l, err := t.st.Letter(t.ctx, it.Mail.LetterID)
		if errors.Is(err, store.ErrNotFound) {
			// The entry outlived its letter: what the timeline kept.
			l = &store.Letter{ID: it.Mail.LetterID, Subject: it.Mail.Subject, From: store.MailAddress{Email: it.Mail.From},
				Date: it.At, Outgoing: it.Kind == store.InteractionEmailOut}
		} else if err != nil {
			t.fail("read letter", err)
			return
		}
		fmt.Fprintf(&b, "\n\n%d. %s", i+1, t.letterLine(c, l, team))
		line = append(line, btn(fmt.Sprintf("📖 %d", i+1), tapLetterRead.data(letterRef(l.ID), 0)))
		if len(line) == 5 {
			kb, line = append(kb, line), nil
		}
	}
	if len(line) > 0 {
		kb = append(kb, line)
	}
	t.show(b.String(), append(kb, row(btn(t.tr("btn.card"), tapCard.data(c.ID))))...)
}

// team maps the team's addresses to their names, for letters sent by a colleague; it
// is read only when the list has a sent letter (the team is a small collection).
func (t *turn) team(entries []store.Interaction) map[string]string {
	out := map[string]string{}
	if !slices.ContainsFunc(entries, func(it store.Interaction) bool { return it.Kind == store.InteractionEmailOut }) {
		return out
	}
	list, err := t.st.Managers(t.ctx)
	if err != nil {
		t.log.Warn("read the team for letters", "err", err)
		return out
	}
	for _, m := range list {
		if m.Email != "" {
			out[strings.ToLower(m.Email)] = m.Name
		}
	}
	return out
}

// letterLine is a letter in a list: direction, who and their address, the date in the
// manager's zone, the subject and the files.
func (t *turn) letterLine(c *store.Client, l *store.Letter, team map[string]string) string {
	var b strings.Builder
	person := func(name, address string) string {
		return html.EscapeString(clip(name, 50)) + " &lt;" + html.EscapeString(clip(address, 60)) + "&gt;"
	}
	if l.Outgoing {
		who := cmp.Or(team[strings.ToLower(l.From.Email)], l.From.Name, l.From.Email)
		b.WriteString("📤 " + html.EscapeString(clip(who, 50)))
		// To the client: the first recipient who is one of its people, else the first.
		if to := l.Recipients(); len(to) > 0 {
			i := max(slices.IndexFunc(to, func(a string) bool { return senderName(c, a, "") != a }), 0)
			b.WriteString(" → " + person(senderName(c, to[i], ""), to[i]))
		}
	} else {
		b.WriteString("📨 " + person(senderName(c, l.From.Email, l.From.Name), l.From.Email))
	}
	b.WriteString(" · " + html.EscapeString(t.when(l.Date)))
	b.WriteString("\n   <b>" + html.EscapeString(clip(cmp.Or(l.Subject, t.tr("letter.no_subject")), 100)) + "</b>")
	if files := filesText(l.Attachments, 3); files != "" {
		b.WriteString("\n   📎 " + html.EscapeString(files))
	}
	return b.String()
}

// senderName is the contact (or the client) an address belongs to, else the name the
// letter gives.
func senderName(c *store.Client, address, given string) string {
	address = strings.ToLower(address)
	for _, p := range c.ContactList() {
		for _, e := range p.Emails {
			if strings.ToLower(e) == address {
				return p.Name
			}
		}
	}
	for _, e := range c.Emails {
		if strings.ToLower(e) == address {
			return c.Name
		}
	}
	return cmp.Or(given, address)
}

// filesText lists a letter's files as "name (size)", at most n of them.
func filesText(files []store.LetterAttachment, n int) string {
	var parts []string
	for i, a := range files {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d", len(files)-n))
			break
		}
		parts = append(parts, clip(a.Name, 40)+" ("+sizeText(a.Size)+")")
	}
	return strings.Join(parts, ", ")
}

const tapLetterRead tap = "lr" // lr:<letter ref>:<page>

// readLetter shows a letter whole: its header, one page of its text, ◀ ▶ between the
// pages, a button per file, and what can be done with it: sorting for an unsorted
// letter, the card for a client's.
func (t *turn) readLetter(ref, pageArg string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	var b strings.Builder
	mark := "📨"
	if l.Outgoing {
		mark = "📤"
	}
	b.WriteString(mark + " <b>" + html.EscapeString(clip(cmp.Or(l.Subject, t.tr("letter.no_subject")), 150)) + "</b>")
	b.WriteString("\n" + t.tr("letter.from", "v", clip(addressText(l.From), 100)))
	if to := append(append([]store.MailAddress{}, l.To...), l.Cc...); len(to) > 0 {
		var list []string
		for _, a := range to {
			list = append(list, addressText(a))
		}
		b.WriteString("\n" + t.tr("letter.to", "v", clip(strings.Join(list, ", "), 150)))
	}
	b.WriteString("\n" + t.tr("letter.date", "v", t.whenFull(l.Date)))
	if files := filesText(l.Attachments, 3); files != "" {
		b.WriteString("\n📎 " + html.EscapeString(files))
	}
	// The header is the same on every page: the pages get what it leaves, with room
	// for the page's number.
	room := maxText - len(utf16.Encode([]rune(b.String()))) - 64
	pages := letterPages(cmp.Or(strings.TrimSpace(l.Text), strings.TrimSpace(l.Preview), t.tr("letter.no_text")), min(letterPage, room))
	page := min(max(atoi(pageArg), 0), len(pages)-1)
	if len(pages) > 1 {
		b.WriteString("\n" + t.tr("letter.page", "n", page+1, "of", len(pages)))
	}
	b.WriteString("\n\n" + html.EscapeString(pages[page]))

	r := letterRef(l.ID)
	var kb [][]Button
	if len(pages) > 1 {
		var nav []Button
		if page > 0 {
			nav = append(nav, btn("◀ "+fmt.Sprint(page), tapLetterRead.data(r, page-1)))
		}
		if page+1 < len(pages) {
			nav = append(nav, btn(fmt.Sprint(page+2)+" ▶", tapLetterRead.data(r, page+1)))
		}
		kb = append(kb, nav)
	}
	for i, a := range l.Attachments {
		if i == letterFiles {
			break
		}
		kb = append(kb, row(btn("📎 "+clip(a.Name, 40)+" ("+sizeText(a.Size)+")", tapLetterFile.data(r, i))))
	}
	if len(l.Clients) == 0 {
		kb = append(kb, row(btn(t.tr("btn.letter_attach"), tapLetterAttach.data(r)), btn(t.tr("btn.letter_new"), tapLetterNewClient.data(r)),
			btn(t.tr("btn.letter_ignore"), tapLetterIgnore.data(r))))
	} else if c := t.seenClient(l.Clients); c != nil {
		kb = append(kb, row(btn(t.tr("btn.emails"), tapEmails.data(c.ID)), btn(t.tr("btn.card"), tapCard.data(c.ID))))
	}
	t.show(b.String(), kb...)
}

// seenClient is the first of a letter's clients the manager sees (LetterFor found one).
func (t *turn) seenClient(ids []string) *store.Client {
	for _, id := range ids {
		if c, err := t.st.Client(t.ctx, id); err == nil && t.viewer().CanSee(c) {
			return c
		}
	}
	return nil
}

func addressText(a store.MailAddress) string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

// letterPages cuts a text into pages whose escaped form is at most limit UTF-16 units,
// at a line break where one is in the page's second half, else at a space.
func letterPages(text string, limit int) []string {
	var pages []string
	for text != "" {
		units, end, lastBreak, lastSpace := 0, len(text), -1, -1
		for i, r := range text {
			n := utf16.RuneLen(r)
			switch r {
			case '<', '>':
				n = 4
			case '&':
				n = 5
			case '"', '\'':
				n = 5
			}
			if units+n > limit {
				end = i
				break
			}
			units += n
			if r == '\n' {
				lastBreak = i + 1
			} else if r == ' ' {
				lastSpace = i + 1
			}
		}
		if end < len(text) {
			switch {
			case lastBreak > end/2:
				end = lastBreak
			case lastSpace > end/2:
				end = lastSpace
			}
		}
		pages = append(pages, strings.TrimRight(text[:end], " \n"))
		text = strings.TrimLeft(text[end:], " \n")
	}
	if len(pages) == 0 {
		pages = []string{""}
	}
	return pages
}

const tapLetterFile tap = "lf" // lf:<letter ref>:<file number>

// sendLetterFile sends a letter's file as a document, from the copy the CRM kept; a
// file it did not keep (too large) is only in the mailbox, and the manager is told so.
func (t *turn) sendLetterFile(ref, nArg string) {
	l := t.letter(letterID(ref))
	if l == nil {
		return
	}
	n := atoi(nArg)
	if n < 0 || n >= len(l.Attachments) {
		t.notice(t.tr("tap.stale"))
		return
	}
	a := l.Attachments[n]
	var f *store.File
	if a.FileID != "" && a.NotStored == "" {
		var err error
		f, err = t.st.File(t.ctx, a.FileID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.fail("read file", err)
			return
		}
	}
	if f == nil || len(f.Data) == 0 {
		t.notice(t.tr("letter.file_not_kept", "name", a.Name))
		return
	}
	content := f.Data
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, Document: &Document{Name: a.Name, MIME: a.MIME,
		Load: func(context.Context) ([]byte, error) { return content, nil }}})
}

// claimLetters moves the letters waiting in /inbox from a client's addresses (and,
// for a company, its domain) into its history, says how many, and follows each up as
// an attached letter (letterTaken).
func (t *turn) claimLetters(c *store.Client) {
	moved, err := t.st.ClaimWaitingLetters(t.ctx, t.m.ID, c)
	if err != nil {
		// The client is saved; its letters stay in /inbox, to be attached by hand.
		t.log.Warn("move waiting letters", "client", c.ID, "err", err)
		t.say(t.tr("letters.claim_failed", "name", c.Name))
		return
	}
	if len(moved) == 0 {
		return
	}
	for _, l := range moved {
		t.letterTaken(l, c)
	}
	t.say(t.tr("letters.claimed", "name", c.Name, "n", len(moved)))
}
