package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/crm-team/crm/store"
)

// contactForm is the page of a new contact person (contactID "") or of one to edit.
func (h *Handler) contactForm(v *visit, c *store.Client, contactID string) (*editData, *page) {
	d := &editData{ClientID: c.ID, ClientName: c.Name, Action: Prefix + "/clients/" + c.ID + "/contacts/new"}
	p := h.visitPage(v, "clients", "contact.new", d)
	ct := store.Contact{}
	if contactID != "" {
		ct = c.Contacts[contactID]
		d.Contact = &cardContact{Contact: ct, Consent: consentLine(p, ct)}
		d.Action = Prefix + "/clients/" + c.ID + "/contacts/" + ct.ID
		p.Title = p.T("contact.edit", "name", ct.Name)
	}
	d.Heading = p.Title
	d.Fields = fields(p, contactFields, func(k string) string { return contactValue(ct, k) })
	return d, p
}

// contactOf reads an editable client and one of its contact persons; a person the
// client does not have is "not found".
func (h *Handler) contactOf(w http.ResponseWriter, r *http.Request, v *visit) (*store.Client, string) {
	c := h.editable(w, r, v)
	if c == nil {
		return nil, ""
	}
	id := r.PathValue("contact")
	if _, ok := c.Contacts[id]; !ok {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil, ""
	}
	return c, id
}

// newContact shows the form of a new contact person.
func (h *Handler) newContact(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.editable(w, r, v)
	if c == nil {
		return
	}
	_, p := h.contactForm(v, c, "")
	h.render(w, r, http.StatusOK, "edit", p)
}

// addContact adds a contact person (store.AddContact); bad input is shown in the form.
func (h *Handler) addContact(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.editable(w, r, v)
	if c == nil {
		return
	}
	d, p := h.contactForm(v, c, "")
	changed := posted(r, d.Fields)
	changed["name"] = d.Fields[0].Value // a new person needs a name even when none was typed
	done := Prefix + "/clients/" + c.ID + "?done=contact"
	h.saveForm(w, r, v, p, changed, &done, func() error {
		updated, _, err := h.st.AddContact(r.Context(), v.m.ID, c.ID, store.Contact{Name: changed["name"], Position: changed["position"],
			Phones: splitList(changed["phones"]), Emails: splitList(changed["emails"]), DecisionMaker: changed["dm"] == "1",
			Birthday: h.birthday(changed["birthday"])})
		if err != nil {
			return err
		}
		// As in the bot: letters waiting in /inbox from the person's addresses move into
		// the client's history. The person is saved either way.
		moved, err := h.st.ClaimWaitingLetters(r.Context(), v.m.ID, updated)
		if err != nil {
			h.log.Warn("web: move waiting letters", "client", c.ID, "err", err)
		} else if len(moved) > 0 {
			done = Prefix + "/clients/" + c.ID + "?done=claimed&n=" + strconv.Itoa(len(moved))
		}
		return nil
	})
}

// editContact shows a contact person's form and consent.
func (h *Handler) editContact(w http.ResponseWriter, r *http.Request, v *visit) {
	c, id := h.contactOf(w, r, v)
	if c == nil {
		return
	}
	d, p := h.contactForm(v, c, id)
	if n := r.URL.Query().Get("done"); n == "consent" {
		d.Notice = p.T("done.consent")
	}
	h.render(w, r, http.StatusOK, "edit", p)
}

// saveContact writes the fields of a contact person the form changed
// (store.UpdateContact); consent is not among them.
func (h *Handler) saveContact(w http.ResponseWriter, r *http.Request, v *visit) {
	c, id := h.contactOf(w, r, v)
	if c == nil {
		return
	}
	d, p := h.contactForm(v, c, id)
	changed := posted(r, d.Fields)
	done := Prefix + "/clients/" + c.ID + "?done=contact"
	h.saveForm(w, r, v, p, changed, &done, func() error {
		var patch store.ContactPatch
		for k, val := range changed {
			s, list, on := val, splitList(val), val == "1"
			switch k {
			case "name":
				patch.Name = &s
			case "position":
				patch.Position = &s
			case "phones":
				patch.Phones = &list
			case "emails":
				patch.Emails = &list
			case "dm":
				patch.DecisionMaker = &on
			case "birthday":
				bd := store.Birthday{} // an empty field removes it
				if b := h.birthday(val); b != nil {
					bd = *b
				}
				patch.Birthday = &bd
			}
		}
		_, err := h.st.UpdateContact(r.Context(), v.m.ID, c.ID, id, patch)
		return err
	})
}

// consent records or withdraws a person's consent to mailings, to what the button
// said (want=1 or 0), through the store's consent actions. A person who unsubscribed
// gets mailings again only when the manager confirms they asked to come back
// (cameback=1); without it the page asks, and nothing changes.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request, v *visit) {
	c, id := h.contactOf(w, r, v)
	if c == nil {
		return
	}
	var err error
	switch r.PostFormValue("want") {
	case "1":
		_, err = h.st.GiveConsent(r.Context(), v.m.ID, c.ID, id, r.PostFormValue("cameback") == "1")
	case "0":
		_, err = h.st.WithdrawConsent(r.Context(), v.m.ID, c.ID, id)
	default:
		h.message(w, r, v, http.StatusBadRequest, "refused.stale")
		return
	}
	if errors.Is(err, store.ErrUnsubscribed) {
		d, p := h.contactForm(v, c, id)
		d.AskCameBack = true
		h.render(w, r, http.StatusConflict, "edit", p)
		return
	}
	if err != nil {
		h.fail(w, r, v, "change consent", err)
		return
	}
	http.Redirect(w, r, Prefix+"/clients/"+c.ID+"/contacts/"+id+"?done=consent", http.StatusSeeOther)
}

// removeContact deletes a contact person (store.RemoveContact), as the bot's "delete".
func (h *Handler) removeContact(w http.ResponseWriter, r *http.Request, v *visit) {
	c, id := h.contactOf(w, r, v)
	if c == nil {
		return
	}
	if r.PostFormValue("sure") != "1" {
		h.message(w, r, v, http.StatusUnprocessableEntity, "refused.notsure")
		return
	}
	if _, err := h.st.RemoveContact(r.Context(), v.m.ID, c.ID, id); err != nil {
		h.fail(w, r, v, "remove a contact person", err)
		return
	}
	http.Redirect(w, r, Prefix+"/clients/"+c.ID+"?done=removed", http.StatusSeeOther)
}

// birthday reads a birthday the form's check let through; nil for none.
func (h *Handler) birthday(v string) *store.Birthday {
	if v == "" {
		return nil
	}
	b, _ := store.ParseBirthday(v, h.now())
	return b
}
