package bot

import (
	"html"
	"strings"

	"github.com/crm-team/crm/store"
)

// clientLine is whom a task is about, on one line of a task list or a reminder: the
// client, the contact person and a phone written the way Telegram makes tappable
// (+7 916 123-45-67), so the manager calls from the list without opening the card.
func clientLine(c *store.Client, contactID string) string {
	parts := []string{"📇 <b>" + html.EscapeString(c.Name) + "</b>"}
	p, ok := taskContact(c, contactID)
	if ok {
		parts = append(parts, "👤 "+html.EscapeString(p.Name))
	}
	phones := c.Phones
	if ok && len(p.Phones) > 0 {
		phones = p.Phones
	}
	if len(phones) > 0 {
		parts = append(parts, "📞 "+phoneText(phones[0]))
	}
	return strings.Join(parts, " · ")
}

// taskContact is the person a task about a client most likely means: the one it names,
// else the decision maker, else the first contact with a phone, else the first one.
func taskContact(c *store.Client, contactID string) (store.Contact, bool) {
	if p, ok := c.Contacts[contactID]; ok && contactID != "" {
		return p, true
	}
	list := c.ContactList()
	if len(list) == 0 {
		return store.Contact{}, false
	}
	best, score := list[0], -1
	for _, p := range list {
		s := 0
		if p.DecisionMaker {
			s += 2
		}
		if len(p.Phones) > 0 {
			s++
		}
		if s > score {
			best, score = p, s
		}
	}
	return best, true
}
