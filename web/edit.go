package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/crm-team/crm/store"
)

// The card's changes: a client's details, its contact persons and their consent,
// taking an unassigned client and giving one to another manager. The rules are the
// bot's (canEdit, store's own methods). A form carries, beside each value, the value
// it was shown with ("was.<field>"): only what the person changed there is written,
// so a form left open in another tab does not undo a change made since.

// formField is one input of an edit form.
type formField struct {
	Key, Label, Value, Was string
	Hint, Problem          string
	Kind                   string // "", "textarea" or "checkbox"
	Required               bool
}

// editData is an edit form's page: a client's details, or a contact person.
type editData struct {
	ClientID, ClientName string
	Heading, Action      string
	Fields               []formField
	Problem              string
	Contact              *cardContact // an existing person: their consent's part
	AskCameBack          bool         // giving consent needs the confirmation they asked to come back
	Notice               string
}

// clientFields are what the bot lets a manager edit in a client (bot/forms.go), and
// the notes.
var clientFields = []string{"name", "city", "industry", "inn", "website", "phones", "emails", "tags", "source", "notes", "greetings"}

// contactFields are a contact person's, as in the bot; consent has its own actions.
var contactFields = []string{"name", "position", "phones", "emails", "birthday", "dm"}

func clientValue(c *store.Client, key string) string {
	switch key {
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
	case "phones":
		return strings.Join(c.Phones, ", ")
	case "emails":
		return strings.Join(c.Emails, ", ")
	case "tags":
		return strings.Join(c.Tags, ", ")
	case "source":
		return c.LeadSource
	case "notes":
		return c.Notes
	case "greetings":
		return flag(c.GreetingsOff)
	}
	return ""
}

func contactValue(p store.Contact, key string) string {
	switch key {
	case "name":
		return p.Name
	case "position":
		return p.Position
	case "phones":
		return strings.Join(p.Phones, ", ")
	case "emails":
		return strings.Join(p.Emails, ", ")
	case "birthday":
		if p.Birthday == nil {
			return ""
		}
		return p.Birthday.String()
	case "dm":
		return flag(p.DecisionMaker)
	}
	return ""
}

// flag is a checkbox's value: "1" checked, "" not.
func flag(on bool) string {
	if on {
		return "1"
	}
	return ""
}

// fields builds a form's inputs from the values of what is stored.
func fields(p *page, keys []string, value func(string) string) []formField {
	out := make([]formField, len(keys))
	for i, k := range keys {
		v := value(k)
		out[i] = formField{Key: k, Label: p.T("form." + k), Value: v, Was: v, Required: k == "name"}
		switch k {
		case "notes":
			out[i].Kind = "textarea"
		case "dm", "greetings":
			out[i].Kind = "checkbox"
		case "phones", "emails", "tags":
			out[i].Hint = p.T("form.list")
		case "birthday":
			out[i].Hint = p.T("form.birthday.hint")
		}
	}
	return out
}

// posted reads a submitted form into its fields: what was typed and what the form was
// shown with (the stored value when the form did not say). It returns the fields the
// person changed.
func posted(r *http.Request, fs []formField) map[string]string {
	changed := map[string]string{}
	for i := range fs {
		f := &fs[i]
		if was, ok := r.PostForm["was."+f.Key]; ok {
			f.Was = strings.Join(was, "")
		}
		f.Value = strings.TrimSpace(r.PostFormValue(f.Key))
		if f.Kind == "checkbox" && f.Value != "" {
			f.Value = "1"
		}
		if canonical(f.Key, f.Value) != canonical(f.Key, f.Was) {
			changed[f.Key] = f.Value
		}
	}
	return changed
}

func canonical(key, v string) string {
	switch key {
	case "phones", "emails", "tags":
		return strings.Join(splitList(v), "\n")
	}
	return strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
}

// splitList reads a list typed with commas, semicolons or one a line, as the bot does.
func splitList(v string) []string {
	var out []string
	for _, x := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// check finds what is wrong with the changed values by the store's own rules (its
// normalisers), and says it at the field; false when anything is.
func (h *Handler) check(p *page, fs []formField, changed map[string]string) bool {
	ok := true
	for i := range fs {
		f := &fs[i]
		v, was := changed[f.Key]
		if !was {
			continue
		}
		switch f.Key {
		case "name":
			if v == "" {
				f.Problem = p.T("form.required")
			}
		case "inn":
			if _, err := store.NormalizeINN(v); v != "" && err != nil {
				f.Problem = p.T("form.bad.inn", "v", v)
			}
		case "phones":
			for _, x := range splitList(v) {
				if _, err := h.st.Phones().Normalize(x); err != nil {
					f.Problem = p.T("form.bad.phone", "v", x)
					break
				}
			}
		case "emails":
			for _, x := range splitList(v) {
				if _, err := store.NormalizeEmail(x); err != nil {
					f.Problem = p.T("form.bad.email", "v", x)
					break
				}
			}
		case "birthday":
			if _, err := store.ParseBirthday(v, h.now()); v != "" && err != nil {
				f.Problem = p.T("form.bad.birthday", "v", v)
			}
		}
		ok = ok && f.Problem == ""
	}
	return ok
}

// storeRefused puts the store's refusal of a change into the form: a phone, e-mail or
// INN another client has at its field, anything else invalid above the form. False
// for an error that is no refusal.
func (h *Handler) storeRefused(r *http.Request, v *visit, p *page, d *editData, err error) bool {
	var taken *store.KeyTakenError
	switch {
	case errors.As(err, &taken):
		kind, value, _ := strings.Cut(taken.Key, ":")
		owner := taken.ClientName
		if c, err := h.st.Client(r.Context(), taken.ClientID); err == nil {
			switch m, err := h.st.Manager(r.Context(), c.ManagerID); {
			case c.ManagerID == "":
				owner = p.T("form.owner.none", "name", c.Name)
			case c.ManagerID == v.m.ID:
				owner = p.T("form.owner.mine", "name", c.Name)
			case err == nil:
				owner = p.T("form.owner.of", "name", c.Name, "manager", m.Name)
			}
		}
		msg := p.T("form.taken", "v", value, "owner", owner)
		field := map[string]string{"phone": "phones", "email": "emails", "inn": "inn"}[kind]
		for i := range d.Fields {
			if d.Fields[i].Key == field {
				d.Fields[i].Problem = msg
				return true
			}
		}
		d.Problem = msg
	case errors.Is(err, store.ErrInvalid):
		d.Problem = p.T("form.invalid", "why", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	default:
		return false
	}
	return true
}

// editable reads a client the viewer may change. Another manager's client is "not
// found"; an unassigned one a manager sees is taken first, as in the bot.
func (h *Handler) editable(w http.ResponseWriter, r *http.Request, v *visit) *store.Client {
	c := h.viewable(w, r, v, r.PathValue("id"))
	if c != nil && !v.canEdit(c) {
		h.message(w, r, v, http.StatusForbidden, "refused.takefirst")
		return nil
	}
	return c
}

// editClient shows the form of a client's details.
func (h *Handler) editClient(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.editable(w, r, v)
	if c == nil {
		return
	}
	_, p := h.clientForm(v, c)
	h.render(w, r, http.StatusOK, "edit", p)
}

// clientForm is the page of a client's details to edit.
func (h *Handler) clientForm(v *visit, c *store.Client) (*editData, *page) {
	d := &editData{ClientID: c.ID, ClientName: c.Name, Action: Prefix + "/clients/" + c.ID + "/edit"}
	p := h.visitPage(v, "clients", "edit.title", d)
	d.Heading = p.T("edit.title")
	d.Fields = fields(p, clientFields, func(k string) string { return clientValue(c, k) })
	return d, p
}

// saveClient writes the details the person changed in the form (UpdateClient's $set
// of those fields alone); bad input is shown in the form, as typed, and changes nothing.
func (h *Handler) saveClient(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.editable(w, r, v)
	if c == nil {
		return
	}
	d, p := h.clientForm(v, c)
	changed := posted(r, d.Fields)
	done := Prefix + "/clients/" + c.ID + "?done=saved"
	h.saveForm(w, r, v, p, changed, &done, func() error {
		_, err := h.st.UpdateClient(r.Context(), v.m.ID, c.ID, clientPatch(changed))
		return err
	})
}

// clientPatch names the changed fields alone.
func clientPatch(changed map[string]string) store.ClientPatch {
	var patch store.ClientPatch
	for k, val := range changed {
		s, list, on := val, splitList(val), val == "1"
		switch k {
		case "name":
			patch.Name = &s
		case "city":
			patch.City = &s
		case "industry":
			patch.Industry = &s
		case "inn":
			patch.INN = &s
		case "website":
			patch.Website = &s
		case "source":
			patch.LeadSource = &s
		case "notes":
			patch.Notes = &s
		case "phones":
			patch.Phones = &list
		case "emails":
			patch.Emails = &list
		case "tags":
			patch.Tags = &list
		case "greetings":
			patch.GreetingsOff = &on
		}
	}
	return patch
}

// saveForm checks a form's changed values and writes them, then goes to done (which
// write may change); a refusal, the store's or the check's, shows the form again with
// what was typed, and nothing is written.
func (h *Handler) saveForm(w http.ResponseWriter, r *http.Request, v *visit, p *page, changed map[string]string, done *string, write func() error) {
	d := p.Data.(*editData)
	if !h.check(p, d.Fields, changed) {
		h.render(w, r, http.StatusUnprocessableEntity, "edit", p)
		return
	}
	if len(changed) > 0 {
		if err := write(); err != nil {
			if h.storeRefused(r, v, p, d, err) {
				h.render(w, r, http.StatusUnprocessableEntity, "edit", p)
				return
			}
			h.fail(w, r, v, "save a form", err)
			return
		}
	}
	http.Redirect(w, r, *done, http.StatusSeeOther)
}

// takeClient makes an unassigned client the manager's own, as the bot's "take".
func (h *Handler) takeClient(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.viewable(w, r, v, r.PathValue("id"))
	if c == nil {
		return
	}
	h.giveTo(w, r, v, c, v.m.ID, "taken")
}

// giveTo makes a manager the client's, unless they are already, and shows the card.
func (h *Handler) giveTo(w http.ResponseWriter, r *http.Request, v *visit, c *store.Client, managerID, done string) {
	if c.ManagerID != managerID {
		if _, err := h.st.UpdateClient(r.Context(), v.m.ID, c.ID, store.ClientPatch{ManagerID: &managerID}); err != nil {
			h.fail(w, r, v, "give a client", err)
			return
		}
		if n := h.opts.Given; n != nil && managerID != v.m.ID {
			if err := n.NotifyClientGiven(context.WithoutCancel(r.Context()), v.m.Name, managerID, c.ID, c.Name); err != nil {
				h.log.Warn("web: tell a manager of a client given", "manager", managerID, "err", err)
			}
		}
	}
	http.Redirect(w, r, Prefix+"/clients/"+c.ID+"?done="+done, http.StatusSeeOther)
}

// reassign gives a client to another active manager: heads and admins only, as in
// the bot.
func (h *Handler) reassign(w http.ResponseWriter, r *http.Request, v *visit) {
	c := h.viewable(w, r, v, r.PathValue("id"))
	if c == nil {
		return
	}
	if !v.m.Role.SeesAll() {
		h.message(w, r, v, http.StatusForbidden, "refused.headonly")
		return
	}
	to, err := h.st.Manager(r.Context(), r.PostFormValue("manager"))
	if errors.Is(err, store.ErrNotFound) || err == nil && !to.Active {
		h.message(w, r, v, http.StatusUnprocessableEntity, "refused.nomanager")
		return
	}
	if err != nil {
		h.fail(w, r, v, "read a manager", err)
		return
	}
	h.giveTo(w, r, v, c, to.ID, "reassigned")
}
