package bot

import (
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/crm-team/crm/store"
)

// form is a guided dialog that fills a client or a contact person one answer at a
// time. Nothing is written until the last answer (or the confirmation): a dialog left
// with /cancel, another command or silence leaves no trace.
type form struct {
	kind      formKind
	clientID  string
	contactID string
	client    store.Client
	contact   store.Contact
	fields    []string // the questions, in order
	pos       int
	asked     int    // questions put so far: a skip button carries its question's number
	letterID  string // a new client made from an unsorted letter gets the letter
}

// formKind is what a form fills.
type formKind string

const (
	formClient      formKind = "client"       // a new client
	formContact     formKind = "contact"      // a new contact person of a client
	formEditClient  formKind = "edit-client"  // one field of a client
	formEditContact formKind = "edit-contact" // one field of a contact person
)

// edits: the form changes one field of what exists, saved on the answer (no skipping).
func (k formKind) edits() bool { return k == formEditClient || k == formEditContact }

// optional questions can be skipped with a button or "-".
var optional = map[string]bool{"inn": true, "city": true, "industry": true, "contact": true, "phone": true,
	"email": true, "position": true, "birthday": true, "website": true, "tags": true, "source": true}

const tapNewClient tap = "new"

// startNewClient begins the create-a-client dialog; a shared contact fills some answers.
func (t *turn) startNewClient(seed *store.Contact) {
	f := &form{kind: formClient, fields: []string{"kind", "name", "inn", "city", "industry", "contact", "phone", "email"}}
	f.client.Kind = store.KindCompany
	if seed != nil {
		f.contact = *seed
	}
	t.s.dialog = &dialog{kind: dialogForm, form: f}
	t.ask(f)
}

const tapNewContact tap = "ca" // ca:<client>

func (t *turn) startNewContact(id string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	f := &form{kind: formContact, clientID: c.ID, fields: []string{"name", "position", "phone", "email", "birthday"}}
	t.s.dialog = &dialog{kind: dialogForm, form: f}
	t.ask(f)
}

// clientFields can be edited from the card.
var clientFields = []string{"name", "city", "industry", "inn", "website", "phone", "email", "tags", "source"}

const tapEdit tap = "ed" // ed:<client>

func (t *turn) editMenu(id string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	var kb [][]Button
	for i := 0; i < len(clientFields); i += 3 {
		var line []Button
		for _, f := range clientFields[i:min(i+3, len(clientFields))] {
			line = append(line, btn(t.tr("field."+f), tapEditField.data(c.ID, f)))
		}
		kb = append(kb, line)
	}
	greetings := btn(t.tr("btn.greetings_off"), tapGreetings.data(c.ID, "off"))
	if c.GreetingsOff {
		greetings = btn(t.tr("btn.greetings_on"), tapGreetings.data(c.ID, "on"))
	}
	kb = append(kb, row(greetings), row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
	t.show(t.tr("edit.choose", "name", c.Name), kb...)
}

const tapGreetings tap = "gr" // gr:<client>:<on|off>

// switchGreetings switches the client's birthday greetings off or back on, as the
// button said ("off", "on"): a menu shown before someone else switched them does not
// undo their switch.
func (t *turn) switchGreetings(id, want string) {
	if want != "off" && want != "on" {
		t.notice(t.tr("tap.stale"))
		return
	}
	c := t.editable(id)
	if c == nil {
		return
	}
	off := want == "off"
	if off != c.GreetingsOff {
		if _, err := t.st.UpdateClient(t.ctx, t.m.ID, c.ID, store.ClientPatch{GreetingsOff: &off}); err != nil {
			t.fail("switch greetings", err)
			return
		}
	}
	if off {
		t.notice(t.tr("greetings.off"))
	} else {
		t.notice(t.tr("greetings.on"))
	}
	t.editMenu(c.ID)
}

const tapEditField tap = "ef" // ef:<client>:<field>

func (t *turn) startClientEdit(id, field string) {
	known := false
	for _, f := range clientFields {
		known = known || f == field
	}
	if !known {
		t.notice(t.tr("tap.stale"))
		return
	}
	c := t.editable(id)
	if c == nil {
		return
	}
	f := &form{kind: formEditClient, clientID: c.ID, client: *c, fields: []string{field}}
	t.s.dialog = &dialog{kind: dialogForm, form: f}
	t.ask(f)
}

// contactFields can be edited; "dm" sets the decision maker, "consent" the newsletter
// consent (both to what their button offered), "delete" removes the person.
var contactFields = []string{"name", "position", "phone", "email", "birthday", "dm", "consent", "delete"}

// editableContact reads a contact person of a client the manager may change.
func (t *turn) editableContact(id, contactID string) (*store.Client, store.Contact, bool) {
	c := t.editable(id)
	if c == nil {
		return nil, store.Contact{}, false
	}
	p, ok := c.Contacts[contactID]
	if !ok {
		t.notice(t.tr("tap.stale"))
	}
	return c, p, ok
}

const tapContactMenu tap = "ce" // ce:<client>:<contact>

func (t *turn) contactMenu(id, contactID string) {
	c, p, ok := t.editableContact(id, contactID)
	if !ok {
		return
	}
	var kb [][]Button
	for i := 0; i < len(contactFields); i += 3 {
		var line []Button
		for _, f := range contactFields[i:min(i+3, len(contactFields))] {
			line = append(line, t.contactButton(c.ID, p, f))
		}
		kb = append(kb, line)
	}
	kb = append(kb, row(btn(t.tr("btn.back"), tapContacts.data(c.ID))))
	t.show(t.contactText(p), kb...)
}

// contactButton is a contact menu's button; the switches carry the value they set
// (1 or 0), so a tap does what the button said even if the person changed since.
func (t *turn) contactButton(clientID string, p store.Contact, field string) Button {
	switch {
	case field == "dm" && p.DecisionMaker:
		return btn(t.tr("btn.dm_off"), tapContactField.data(clientID, p.ID, field, 0))
	case field == "consent" && mailable(p):
		return btn(t.tr("btn.consent_off"), tapContactField.data(clientID, p.ID, field, 0))
	case field == "dm" || field == "consent":
		return btn(t.tr("field."+field), tapContactField.data(clientID, p.ID, field, 1))
	}
	return btn(t.tr("field."+field), tapContactField.data(clientID, p.ID, field))
}

// mailable: the person agreed to mailings and did not unsubscribe.
func mailable(p store.Contact) bool { return p.Consent.Given && p.Consent.UnsubscribedAt == nil }

const tapContactField tap = "cf" // cf:<client>:<contact>:<field>[:<0|1>]

func (t *turn) startContactEdit(id, contactID, field, value string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	p, ok := c.Contacts[contactID]
	known := false
	for _, f := range contactFields {
		known = known || f == field
	}
	if !ok || !known {
		t.notice(t.tr("tap.stale"))
		return
	}
	switch field {
	case "dm", "consent":
		if value != "1" && value != "0" {
			t.notice(t.tr("tap.stale"))
			return
		}
		t.switchContact(c, p, field, value == "1")
		return
	case "delete":
		if _, err := t.st.RemoveContact(t.ctx, t.m.ID, c.ID, p.ID); err != nil {
			t.fail("remove contact", err)
			return
		}
		t.notice(t.tr("contact.removed", "name", p.Name))
		t.contacts(c.ID)
		return
	}
	f := &form{kind: formEditContact, clientID: c.ID, contactID: p.ID, contact: p, fields: []string{field}}
	t.s.dialog = &dialog{kind: dialogForm, form: f}
	t.ask(f)
}

// switchContact sets the decision maker or the consent to on. Consent for a person who
// unsubscribed is not one tap: the manager is shown when and how they left and asked
// to confirm they asked to come back.
func (t *turn) switchContact(c *store.Client, p store.Contact, field string, on bool) {
	var err error
	switch {
	case field == "dm":
		_, err = t.st.UpdateContact(t.ctx, t.m.ID, c.ID, p.ID, store.ContactPatch{DecisionMaker: &on})
	case on:
		_, err = t.st.GiveConsent(t.ctx, t.m.ID, c.ID, p.ID, false)
	default:
		_, err = t.st.WithdrawConsent(t.ctx, t.m.ID, c.ID, p.ID)
	}
	if errors.Is(err, store.ErrUnsubscribed) {
		t.askComeBack(c, p.ID)
		return
	}
	if err != nil {
		t.fail("save contact", err)
		return
	}
	t.contactMenu(c.ID, p.ID)
}

// askComeBack shows when and how a person unsubscribed, read again now, and asks the
// manager to confirm that the person asked to get mailings again.
func (t *turn) askComeBack(c *store.Client, contactID string) {
	fresh := t.editable(c.ID)
	if fresh == nil {
		return
	}
	p, ok := fresh.Contacts[contactID]
	if !ok || p.Consent.UnsubscribedAt == nil {
		t.contactMenu(fresh.ID, contactID)
		return
	}
	t.show(t.tr("consent.left", "name", p.Name, "when", t.when(*p.Consent.UnsubscribedAt), "how", t.unsubscribedHow(p)),
		row(btn(t.tr("btn.came_back"), tapComeBack.data(fresh.ID, p.ID))),
		row(btn(t.tr("btn.cancel"), tapContactMenu.data(fresh.ID, p.ID))))
}

func (t *turn) unsubscribedHow(p store.Contact) string {
	switch p.Consent.UnsubscribedVia {
	case "one-click":
		return t.tr("unsub.one_click")
	case "link":
		return t.tr("unsub.link")
	}
	return t.tr("unsub.other")
}

const tapComeBack tap = "cy" // cy:<client>:<contact>

// comeBack turns mailings back on for a person who unsubscribed, on the manager's
// confirmation that they asked to come back (the audit log keeps it).
func (t *turn) comeBack(id, contactID string) {
	c, p, ok := t.editableContact(id, contactID)
	if !ok {
		return
	}
	if _, err := t.st.GiveConsent(t.ctx, t.m.ID, c.ID, p.ID, true); err != nil {
		t.fail("give consent", err)
		return
	}
	t.notice(t.tr("consent.back", "name", p.Name))
	t.contactMenu(c.ID, p.ID)
}

// ask puts the form's current question, skipping what is already known.
func (t *turn) ask(f *form) {
	for f.pos < len(f.fields) && t.answered(f, f.fields[f.pos]) {
		f.pos++
	}
	if f.pos >= len(f.fields) {
		t.formDone(f)
		return
	}
	name := f.fields[f.pos]
	f.asked++
	var kb [][]Button
	if name == "kind" {
		kb = append(kb, row(btn(t.tr("kind.company"), tapFormKind.data(store.KindCompany)), btn(t.tr("kind.person"), tapFormKind.data(store.KindPerson))))
	} else if optional[name] && !f.kind.edits() {
		kb = append(kb, row(btn(t.tr("btn.skip"), tapSkip.data(f.asked))))
	}
	kb = append(kb, row(btn(t.tr("btn.cancel"), tapCancel.data())))
	q := t.tr("ask." + name)
	if cur := t.current(f, name); cur != "" {
		q += "\n" + t.tr("ask.current", "v", cur)
	}
	t.say(q, kb...)
}

// answered tells a question the dialog need not ask: filled by a shared contact (a
// person's name, their phone), or not asked for this kind of client.
func (t *turn) answered(f *form, name string) bool {
	if f.kind != formClient {
		return false
	}
	switch name {
	case "name":
		return f.client.Name != ""
	case "inn", "contact":
		if name == "contact" && f.contact.Name != "" {
			return true
		}
		return f.client.Kind == store.KindPerson
	case "phone":
		return len(f.contact.Phones) > 0
	case "email":
		return len(f.contact.Emails) > 0
	}
	return false
}

// current shows the value an edit replaces.
func (t *turn) current(f *form, name string) string {
	switch f.kind {
	case formEditClient:
		c := f.client
		switch name {
		case "name":
			return c.Name
		case "city":
			return c.City
		case "industry":
			return c.Industry
		case "inn":
			return c.Legal.INN
		case "website":
			return c.Website
		case "phone":
			return strings.Join(c.Phones, ", ")
		case "email":
			return strings.Join(c.Emails, ", ")
		case "tags":
			return strings.Join(c.Tags, ", ")
		case "source":
			return c.LeadSource
		}
	case formEditContact:
		p := f.contact
		switch name {
		case "name":
			return p.Name
		case "position":
			return p.Position
		case "phone":
			return strings.Join(p.Phones, ", ")
		case "email":
			return strings.Join(p.Emails, ", ")
		case "birthday":
			if p.Birthday != nil {
				return fmt.Sprintf("%02d.%02d", p.Birthday.Day, p.Birthday.Month)
			}
		}
	}
	return ""
}

// A form's buttons: the kind of client (fk:<kind>), skip a question (skip:<the
// question's number>), save.
const (
	tapFormKind tap = "fk"
	tapSkip     tap = "skip"
	tapConfirm  tap = "ok"
)

func (t *turn) formTap(f *form, verb tap, arg string) {
	if verb == tapSkip && (arg != strconv.Itoa(f.asked) || f.pos >= len(f.fields)) {
		// A second tap on the message of a question already skipped (or answered).
		t.notice(t.tr("form.skipped"))
		return
	}
	if f.pos >= len(f.fields) {
		if verb == tapConfirm && f.kind == formClient {
			t.saveNewClient(f)
			return
		}
		t.notice(t.tr("dialog.over"))
		return
	}
	name := f.fields[f.pos]
	switch {
	case verb == tapFormKind && name == "kind" && (arg == string(store.KindCompany) || arg == string(store.KindPerson)):
		f.client.Kind = store.ClientKind(arg)
		if f.client.Kind == store.KindPerson && f.client.Name == "" {
			// A person's client bears their name: a shared contact (or a letter's
			// sender) gave it already.
			f.client.Name = f.contact.Name
		}
		f.pos++
	case verb == tapSkip && optional[name]:
		f.pos++
	default:
		t.notice(t.tr("dialog.over"))
		return
	}
	t.ask(f)
}

// formText takes a typed answer; a bad one is explained and the question stays.
func (t *turn) formText(f *form, text string) {
	if f.pos >= len(f.fields) {
		t.say(t.tr("form.confirm_first"))
		return
	}
	name := f.fields[f.pos]
	if text == "-" && optional[name] {
		text = ""
	}
	if problem := t.setField(f, name, text); problem != "" {
		t.say(problem)
		return
	}
	if t.keyTaken(f, name) {
		return
	}
	if f.kind.edits() {
		t.saveEdit(f)
		return
	}
	f.pos++
	t.ask(f)
}

// setField checks and stores one answer; it returns what is wrong, or "".
func (t *turn) setField(f *form, name, v string) string {
	c, p := &f.client, &f.contact
	if f.kind == formClient && (name == "phone" || name == "email") {
		// Answers about the person go to the contact; about a company, too: the
		// contact is who will be called.
		if p.Name == "" {
			p.Name = c.Name
		}
	}
	if v == "" && !optional[name] {
		return t.tr("ask.required")
	}
	switch name {
	case "kind":
		return t.tr("ask.kind_buttons")
	case "name":
		if f.kind == formContact || f.kind == formEditContact {
			p.Name = v
		} else {
			c.Name = v
		}
	case "contact":
		p.Name = v
	case "position":
		p.Position = v
	case "city":
		c.City = v
	case "industry":
		c.Industry = v
	case "website":
		c.Website = v
	case "source":
		c.LeadSource = v
	case "tags":
		c.Tags = splitList(v)
	case "inn":
		if v != "" {
			inn, err := store.NormalizeINN(v)
			if err != nil {
				return t.tr("bad.inn", "v", v)
			}
			v = inn
		}
		c.Legal.INN = v
	case "phone", "email":
		norm, bad := t.st.Phones().Normalize, "bad.phone"
		if name == "email" {
			norm, bad = store.NormalizeEmail, "bad.email"
		}
		var list []string
		for _, x := range splitList(v) {
			n, err := norm(x)
			if err != nil {
				return t.tr(bad, "v", x)
			}
			list = append(list, n)
		}
		switch {
		case name == "phone" && f.kind == formEditClient:
			c.Phones = list
		case name == "phone":
			p.Phones = list
		case f.kind == formEditClient:
			c.Emails = list
		default:
			p.Emails = list
		}
	case "birthday":
		if v == "" {
			p.Birthday = nil
			break
		}
		bd, err := store.ParseBirthday(v, t.now)
		if err != nil {
			return t.tr("bad.birthday", "v", v)
		}
		p.Birthday = bd
	}
	return ""
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// formDone ends the questions: a new client is shown for confirmation, a new contact
// is saved.
func (t *turn) formDone(f *form) {
	switch f.kind {
	case formClient:
		var b strings.Builder
		b.WriteString(t.tr("new.confirm") + "\n\n<b>" + html.EscapeString(f.client.Name) + "</b> · " + t.tr("kind."+string(f.client.Kind)))
		for _, x := range []string{f.client.Legal.INN, f.client.City, f.client.Industry} {
			if x != "" {
				b.WriteString("\n" + html.EscapeString(x))
			}
		}
		if f.contact.Name != "" {
			b.WriteString("\n\n" + t.contactText(f.contact))
		}
		t.say(b.String(), row(btn(t.tr("btn.save"), tapConfirm.data()), btn(t.tr("btn.cancel"), tapCancel.data())))
	case formContact:
		c := t.editable(f.clientID)
		if c == nil {
			t.s.dialog = nil
			return
		}
		updated, _, err := t.st.AddContact(t.ctx, t.m.ID, c.ID, f.contact)
		if err != nil {
			t.storeProblem(f, err)
			return
		}
		t.s.dialog = nil
		t.say(t.tr("contact.saved", "name", f.contact.Name))
		t.claimLetters(updated)
		t.contacts(c.ID)
	}
}

func (t *turn) saveNewClient(f *form) {
	c := f.client
	c.ManagerID = t.m.ID
	if f.contact.Name != "" || len(f.contact.Phones) > 0 || len(f.contact.Emails) > 0 {
		p := f.contact
		if p.Name == "" {
			p.Name = c.Name
		}
		c.Contacts = map[string]store.Contact{newContactKey: p}
	}
	if err := t.st.CreateClient(t.ctx, t.m.ID, &c); err != nil {
		t.storeProblem(f, err)
		return
	}
	t.s.dialog = nil
	t.say(t.tr("new.saved", "name", c.Name))
	if f.letterID != "" {
		// Read again: the letter may have gone to another manager's client meanwhile.
		if l := t.letter(f.letterID); l != nil {
			t.linkLetter(l, &c)
		}
	}
	t.claimLetters(&c)
	t.showCard(&c)
}

// newContactKey is replaced by a real ID when the client is created.
const newContactKey = "p1"

// saveEdit writes the one field the dialog edited: the rest of the copy it began with
// may be stale (the person unsubscribed, another manager changed a field).
func (t *turn) saveEdit(f *form) {
	c := t.editable(f.clientID)
	if c == nil {
		t.s.dialog = nil
		return
	}
	if f.kind == formEditContact {
		n := f.contact
		var p store.ContactPatch
		switch f.fields[0] {
		case "name":
			p.Name = &n.Name
		case "position":
			p.Position = &n.Position
		case "phone":
			p.Phones = &n.Phones
		case "email":
			p.Emails = &n.Emails
		case "birthday":
			p.Birthday = &store.Birthday{} // none
			if n.Birthday != nil {
				p.Birthday = n.Birthday
			}
		}
		if _, err := t.st.UpdateContact(t.ctx, t.m.ID, c.ID, f.contactID, p); err != nil {
			t.storeProblem(f, err)
			return
		}
		t.s.dialog = nil
		t.notice(t.tr("saved"))
		t.contacts(c.ID)
		return
	}
	n := f.client
	var p store.ClientPatch
	switch f.fields[0] {
	case "name":
		p.Name = &n.Name
	case "city":
		p.City = &n.City
	case "industry":
		p.Industry = &n.Industry
	case "inn":
		p.INN = &n.Legal.INN
	case "website":
		p.Website = &n.Website
	case "phone":
		p.Phones = &n.Phones
	case "email":
		p.Emails = &n.Emails
	case "tags":
		p.Tags = &n.Tags
	case "source":
		p.LeadSource = &n.LeadSource
	}
	updated, err := t.st.UpdateClient(t.ctx, t.m.ID, c.ID, p)
	if err != nil {
		t.storeProblem(f, err)
		return
	}
	t.s.dialog = nil
	t.say(t.tr("saved"))
	t.showCard(updated)
}

// storeProblem explains why the store refused an answer and asks that question again.
func (t *turn) storeProblem(f *form, err error) {
	var taken *store.KeyTakenError
	switch {
	case errors.As(err, &taken):
		kind, value, _ := strings.Cut(taken.Key, ":")
		c, err := t.st.Client(t.ctx, taken.ClientID)
		if err != nil {
			c = &store.Client{ID: taken.ClientID, Name: taken.ClientName}
		}
		t.sayTaken(f, kind, value, c)
	case errors.Is(err, store.ErrInvalid):
		t.say(t.tr("bad.input", "v", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")))
	default:
		t.fail("save", err)
	}
}

func indexOf(xs []string, v string) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}
