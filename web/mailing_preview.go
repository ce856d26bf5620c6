package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// reportWriteTime bounds the download of a run's report instead of the listener's
// write timeout.
const reportWriteTime = 15 * time.Minute

// previewChoices is how many of the segment's first recipients the preview offers to
// render the letter for.
const previewChoices = 50

// previewData is a campaign's letter as one recipient gets it.
type previewData struct {
	C       *store.Campaign
	To      string // the chosen recipient: client/contact
	Choices []previewChoice
	Letter  campaign.Rendered
	Who     campaign.Recipient
	NoMail  string // why this contact gets no mailings; the letter is shown anyway
	From    string
	Problem string // a template problem, or why the test letter did not go
	Sent    string // the address a test letter just went to
	MyEmail string
}

type previewChoice struct{ Value, Label string }

func recipientKey(r campaign.Recipient) string { return r.Client.ID + "/" + r.Contact.ID }

// campaignPreview renders the letter for a recipient chosen from the segment (its
// first by default): the HTML part in a sandboxed frame, the text part, the subject.
func (h *Handler) campaignPreview(w http.ResponseWriter, r *http.Request, v *visit) {
	d, status, ok := h.preview(w, r, v, r.URL.Query().Get("to"))
	if !ok {
		return
	}
	if sent := r.URL.Query().Get("sent"); sent != "" && sent == v.m.Email {
		d.Sent = sent
	}
	h.showPreview(w, r, v, status, d)
}

// preview reads the campaign and renders it for to (client/contact; "": the
// segment's first recipient).
func (h *Handler) preview(w http.ResponseWriter, r *http.Request, v *visit, to string) (*previewData, int, bool) {
	ctx, cs := r.Context(), h.opts.Campaigns
	c, ok := h.readCampaign(w, r, v)
	if !ok {
		return nil, 0, false
	}
	d := &previewData{C: c, To: to, From: cs.From(c), MyEmail: v.m.Email}
	first, err := cs.Sample(ctx, c.Segment, previewChoices)
	if err != nil {
		h.fail(w, r, v, "read a segment", err)
		return nil, 0, false
	}
	for _, rc := range first {
		d.Choices = append(d.Choices, previewChoice{Value: recipientKey(rc), Label: rc.Contact.Name + " <" + rc.Email + "> · " + rc.Client.Name})
	}
	if d.To == "" && len(first) > 0 {
		d.To = recipientKey(first[0])
	}
	clientID, contactID, _ := strings.Cut(d.To, "/")
	if clientID == "" {
		d.Problem = h.visitPage(v, "", "mail.title", nil).T("mail.preview.nobody")
		return d, http.StatusOK, true
	}
	d.Letter, d.Who, err = cs.Preview(ctx, c, clientID, contactID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.Problem = h.visitPage(v, "", "mail.title", nil).T("mail.preview.noone")
		return d, http.StatusNotFound, true
	case errors.Is(err, campaign.ErrTemplate):
		d.Problem = err.Error()
		return d, http.StatusOK, true
	case err != nil:
		h.fail(w, r, v, "preview a campaign", err)
		return nil, 0, false
	}
	if _, why := store.MailableEmail(d.Who.Contact); why != "" {
		d.NoMail = why
	}
	return d, http.StatusOK, true
}

func (h *Handler) showPreview(w http.ResponseWriter, r *http.Request, v *visit, status int, d *previewData) {
	p := h.visitPage(v, "campaigns", "mail.preview", d)
	p.Title = p.T("mail.preview") + " · " + d.C.Name
	h.render(w, r, status, "campaign_preview", p)
}

// campaignTest sends the letter, rendered for the chosen recipient, to the signed-in
// person's own address through package campaign's test letter.
func (h *Handler) campaignTest(w http.ResponseWriter, r *http.Request, v *visit) {
	to := r.PostFormValue("to")
	d, status, ok := h.preview(w, r, v, to)
	if !ok {
		return
	}
	p := h.visitPage(v, "", "mail.title", nil)
	switch {
	case d.Problem != "":
	case v.m.Email == "":
		d.Problem, status = p.T("mail.test.noemail"), http.StatusUnprocessableEntity
	case h.opts.Mailer == nil:
		d.Problem, status = p.T("mail.test.nosmtp"), http.StatusServiceUnavailable
	default:
		clientID, contactID, _ := strings.Cut(d.To, "/")
		if err := h.opts.Campaigns.Test(r.Context(), h.opts.Mailer, d.C, clientID, contactID, v.m.Email); err != nil {
			h.log.Warn("web: test letter", "campaign", d.C.ID, "err", err)
			d.Problem, status = p.T("mail.test.failed", "why", err.Error()), http.StatusBadGateway
			break
		}
		q := url.Values{"to": {d.To}, "sent": {v.m.Email}}
		http.Redirect(w, r, Prefix+"/campaigns/"+d.C.ID+"/preview?"+q.Encode(), http.StatusSeeOther)
		return
	}
	h.showPreview(w, r, v, status, d)
}

// campaignReport downloads a run's report as CSV or a workbook: the file `crm
// campaign report --format csv|xlsx` writes.
func (h *Handler) campaignReport(w http.ResponseWriter, r *http.Request, v *visit) {
	c, ok := h.readCampaign(w, r, v)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	switch {
	case format != "csv" && format != "xlsx":
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return
	case c.Run == 0:
		h.message(w, r, v, http.StatusConflict, "mail.report.none")
		return
	}
	ct := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+c.ID+`.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	// Streamed a batch at a time, as the CLI writes it: a failure midway cuts the file.
	// A large run's file may take longer than the listener's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reportWriteTime))
	if _, _, err := h.opts.Campaigns.WriteReport(r.Context(), w, c, 0, format == "xlsx", ';'); err != nil {
		h.log.Error("web: campaign report", "campaign", c.ID, "err", err)
	}
}
