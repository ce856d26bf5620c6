package bot

import (
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/nyaruka/phonenumbers"
)

// cardInteractions is how many recent entries a card shows; historyPage, a page.
const (
	cardInteractions = 5
	historyPage      = 10
	listLimit        = 10
)

func (t *turn) stageName(s store.Stage) string {
	return s.Mark() + " " + t.tr("stage."+string(s))
}

// client reads a client the manager may see. A client that does not exist and one of
// another manager look the same, so that callback data cannot probe the base.
func (t *turn) client(id string) *store.Client {
	c, err := t.st.Client(t.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read client", err)
		return nil
	}
	if err != nil || !t.viewer().CanSee(c) {
		t.notice(t.tr("client.none"))
		return nil
	}
	return c
}

// canEdit: a manager edits own clients, a head or admin any; an unassigned client is
// taken first.
func (t *turn) canEdit(c *store.Client) bool {
	return t.m.Role.SeesAll() || c.ManagerID == t.m.ID
}

// editable reads a client the manager may change.
func (t *turn) editable(id string) *store.Client {
	c := t.client(id)
	if c == nil {
		return nil
	}
	if !t.canEdit(c) {
		t.notice(t.tr("client.take_first"))
		return nil
	}
	return c
}

// find searches by anything and opens the card of a single hit.
func (t *turn) find(q string) {
	if q == "" {
		t.say(t.tr("find.how"))
		return
	}
	res, ok := t.search(q)
	note := t.searchNote()
	switch {
	case !ok:
	case len(res) == 0:
		if t.sayOwners(q) {
			return
		}
		t.say(t.tr("find.none", "q", q)+note, row(btn(t.tr("btn.new"), tapNewClient.data())))
	case len(res) == 1:
		t.openCard(res[0].ClientID)
		if note != "" && res[0].Match != store.MatchKey { // a key is exact: nothing was missed
			t.say(strings.TrimPrefix(note, "\n"))
		}
	default:
		t.showFound(q, res, 0)
	}
}

// searchCap bounds the results a search pages through; past it the list asks to
// narrow the search.
const searchCap = 200

func (t *turn) search(q string) ([]store.Result, bool) {
	res, err := t.st.Search(t.ctx, t.viewer(), q, searchCap)
	if err != nil {
		t.fail("search", err)
		return nil, false
	}
	return res, true
}

// foundPage shows a page of a search's results, searched again.
func (t *turn) foundPage(q string, page int) {
	res, ok := t.search(q)
	switch {
	case !ok:
	case len(res) == 0:
		t.showPage(t.tr("find.none", "q", q), row(btn(t.tr("btn.new"), tapNewClient.data())))
	default:
		t.showFound(q, res, page)
	}
}

func (t *turn) showFound(q string, res []store.Result, page int) {
	p := newPager(listFound, listPage, len(res), page, q)
	from, to := p.span()
	t.showList(t.tr("find.many", "q", q)+t.searchNote(), p, res[from:to], len(res) == searchCap)
}

// searchNote is a line saying the names searched were still loading or behind the
// database, or "": search answers from the client directory as it stands.
func (t *turn) searchNote() string {
	switch st := t.st.DirectoryState(); {
	case st.Loading:
		return "\n" + t.tr("find.loading")
	case st.Stale():
		return "\n" + t.tr("find.behind", "s", int(st.Behind.Seconds()))
	}
	return ""
}

// showList shows a page of clients, numbered, with a button per client naming its
// city and stage. capped: the list goes on past what was read.
func (t *turn) showList(title string, p pager, page []store.Result, capped bool) {
	var b strings.Builder
	b.WriteString(p.head(t, title))
	from, _ := p.span()
	for i, r := range page {
		fmt.Fprintf(&b, "\n%d. %s %s", from+i+1, r.Stage.Mark(), html.EscapeString(r.Name))
	}
	if capped || p.more() {
		b.WriteString("\n" + t.tr("find.more"))
	}
	kb := p.keys(t.resultButtons(page, func(r store.Result) tapData { return tapCard.data(r.ClientID) }))
	t.showPage(b.String(), kb...)
}

// resultButtons gives each found client a button "name · city · stage" with the data
// data makes; the city is read from the client, one _id read a button.
func (t *turn) resultButtons(res []store.Result, data func(store.Result) tapData) [][]Button {
	kb := make([][]Button, 0, len(res))
	for _, r := range res {
		parts := []string{clip(r.Name, 30)}
		c, err := t.st.Client(t.ctx, r.ClientID)
		switch {
		case err == nil && c.City != "":
			parts = append(parts, clip(c.City, 16))
		case err != nil && !errors.Is(err, store.ErrNotFound):
			t.log.Warn("read a found client's city", "client", r.ClientID, "err", err)
		}
		parts = append(parts, t.stageShort(r.Stage))
		kb = append(kb, row(btn(strings.Join(parts, " · "), data(r))))
	}
	return kb
}

// stageShort is the stage's colour and name without its explanation: "🟢 Зелёный".
func (t *turn) stageShort(s store.Stage) string {
	name, _, _ := strings.Cut(t.tr("stage."+string(s)), " — ")
	return s.Mark() + " " + name
}

const tapClients tap = "cl" // cl:<offset>, the buttons of /clients before its pages

// clientsPage shows a page of the manager's clients. The directory sorts them all
// whatever the page, so the list is read whole and cut here.
func (t *turn) clientsPage(page int) {
	res, total, err := t.st.ManagerClients(t.ctx, t.m.ID, 0, 0)
	if err != nil {
		t.fail("list clients", err)
		return
	}
	if total == 0 {
		t.showPage(t.tr("clients.none"), row(btn(t.tr("btn.new"), tapNewClient.data())))
		return
	}
	p := newPager(listClients, listPage, len(res), page, "")
	from, to := p.span()
	t.showList(t.tr("clients.title", "total", len(res)), p, res[from:to], false)
}

const tapCard tap = "c" // c:<client>

// openCard shows a client's card if the manager may see it. The card's own read of the
// client serves the access check, so opening a card reads the client once.
func (t *turn) openCard(id string) {
	card, err := t.st.Card(t.ctx, id, cardInteractions)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read card", err)
		return
	}
	if err != nil || !t.viewer().CanSee(card.Client) {
		t.notice(t.tr("client.none"))
		return
	}
	t.renderCard(card)
}

// showCard shows a client's card after a change, reading it again so that the entry
// the change added to the history is on it.
func (t *turn) showCard(c *store.Client) {
	card, err := t.st.Card(t.ctx, c.ID, cardInteractions)
	if err != nil {
		t.fail("read card", err)
		return
	}
	t.renderCard(card)
}

// renderCard shows the card with its buttons and remembers it as open.
func (t *turn) renderCard(card *store.Card) {
	t.s.cardID, t.s.cardAt = card.Client.ID, t.now
	t.show(t.cardText(card), t.cardButtons(card.Client)...)
}

func (t *turn) cardText(card *store.Card) string {
	c := card.Client
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s</b>\n%s", html.EscapeString(c.Name), t.stageName(c.Stage))
	if c.Stage.Red() && c.RefusalReason != "" {
		fmt.Fprintf(&b, " — %s", html.EscapeString(t.refusalText(c.RefusalCode, c.RefusalReason)))
	}
	if c.AtRiskSince != nil {
		b.WriteString("\n" + t.tr("card.at_risk"))
	}
	var facts []string
	for _, f := range []struct{ key, v string }{{"card.city", c.City}, {"card.industry", c.Industry}, {"card.inn", c.Legal.INN},
		{"card.source", c.LeadSource}, {"card.class", c.Class}} {
		if f.v != "" {
			facts = append(facts, t.tr(f.key, "v", f.v))
		}
	}
	if len(facts) > 0 {
		b.WriteString("\n" + strings.Join(facts, " · "))
	}
	b.WriteString("\n" + t.tr("card.manager", "v", t.managerName(c.ManagerID)))
	for _, p := range c.Phones {
		b.WriteString("\n📞 " + t.phone(p))
	}
	for _, e := range c.Emails {
		b.WriteString("\n✉ " + html.EscapeString(e))
	}
	if len(c.Tags) > 0 {
		b.WriteString("\n🏷 " + html.EscapeString(strings.Join(c.Tags, ", ")))
	}
	for _, p := range c.ContactList() {
		b.WriteString("\n\n" + t.contactText(p))
	}
	if c.NextContactAt != nil {
		b.WriteString("\n\n" + t.tr("card.next", "v", t.when(*c.NextContactAt)))
	}
	for _, r := range c.Tasks {
		b.WriteString("\n ⏰ " + html.EscapeString(t.when(r.Due)) + " — " + html.EscapeString(r.Text))
	}
	if len(c.Files) > 0 {
		b.WriteString("\n\n" + t.tr("card.files", "n", len(c.Files)))
	}
	b.WriteString(t.cardOrders(c.ID))
	if len(card.Interactions) > 0 {
		b.WriteString("\n\n" + t.tr("card.latest"))
		for _, it := range card.Interactions {
			b.WriteString("\n" + t.interactionText(it))
		}
	}
	return b.String()
}

func (t *turn) cardButtons(c *store.Client) [][]Button {
	id := c.ID
	if !t.canEdit(c) {
		return [][]Button{
			row(btn(t.tr("btn.take"), tapTake.data(id))),
			row(btn(t.tr("btn.contacts"), tapContacts.data(id)), btn(t.tr("btn.history"), tapHistory.data(id, 0))),
			row(btn(t.tr("btn.order_new"), tapOrderNew.data(id)), btn(t.tr("btn.orders"), tapOrders.data(id))),
		}
	}
	kb := [][]Button{
		row(btn(t.tr("btn.call"), tapCall.data(id)), btn(t.tr("btn.note"), tapNote.data(id)), btn(t.tr("btn.stage"), tapStages.data(id))),
		row(btn(t.tr("btn.remind"), tapRemind.data(id)), btn(t.tr("btn.contacts"), tapContacts.data(id)), btn(t.tr("btn.history"), tapHistory.data(id, 0))),
		row(btn(t.tr("btn.emails"), tapEmails.data(id)), btn(t.tr("btn.edit"), tapEdit.data(id))),
		row(btn(t.tr("btn.order_new"), tapOrderNew.data(id)), btn(t.tr("btn.orders"), tapOrders.data(id))),
	}
	if t.m.Role.SeesAll() {
		kb[2] = append(kb[2], btn(t.tr("btn.reassign"), tapReassignMenu.data(id)))
	}
	// The newest files, one button each: a tap sends the file back.
	files := c.Files
	if len(files) > 4 {
		files = files[len(files)-4:]
	}
	for i := len(files) - 1; i >= 0; i-- {
		kb = append(kb, row(btn("📎 "+files[i].Name+" ("+sizeText(files[i].Size)+")", tapFile.data(files[i].ID))))
	}
	return kb
}

func (t *turn) contactText(p store.Contact) string {
	var b strings.Builder
	b.WriteString("👤 <b>" + html.EscapeString(p.Name) + "</b>")
	if p.Position != "" {
		b.WriteString(", " + html.EscapeString(p.Position))
	}
	if p.DecisionMaker {
		b.WriteString(" ★")
	}
	for _, ph := range p.Phones {
		b.WriteString("\n   📞 " + t.phone(ph))
	}
	for _, e := range p.Emails {
		mark := ""
		for _, bad := range p.BouncedEmails {
			if bad == e {
				mark = " ⚠"
			}
		}
		b.WriteString("\n   ✉ " + html.EscapeString(e) + mark)
	}
	if p.Birthday != nil {
		bd := fmt.Sprintf("%02d.%02d", p.Birthday.Day, p.Birthday.Month)
		if p.Birthday.Year > 0 {
			bd += fmt.Sprintf(".%d", p.Birthday.Year)
		}
		b.WriteString("\n   🎂 " + bd)
	}
	if mailable(p) {
		b.WriteString("\n   " + t.tr("contact.consent"))
	}
	if p.Consent.UnsubscribedAt != nil {
		b.WriteString("\n   " + t.tr("contact.unsubscribed", "when", t.when(*p.Consent.UnsubscribedAt)))
	}
	return b.String()
}

// phone shows an E.164 number the way Telegram makes tappable: "+7 916 123-45-67".
func (t *turn) phone(e164 string) string { return phoneText(e164) }

func phoneText(e164 string) string {
	if n, err := phonenumbers.Parse(e164, ""); err == nil {
		return html.EscapeString(phonenumbers.Format(n, phonenumbers.INTERNATIONAL))
	}
	return html.EscapeString(e164)
}

func (t *turn) interactionText(it store.Interaction) string {
	at := t.when(it.At)
	var what string
	switch it.Kind {
	case store.InteractionCall:
		what = "📞 " + t.tr("kind.call")
		if it.Call != nil {
			what += " — " + t.tr("outcome."+it.Call.Outcome)
			if it.Call.NextStep != "" {
				what += " → " + html.EscapeString(it.Call.NextStep)
			}
		}
	case store.InteractionStageChange:
		what = "🎯 "
		if it.Stage != nil {
			what += t.stageName(it.Stage.From) + " → " + t.stageName(it.Stage.To)
			if it.Stage.Reason != "" {
				what += " (" + html.EscapeString(t.refusalText(it.Stage.Code, it.Stage.Reason)) + ")"
			}
			if it.Text == it.Stage.Reason {
				it.Text = "" // an older entry kept the reason in its text too
			}
		}
		if it.OrderID != "" {
			what += " " + t.tr("history.by_order", "id", it.OrderID)
		}
	case store.InteractionOrder, store.InteractionPayment:
		what = t.tr("kind." + string(it.Kind))
		if it.Order != nil {
			what = t.orderLineText(it)
		}
	case store.InteractionEmailIn, store.InteractionEmailOut:
		what = t.tr("kind." + string(it.Kind))
		if it.Mail != nil {
			what += ": " + html.EscapeString(it.Mail.Subject)
		}
	default:
		what = t.tr("kind." + string(it.Kind))
	}
	line := "• " + html.EscapeString(at) + " " + what
	if it.FileID != "" && it.Kind != store.InteractionFile {
		line += " 🎤"
	}
	if it.Text != "" {
		line += ": " + html.EscapeString(clip(it.Text, 200))
	}
	return line
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// when shows a time in the manager's zone, with the year only when it is not this one.
func (t *turn) when(at time.Time) string {
	l := at.In(t.loc)
	if l.Year() != t.now.In(t.loc).Year() {
		return l.Format("02.01.2006 15:04")
	}
	return l.Format("02.01 15:04")
}

// whenFull repeats a time back in full, with the weekday: "пт 25.12.2026 15:00".
func (t *turn) whenFull(at time.Time) string {
	l := at.In(t.loc)
	days := strings.Split(t.tr("weekdays"), ",")
	wd := ""
	if len(days) == 7 {
		wd = days[l.Weekday()] + " "
	}
	return wd + l.Format("02.01.2006 15:04")
}

func (t *turn) managerName(id string) string {
	if id == "" {
		return t.tr("card.unassigned")
	}
	if id == t.m.ID {
		return t.m.Name
	}
	m, err := t.st.Manager(t.ctx, id)
	if err != nil {
		return "—"
	}
	return m.Name
}

const tapHistory tap = "h" // h:<client>:<before>

func (t *turn) history(id, beforeArg string) {
	c := t.client(id)
	if c == nil {
		return
	}
	before, _ := strconv.ParseInt(beforeArg, 10, 64)
	items, next, err := t.st.Timeline(t.ctx, c.ID, before, historyPage)
	if err != nil {
		t.fail("read history", err)
		return
	}
	var b strings.Builder
	b.WriteString(t.tr("history.title", "name", c.Name))
	if len(items) == 0 {
		b.WriteString("\n" + t.tr("history.empty"))
	}
	for _, it := range items {
		b.WriteString("\n" + t.interactionText(it))
	}
	nav := row(btn(t.tr("btn.card"), tapCard.data(c.ID)))
	if next > 0 {
		nav = append([]Button{btn(t.tr("btn.older"), tapHistory.data(c.ID, next))}, nav...)
	}
	var kb [][]Button
	for _, it := range items {
		if it.FileID != "" && len(kb) < 5 {
			kb = append(kb, row(btn("📎 "+clip(it.Text, 30), tapFile.data(it.FileID))))
		}
	}
	t.show(b.String(), append(kb, nav)...)
}

const tapContacts tap = "ct" // ct:<client>

func (t *turn) contacts(id string) {
	c := t.client(id)
	if c == nil {
		return
	}
	var b strings.Builder
	b.WriteString(t.tr("contacts.title", "name", c.Name))
	list := c.ContactList()
	if len(list) == 0 {
		b.WriteString("\n" + t.tr("contacts.none"))
	}
	var kb [][]Button
	for _, p := range list {
		b.WriteString("\n\n" + t.contactText(p))
		if t.canEdit(c) {
			kb = append(kb, row(btn("✏ "+p.Name, tapContactMenu.data(c.ID, p.ID))))
		}
	}
	last := row(btn(t.tr("btn.card"), tapCard.data(c.ID)))
	if t.canEdit(c) {
		last = append([]Button{btn(t.tr("btn.add_contact"), tapNewContact.data(c.ID))}, last...)
	}
	t.show(b.String(), append(kb, last)...)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
