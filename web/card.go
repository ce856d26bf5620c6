package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/crm-team/crm/store"
)

// cardEntries is how many of the newest history entries a card shows.
const cardEntries = 20

// cardData is a client's card, read-only: details, contact persons, open tasks and
// the newest history.
type cardData struct {
	C           *store.Client
	Contacts    []store.Contact
	ManagerName string
	Orders      string // paid in all, formatted; "" without paid orders
	Entries     []cardEntry
	Names       map[string]string // manager ID -> name, for tasks' assignees
}

type cardEntry struct {
	store.Interaction
	Author, Contact, Line string
}

// card shows a client the viewer may see; any other is "not found", as in the bot,
// so the page tells nothing of another manager's client.
func (h *Handler) card(w http.ResponseWriter, r *http.Request, v *visit) {
	c, err := h.st.Card(r.Context(), r.PathValue("id"), cardEntries)
	if errors.Is(err, store.ErrNotFound) || err == nil && !v.viewer().CanSee(c.Client) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return
	}
	if err != nil {
		h.fail(w, r, v, "read a card", err)
		return
	}
	_, names, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	d := &cardData{C: c.Client, Contacts: c.Client.ContactList(), ManagerName: names[c.Client.ManagerID], Names: names}
	if c.Client.OrdersTotal > 0 {
		d.Orders = store.FormatAmount(c.Client.OrdersTotal) + " " + store.Currency
	}
	p := h.visitPage(v, "clients", "clients.title", d)
	p.Title = c.Client.Name
	for _, it := range c.Interactions {
		e := cardEntry{Interaction: it, Author: names[it.AuthorID], Line: entryLine(p, it)}
		if ct, ok := c.Client.Contacts[it.ContactID]; ok {
			e.Contact = ct.Name
		}
		d.Entries = append(d.Entries, e)
	}
	h.render(w, r, http.StatusOK, "card", p)
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
