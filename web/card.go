package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crm-team/crm/store"
)

// cardEntries is how many history entries a page of the card shows.
const cardEntries = 20

// cardOrders is how many of the newest orders the card lists.
const cardOrders = 5

// cardData is a client's card: details, contact persons, files, open tasks, money and
// a page of the history; what the viewer may change.
type cardData struct {
	C           *store.Client
	Contacts    []cardContact
	ManagerName string
	Orders      string // paid in all, formatted; "" without paid orders
	Entries     []cardEntry
	Older       string // the address of the next older page of history; "" at its start
	Paged       bool   // an older page is shown, not the newest
	Names       map[string]string
	Files       []store.FileRef // newest first
	Money       *cardMoney
	CanEdit     bool            // the viewer may change the client (own, or a head's)
	CanTake     bool            // an unassigned client a manager may take
	Team        []store.Manager // whom a head may give the client to
	Notice      string          // what the last change did
}

type cardContact struct {
	store.Contact
	Consent string // the consent's state, in words
}

type cardEntry struct {
	store.Interaction
	Author, Contact, Line string
	LetterID              string
}

// cardMoney is what the card says of the client's orders.
type cardMoney struct {
	Owed, Overdue, PaidThisYear string // formatted; "" for none
	Year                        int
	Orders                      []cardOrder
	More                        int // orders not listed
}

type cardOrder struct {
	store.OrderRef
	Amount, Paid, State string
	Overdue             bool
}

// viewable reads a client the viewer may see; another manager's client, or one that
// does not exist, is "not found" (answered here), so a page tells nothing of it.
func (h *Handler) viewable(w http.ResponseWriter, r *http.Request, v *visit, id string) *store.Client {
	c, err := h.st.Client(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !v.viewer().CanSee(c) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil
	}
	if err != nil {
		h.fail(w, r, v, "read a client", err)
		return nil
	}
	return c
}

// canEdit: as in the bot, a manager changes their own clients, a head or an admin
// any; an unassigned client is taken first.
func (v *visit) canEdit(c *store.Client) bool { return v.m.Role.SeesAll() || c.ManagerID == v.m.ID }

// card shows a client the viewer may see; ?before=N pages back through the history.
func (h *Handler) card(w http.ResponseWriter, r *http.Request, v *visit) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	c, items, more := h.cardPage(w, r, v, before)
	if c == nil {
		return
	}
	d, err := h.cardData(r.Context(), v, c)
	if err != nil {
		h.fail(w, r, v, "read a card", err)
		return
	}
	d.Paged = before > 0
	if more > 0 {
		d.Older = Prefix + "/clients/" + c.ID + "?before=" + strconv.FormatInt(more, 10) + "#history"
	}
	if n := r.URL.Query().Get("done"); slices.Contains([]string{"saved", "taken", "reassigned", "contact", "claimed", "removed"}, n) {
		d.Notice = "done." + n
	}
	p := h.visitPage(v, "clients", "clients.title", d)
	p.Title = c.Name
	if d.Notice != "" {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		d.Notice = p.T(d.Notice, "n", strconv.Itoa(max(n, 0)))
	}
	for _, it := range items {
		e := cardEntry{Interaction: it, Author: d.Names[it.AuthorID], Line: entryLine(p, it)}
		if ct, ok := c.Contacts[it.ContactID]; ok {
			e.Contact = ct.Name
		}
		if it.Mail != nil {
			e.LetterID = it.Mail.LetterID
		}
		d.Entries = append(d.Entries, e)
	}
	for i := range d.Contacts {
		d.Contacts[i].Consent = consentLine(p, d.Contacts[i].Contact)
	}
	if d.Money != nil {
		for i, o := range d.Money.Orders {
			d.Money.Orders[i].State = p.T("order." + string(o.OrderRef.State))
		}
	}
	h.render(w, r, http.StatusOK, "card", p)
}

// cardPage reads a client the viewer may see with a page of its history: the newest
// with the client (store.Card, as few reads as the card can take), or the entries
// before an entry's number. Nil when the page answered already ("not found", a failure).
func (h *Handler) cardPage(w http.ResponseWriter, r *http.Request, v *visit, before int64) (*store.Client, []store.Interaction, int64) {
	if before > 0 {
		c := h.viewable(w, r, v, r.PathValue("id"))
		if c == nil {
			return nil, nil, 0
		}
		items, more, err := h.st.Timeline(r.Context(), c.ID, before, cardEntries)
		if err != nil {
			h.fail(w, r, v, "read a card's history", err)
			return nil, nil, 0
		}
		return c, items, more
	}
	card, err := h.st.Card(r.Context(), r.PathValue("id"), cardEntries)
	if errors.Is(err, store.ErrNotFound) || err == nil && !v.viewer().CanSee(card.Client) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil, nil, 0
	}
	if err != nil {
		h.fail(w, r, v, "read a card", err)
		return nil, nil, 0
	}
	return card.Client, card.Interactions, card.More
}

// cardData reads what the card shows besides the history: the team's names and the
// client's orders (one _id read each).
func (h *Handler) cardData(ctx context.Context, v *visit, c *store.Client) (*cardData, error) {
	team, names, err := h.team(ctx)
	if err != nil {
		return nil, err
	}
	d := &cardData{C: c, ManagerName: names[c.ManagerID], Names: names, CanEdit: v.canEdit(c),
		CanTake: c.ManagerID == "" && !v.m.Role.SeesAll(), Files: slices.Clone(c.Files)}
	slices.Reverse(d.Files)
	for _, ct := range c.ContactList() {
		d.Contacts = append(d.Contacts, cardContact{Contact: ct})
	}
	if c.OrdersTotal > 0 {
		d.Orders = store.FormatAmount(c.OrdersTotal) + " " + store.Currency
	}
	if v.m.Role.SeesAll() {
		for _, m := range team {
			if m.Active {
				d.Team = append(d.Team, m)
			}
		}
	}
	m, err := h.st.ClientMoney(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if len(m.Orders) > 0 {
		now := h.now()
		cm := &cardMoney{Owed: amount(m.Owed), Overdue: amount(m.Overdue), PaidThisYear: amount(m.PaidThisYear),
			Year: now.Year(), More: max(len(m.Orders)-cardOrders, 0)}
		for _, o := range m.Orders[:min(cardOrders, len(m.Orders))] {
			cm.Orders = append(cm.Orders, cardOrder{OrderRef: o, Amount: amount(o.Amount), Paid: amount(o.Paid),
				Overdue: o.Owed() > 0 && o.Due != nil && now.After(*o.Due)})
		}
		d.Money = cm
	}
	return d, nil
}

// amount formats minor units with the currency; "" for none.
func amount(minor int64) string {
	if minor == 0 {
		return ""
	}
	return store.FormatAmount(minor) + " " + store.Currency
}

// consentLine says whether a person gets mailings, and since when they do not.
func consentLine(p *page, ct store.Contact) string {
	switch cs := ct.Consent; {
	case cs.UnsubscribedAt != nil:
		how := cs.UnsubscribedVia
		if how == "one-click" {
			how = "one_click"
		} else if how != "link" {
			how = "other"
		}
		return p.T("consent.unsubscribed", "date", p.Date(*cs.UnsubscribedAt), "how", p.T("consent.via."+how))
	case cs.Given && cs.At != nil:
		return p.T("consent.given", "date", p.Date(*cs.At))
	case cs.Given:
		return p.T("consent.given.undated")
	}
	return p.T("consent.none")
}

// entryLine says what a history entry is about in one line.
func entryLine(p *page, it store.Interaction) string {
	var parts []string
	switch {
	case it.Stage != nil:
		parts = append(parts, p.Stage(it.Stage.From)+" → "+p.Stage(it.Stage.To))
		if it.Stage.Reason != "" {
			parts = append(parts, p.T("card.refusal", "why", it.Stage.Reason))
		}
	case it.Mail != nil:
		parts = append(parts, it.Mail.Subject)
	case it.Order != nil:
		parts = append(parts, strings.TrimSpace(it.OrderID+" "+it.Order.What),
			store.FormatAmount(it.Order.Amount)+" "+store.Currency)
	case it.Call != nil && it.Call.NextStep != "":
		parts = append(parts, it.Call.NextStep)
	}
	if it.Text != "" {
		parts = append(parts, it.Text)
	}
	return strings.Join(parts, " · ")
}
