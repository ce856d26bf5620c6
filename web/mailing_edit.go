package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	netmail "net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// The campaign editor: a draft's name, letter and segment. The form carries, for each
// field, a hash of the value it showed (was.<field>), so a save writes only the fields
// the person changed: an edit of the subject leaves a text changed meanwhile by
// someone else as it is (the store's EditDraft then $sets only what differs).

// editorData is the editor's page.
type editorData struct {
	C   *store.Campaign // nil: a new campaign
	F   campaignForm
	Was map[string]string // field -> hash of the value shown
	// The segment's choices, ticked as the form has them.
	StageBoxes, ManagerBoxes, ClassBoxes []checkBox
	Fields                               []string // the template's fields
	HasAny                               bool     // the segment has alternatives (crm campaign --segment-file): kept as they are
	Count                                *campaign.SegmentCount
	Problem                              string
}

type checkBox struct {
	Value, Label string
	Checked      bool
}

// campaignForm is the editor's fields as the form has them.
type campaignForm struct {
	Name, Subject, Text, HTML, Sender, Schedule string
	Stages, Managers, Classes                   []string
	Cities, Industries, Tags, HasOrders, Custom string
}

// formOf is a campaign as the form shows it.
func formOf(c *store.Campaign) campaignForm {
	f := campaignForm{Name: c.Name, Subject: c.Subject, Text: c.Text, HTML: c.HTML, Sender: c.Sender, Schedule: c.Schedule}
	sg := c.Segment
	for _, st := range sg.Stages {
		f.Stages = append(f.Stages, string(st))
	}
	f.Managers, f.Classes = sg.Managers, sg.Classes
	f.Cities, f.Industries, f.Tags = strings.Join(sg.Cities, ", "), strings.Join(sg.Industries, ", "), strings.Join(sg.Tags, ", ")
	if sg.HasOrders != nil {
		f.HasOrders = strconv.FormatBool(*sg.HasOrders)
	}
	keys := make([]string, 0, len(sg.Custom))
	for k := range sg.Custom {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f.Custom += k + "=" + sg.Custom[k] + "\n"
	}
	return f
}

// formFields are the form's fields: each is applied as a whole.
var formFields = []string{"name", "subject", "text", "html", "sender", "schedule", "stage", "manager", "class", "city",
	"industry", "tag", "has_orders", "custom"}

// value is a field's value as posted or shown, lists one a line.
func (f campaignForm) value(field string) string {
	switch field {
	case "name":
		return f.Name
	case "subject":
		return f.Subject
	case "text":
		return f.Text
	case "html":
		return f.HTML
	case "sender":
		return f.Sender
	case "schedule":
		return f.Schedule
	case "stage":
		return sortedLines(f.Stages)
	case "manager":
		return sortedLines(f.Managers)
	case "class":
		return sortedLines(f.Classes)
	case "city":
		return f.Cities
	case "industry":
		return f.Industries
	case "tag":
		return f.Tags
	case "has_orders":
		return f.HasOrders
	}
	return f.Custom
}

// sortedLines is a set of checkboxes as a value: the order they were ticked in does
// not matter.
func sortedLines(vs []string) string { return strings.Join(slices.Sorted(slices.Values(vs)), "\n") }

func shownHash(v string) string {
	sum := sha256.Sum256([]byte(normalizeNewlines(v)))
	return hex.EncodeToString(sum[:8])
}

// normalizeNewlines makes a textarea's CRLF what was shown.
func normalizeNewlines(v string) string { return strings.ReplaceAll(v, "\r\n", "\n") }

func (f campaignForm) hashes() map[string]string {
	out := map[string]string{}
	for _, k := range formFields {
		out[k] = shownHash(f.value(k))
	}
	return out
}

// readForm reads the editor's form.
func readForm(q url.Values) campaignForm {
	tr := strings.TrimSpace
	return campaignForm{Name: tr(q.Get("name")), Subject: q.Get("subject"), Text: normalizeNewlines(q.Get("text")),
		HTML: normalizeNewlines(q.Get("html")), Sender: tr(q.Get("sender")), Schedule: tr(q.Get("schedule")),
		Stages: q["stage"], Managers: q["manager"], Classes: q["class"], Cities: q.Get("city"), Industries: q.Get("industry"),
		Tags: q.Get("tag"), HasOrders: q.Get("has_orders"), Custom: normalizeNewlines(q.Get("custom"))}
}

// badInput is a problem with the form, said in the reader's language.
type badInput struct{ key, value string }

func (e *badInput) Error() string { return e.key + ": " + e.value }

// apply sets on c the fields of the form in only (nil: all), and checks them.
func (f campaignForm) apply(c *store.Campaign, only map[string]bool) error {
	set := func(field string) bool { return only == nil || only[field] }
	if set("name") {
		c.Name = f.Name
	}
	if set("subject") {
		c.Subject = f.Subject
	}
	if set("text") {
		c.Text = f.Text
	}
	if set("html") {
		c.HTML = f.HTML
	}
	if set("sender") {
		if f.Sender != "" {
			if _, err := netmail.ParseAddress(f.Sender); err != nil {
				return &badInput{"mail.bad.sender", f.Sender}
			}
		}
		c.Sender = f.Sender
	}
	if set("schedule") {
		c.Schedule = f.Schedule
	}
	return f.applySegment(&c.Segment, set)
}

func (f campaignForm) applySegment(sg *store.Segment, set func(string) bool) error {
	if set("stage") {
		sg.Stages = nil
		for _, v := range f.Stages {
			if st := store.Stage(v); st.Valid() {
				sg.Stages = append(sg.Stages, st)
			} else {
				return &badInput{"mail.bad.stage", v}
			}
		}
	}
	if set("manager") {
		sg.Managers = slices.Clone(f.Managers)
	}
	if set("class") {
		sg.Classes = nil
		for _, v := range f.Classes {
			if !store.ValidClass(v) {
				return &badInput{"mail.bad.class", v}
			}
			sg.Classes = append(sg.Classes, strings.ToUpper(v))
		}
	}
	for _, l := range []struct {
		field, value string
		to           *[]string
	}{{"city", f.Cities, &sg.Cities}, {"industry", f.Industries, &sg.Industries}, {"tag", f.Tags, &sg.Tags}} {
		if set(l.field) {
			*l.to = splitList(l.value)
		}
	}
	if set("has_orders") {
		switch f.HasOrders {
		case "":
			sg.HasOrders = nil
		case "true", "false":
			b := f.HasOrders == "true"
			sg.HasOrders = &b
		default:
			return &badInput{"mail.bad.orders", f.HasOrders}
		}
	}
	if set("custom") {
		sg.Custom = nil
		for _, line := range strings.Split(f.Custom, "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return &badInput{"mail.bad.custom", line}
			}
			if sg.Custom == nil {
				sg.Custom = map[string]string{}
			}
			sg.Custom[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return nil
}

func (h *Handler) editor(w http.ResponseWriter, r *http.Request, v *visit, status int, d *editorData) {
	team, _, err := h.team(r.Context())
	if err != nil {
		h.fail(w, r, v, "read the team", err)
		return
	}
	p := h.visitPage(v, "campaigns", "mail.new", d)
	d.StageBoxes, d.ManagerBoxes, d.ClassBoxes = nil, nil, nil
	for _, st := range store.Stages {
		d.StageBoxes = append(d.StageBoxes, checkBox{string(st), p.Stage(st), slices.Contains(d.F.Stages, string(st))})
	}
	for _, m := range team {
		d.ManagerBoxes = append(d.ManagerBoxes, checkBox{m.ID, m.Name, slices.Contains(d.F.Managers, m.ID)})
	}
	for _, cl := range []string{"A", "B", "C", "X", "Y", "Z"} {
		d.ClassBoxes = append(d.ClassBoxes, checkBox{cl, p.T("clients.class.one", "class", cl), slices.Contains(d.F.Classes, cl)})
	}
	d.Fields = campaign.TemplateFields()
	if d.Was == nil {
		d.Was = d.F.hashes()
	}
	if d.C != nil {
		d.HasAny = len(d.C.Segment.Any) > 0
	}
	if d.C != nil {
		p.Title = p.T("mail.edit.title", "name", d.C.Name)
	}
	h.render(w, r, status, "campaign_edit", p)
}

// campaignNew is an empty editor.
func (h *Handler) campaignNew(w http.ResponseWriter, r *http.Request, v *visit) {
	h.editor(w, r, v, http.StatusOK, &editorData{})
}

// campaignCreate saves the form as a new draft.
func (h *Handler) campaignCreate(w http.ResponseWriter, r *http.Request, v *visit) {
	f := readForm(r.PostForm)
	d := &editorData{F: f, Was: readWas(r.PostForm)}
	c := &store.Campaign{}
	err := f.apply(c, nil)
	if err == nil {
		err = h.checkLetter(c)
	}
	if err == nil {
		err = h.st.SaveCampaign(r.Context(), v.m.ID, c)
	}
	if h.formRefused(w, r, v, d, err) {
		return
	}
	http.Redirect(w, r, Prefix+"/campaigns/"+c.ID+"?done=created", http.StatusSeeOther)
}

// checkLetter refuses what `crm campaign create` refuses before it saves (no subject
// or text, a schedule Start would refuse) and a template that does not parse: the
// form shows it again, nothing saved.
func (h *Handler) checkLetter(c *store.Campaign) error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return &badInput{"mail.bad.name", ""}
	case strings.TrimSpace(c.Subject) == "":
		return &badInput{"mail.bad.subject", ""}
	case strings.TrimSpace(c.Text) == "":
		return &badInput{"mail.bad.text", ""}
	}
	if _, err := campaign.ParseTemplate(c.Subject, c.Text, c.HTML); err != nil {
		return fmt.Errorf("%w: %w", campaign.ErrTemplate, err)
	}
	if _, _, err := h.opts.Campaigns.ReadSchedule(c.Schedule); err != nil {
		return &badInput{"mail.bad.schedule", err.Error()}
	}
	return nil
}

// formRefused shows the editor again with the problem, when there is one: nothing
// was saved.
func (h *Handler) formRefused(w http.ResponseWriter, r *http.Request, v *visit, d *editorData, err error) bool {
	var bad *badInput
	switch {
	case err == nil:
		return false
	case errors.As(err, &bad):
		p := h.visitPage(v, "", "mail.title", nil)
		d.Problem = p.T(bad.key, "value", bad.value)
	case errors.Is(err, store.ErrNotFound):
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return true
	case refused(err):
		d.Problem = err.Error()
	default:
		h.fail(w, r, v, "save a campaign", err)
		return true
	}
	h.editor(w, r, v, http.StatusUnprocessableEntity, d)
	return true
}

func readWas(q url.Values) map[string]string {
	out := map[string]string{}
	for _, k := range formFields {
		out[k] = q.Get("was." + k)
	}
	return out
}

// campaignEdit is the editor of a draft; another campaign's is refused with its state.
func (h *Handler) campaignEdit(w http.ResponseWriter, r *http.Request, v *visit) {
	c, ok := h.readCampaign(w, r, v)
	if !ok {
		return
	}
	d := &editorData{C: c, F: formOf(c)}
	if !c.IsDraft() {
		d.Problem = h.visitPage(v, "", "mail.title", nil).T("mail.edit.notdraft", "state", string(c.State))
	}
	h.editor(w, r, v, http.StatusOK, d)
}

// campaignSave writes the fields the person changed of a draft (EditDraft checks it
// is still one).
func (h *Handler) campaignSave(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PathValue("id")
	f, was := readForm(r.PostForm), readWas(r.PostForm)
	changed := map[string]bool{}
	for _, k := range formFields {
		if shownHash(f.value(k)) != was[k] {
			changed[k] = true
		}
	}
	c, _, err := h.st.EditDraft(r.Context(), v.m.ID, id, func(c *store.Campaign) error {
		if err := f.apply(c, changed); err != nil {
			return err
		}
		return h.checkLetter(c)
	})
	d := &editorData{C: c, F: f, Was: was}
	if h.formRefused(w, r, v, d, err) {
		return
	}
	http.Redirect(w, r, Prefix+"/campaigns/"+id+"?done=saved", http.StatusSeeOther)
}

// countJSON is the editor's live count.
type countJSON struct {
	Recipients int      `json:"recipients"`
	Excluded   int      `json:"excluded"`
	Text       string   `json:"text"`
	First      []string `json:"first"`
	Problem    string   `json:"problem,omitempty"`
}

// campaignCount counts the recipients of the segment the editor's form describes,
// as a run would read it (package campaign's Count).
func (h *Handler) campaignCount(w http.ResponseWriter, r *http.Request, v *visit) {
	p := h.visitPage(v, "", "mail.title", nil)
	var sg store.Segment
	var out countJSON
	err := readForm(r.URL.Query()).applySegment(&sg, func(string) bool { return true })
	var bad *badInput
	if errors.As(err, &bad) {
		out.Problem = p.T(bad.key, "value", bad.value)
		writeJSON(w, http.StatusOK, out)
		return
	}
	if id := r.URL.Query().Get("id"); id != "" {
		// A draft's alternatives (a segment file's) are not in the form but count.
		if c, err := h.st.Campaign(r.Context(), id); err == nil {
			sg.Any = c.Segment.Any
		}
	}
	n, err := h.opts.Campaigns.Count(r.Context(), sg, 3)
	if err != nil {
		h.log.Error("web: count a segment", "err", err)
		http.Error(w, p.T("error.internal"), http.StatusInternalServerError)
		return
	}
	out.Recipients, out.Excluded = n.Recipients, n.Excluded
	out.Text = p.T("mail.count", "n", strconv.Itoa(n.Recipients), "excluded", strconv.Itoa(n.Excluded))
	for _, rc := range n.First {
		out.First = append(out.First, rc.Contact.Name+" · "+rc.Client.Name)
	}
	writeJSON(w, http.StatusOK, out)
}
