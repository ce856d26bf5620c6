package bot

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/crm-team/crm/store"
)

// A client the manager may not open is still named, with its manager, where not
// naming it would make a duplicate or a wasted call: a search that finds only such
// clients, and a phone, e-mail or INN a new client's dialog is given. Nothing else of
// the card is said.

// whose says whose client it is: "«Ромашка» — клиент менеджера Борис".
func (t *turn) whose(name, managerID string) string {
	switch managerID {
	case "":
		return t.tr("owner.none", "name", name)
	case t.m.ID:
		return t.tr("owner.mine", "name", name)
	}
	return t.tr("owner.of", "name", name, "manager", t.managerName(managerID))
}

// ownersShown is how many owners a search names at most.
const ownersShown = 3

// sayOwners answers a search that found nothing the manager may open with whose the
// clients it matches are, when it matches them exactly (a phone, e-mail or INN, or the
// whole name): a fragment of a name does not list others' clients. False when there
// is nothing to name.
func (t *turn) sayOwners(q string) bool {
	if t.m.Role.SeesAll() {
		return false // they would have been found
	}
	// As a head: to name the owners only, never to show more.
	all, err := t.st.Search(t.ctx, store.Viewer{Role: store.RoleHead}, q, ownersShown+1)
	if err != nil {
		t.log.Warn("search for owners", "manager", t.m.ID, "err", err)
		return false
	}
	var lines []string
	for _, r := range all {
		if r.Match <= store.MatchExact && len(lines) < ownersShown {
			lines = append(lines, t.whose(r.Name, r.ManagerID))
		}
	}
	if len(lines) == 0 {
		return false
	}
	t.say(strings.Join(lines, "\n"))
	return true
}

// keyTaken checks the phones, e-mails or INN just typed into a form (field) against
// the keys of other clients, by _id, before any further question: one taken is cleared
// and the question asked again, with whose client has it. False when none is taken.
func (t *turn) keyTaken(f *form, field string) bool {
	var values []string
	var find func(context.Context, string) (*store.Hit, error)
	switch field {
	case "inn":
		values, find = []string{f.client.Legal.INN}, t.st.FindByINN
	case "phone":
		values, find = slices.Concat(f.contact.Phones, f.client.Phones), t.st.FindByPhone
	case "email":
		values, find = slices.Concat(f.contact.Emails, f.client.Emails), t.st.FindByEmail
	default:
		return false
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		hit, err := find(t.ctx, v)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			// The save checks the keys again.
			t.log.Warn("check a key", "manager", t.m.ID, "err", err)
			return false
		}
		if hit.Client.ID != f.clientID {
			t.sayTaken(f, field, v, hit.Client)
			return true
		}
	}
	return false
}

// sayTaken says that a value belongs to another client, and whose, clears the answer
// and asks the question again. A client the manager may open gets a button to its
// card, which leaves the dialog.
func (t *turn) sayTaken(f *form, field, value string, c *store.Client) {
	var kb [][]Button
	if t.viewer().CanSee(c) {
		kb = append(kb, row(btn(t.tr("btn.open_taken"), tapTakenCard.data(c.ID))))
	}
	t.say(t.tr("bad.taken", "v", value, "owner", safe(t.whose(c.Name, c.ManagerID))), kb...)
	i := indexOf(f.fields, field)
	if i < 0 {
		return
	}
	f.pos = i
	switch field {
	case "phone":
		f.contact.Phones, f.client.Phones = nil, nil
	case "email":
		f.contact.Emails, f.client.Emails = nil, nil
	case "inn":
		f.client.Legal.INN = ""
	}
	t.ask(f)
}

const tapTakenCard tap = "xc" // xc:<client>

// takenCard leaves the dialog for the card of the client that has the value typed.
func (t *turn) takenCard(id string) {
	if t.client(id) == nil {
		return
	}
	t.s.dialog = nil
	t.openCard(id)
}
