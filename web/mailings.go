package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// Mailings: the campaigns of package campaign, for those who may run them as in the
// bot and `crm campaign --as`: heads and admins. Every change goes through package
// campaign or the store's campaign methods, with their state checks.

// mailing runs a mailings page for a head or an admin; a manager is refused and
// nothing changes.
func (h *Handler) mailing(page func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request, v *visit) {
		switch {
		case !v.m.Role.SeesAll():
			h.message(w, r, v, http.StatusForbidden, "mail.refused.role")
		case h.opts.Campaigns == nil:
			h.message(w, r, v, http.StatusServiceUnavailable, "mail.off")
		default:
			page(w, r, v)
		}
	})
}

// readCampaign reads the campaign the address names; one that does not exist is "not
// found".
func (h *Handler) readCampaign(w http.ResponseWriter, r *http.Request, v *visit) (*store.Campaign, bool) {
	c, err := h.st.Campaign(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil, false
	}
	if err != nil {
		h.fail(w, r, v, "read a campaign", err)
		return nil, false
	}
	return c, true
}

// campaignRow is a campaign in the list, with its current run's outcomes.
type campaignRow struct {
	C     store.Campaign
	Tally campaign.Tally
}

// campaignList lists the campaigns, newest first; the archived ones with ?all=1.
func (h *Handler) campaignList(w http.ResponseWriter, r *http.Request, v *visit) {
	list, err := h.st.Campaigns(r.Context()) // a small collection
	if err != nil {
		h.fail(w, r, v, "list campaigns", err)
		return
	}
	all := r.URL.Query().Get("all") == "1"
	d := struct {
		Rows     []campaignRow
		All      bool
		Archived int
		Done     string
	}{All: all}
	if r.URL.Query().Get("done") == "delete" {
		d.Done = "mail.done.delete"
	}
	slices.Reverse(list)
	for _, c := range list {
		if c.IsArchived() && !all {
			d.Archived++
			continue
		}
		row := campaignRow{C: c}
		if c.Run > 0 {
			st, err := h.opts.Campaigns.Status(r.Context(), c.ID)
			if err != nil {
				h.fail(w, r, v, "read a campaign's status", err)
				return
			}
			row.Tally = st.Tally()
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "campaigns", h.visitPage(v, "campaigns", "mail.title", &d))
}

// campaignData is a campaign's page: its state and progress, what may be done with it,
// and its report.
type campaignData struct {
	C        *store.Campaign
	St       campaign.Status
	T        campaign.Tally
	Running  bool   // the page asks for its progress every few seconds
	Done     string // what was just done (a text key), after a redirect
	Problem  string // why an action was refused
	PausedBy string
	Actions  []string         // the changes its state allows
	Review   *campaign.Review // a draft rendered for every recipient, when asked (?check=1)
	Report   []campaign.ReportRow
	Prev     string
	Next     string
	Page     int
}

// reportPageSize is how many contacts a page of the report shows.
const reportPageSize = 50

// errPageFull stops reading the report once a page is read.
var errPageFull = errors.New("page full")

func (h *Handler) campaignPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d, ok := h.campaignView(w, r, v)
	if !ok {
		return
	}
	if done := r.URL.Query().Get("done"); slices.Contains(campaignActions, done) || done == "saved" || done == "created" {
		d.Done = "mail.done." + done
	}
	if d.C.IsDraft() && r.URL.Query().Get("check") == "1" {
		// As crm campaign create does: every recipient's letter, and the fields
		// some of them would get empty. It reads the whole segment, so only when asked.
		rv, err := h.opts.Campaigns.Review(r.Context(), d.C)
		switch {
		case errors.Is(err, campaign.ErrTemplate):
			d.Problem = err.Error()
		case err != nil:
			h.fail(w, r, v, "check a campaign", err)
			return
		}
		d.Review = &rv
	}
	h.showCampaign(w, r, v, http.StatusOK, d)
}

// campaignView reads a campaign, its status and the asked page of its report; a
// campaign that does not exist is "not found".
func (h *Handler) campaignView(w http.ResponseWriter, r *http.Request, v *visit) (*campaignData, bool) {
	st, err := h.opts.Campaigns.Status(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return nil, false
	}
	if err != nil {
		h.fail(w, r, v, "read a campaign's status", err)
		return nil, false
	}
	c := st.Campaign
	d := &campaignData{C: c, St: st, T: st.Tally(), Running: running(c.State)}
	d.PausedBy = h.pausedBy(r, c)
	switch {
	case c.IsDraft():
		d.Actions = []string{"start", "delete"}
	case c.State == store.CampaignPreparing || c.State == store.CampaignSending || c.State == store.CampaignScheduled:
		d.Actions = []string{"pause"}
	case c.State == store.CampaignPaused:
		d.Actions = []string{"resume"}
	case c.IsFinished() && !c.IsArchived():
		d.Actions = []string{"archive"}
	}
	if c.Run == 0 {
		return d, true
	}
	d.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = max(d.Page, 1)
	from, n := (d.Page-1)*reportPageSize, 0
	_, err = h.opts.Campaigns.Report(r.Context(), c, 0, func(row campaign.ReportRow) error {
		if n++; n <= from {
			return nil
		}
		if len(d.Report) == reportPageSize {
			d.Next = Prefix + "/campaigns/" + c.ID + "?page=" + strconv.Itoa(d.Page+1) + "#report"
			return errPageFull
		}
		d.Report = append(d.Report, row)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		h.fail(w, r, v, "read a campaign's report", err)
		return nil, false
	}
	if d.Page > 1 {
		d.Prev = Prefix + "/campaigns/" + c.ID + "?page=" + strconv.Itoa(d.Page-1) + "#report"
	}
	return d, true
}

func (h *Handler) showCampaign(w http.ResponseWriter, r *http.Request, v *visit, status int, d *campaignData) {
	p := h.visitPage(v, "campaigns", "mail.title", d)
	p.Title = d.C.Name
	h.render(w, r, status, "campaign", p)
}

// pausedBy names the person who paused a campaign ("paused by <id>").
func (h *Handler) pausedBy(r *http.Request, c *store.Campaign) string {
	id, ok := strings.CutPrefix(c.PauseReason, "paused by ")
	if !ok || c.State != store.CampaignPaused {
		return ""
	}
	if m, err := h.st.Manager(r.Context(), id); err == nil {
		return m.Name
	}
	return ""
}

// running says the campaign's run is under way: its page follows its progress.
func running(s store.CampaignState) bool {
	return slices.Contains(store.ActiveCampaignStates(), s)
}

// campaignActions are the changes of a campaign's state the page offers.
var campaignActions = []string{"start", "pause", "resume", "archive", "delete"}

// campaignAct starts, pauses, resumes, archives or deletes a campaign through package
// campaign and the store, with their state checks: a refusal is shown on the
// campaign's page with its reason, and nothing changes.
func (h *Handler) campaignAct(w http.ResponseWriter, r *http.Request, v *visit) {
	action, id := r.PathValue("action"), r.PathValue("id")
	if !slices.Contains(campaignActions, action) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return
	}
	ctx, cs := r.Context(), h.opts.Campaigns
	var err error
	switch action {
	case "start":
		_, _, err = cs.Start(ctx, v.m.ID, id)
	case "pause":
		_, err = cs.Pause(ctx, v.m.ID, id)
	case "resume":
		_, err = cs.Resume(ctx, v.m.ID, id)
	case "archive":
		_, err = h.st.ArchiveCampaign(ctx, v.m.ID, id)
	case "delete":
		_, err = h.st.DeleteDraft(ctx, v.m.ID, id)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
	case refused(err):
		d, ok := h.campaignView(w, r, v)
		if !ok {
			return
		}
		d.Problem = problem(err)
		h.showCampaign(w, r, v, http.StatusConflict, d)
	case err != nil:
		h.fail(w, r, v, action+" a campaign", err)
	case action == "delete":
		http.Redirect(w, r, Prefix+"/campaigns?done=delete", http.StatusSeeOther)
	default:
		http.Redirect(w, r, Prefix+"/campaigns/"+id+"?done="+action, http.StatusSeeOther)
	}
}

// refused tells the errors whose message says what to fix (the template, the
// settings, the segment, the campaign's state), as the bot shows them.
func refused(err error) bool {
	for _, e := range []error{campaign.ErrTemplate, campaign.ErrNotReady, store.ErrCampaignState, store.ErrInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// problem is a refusal's message; without the settings' names, which are cmd/crm's
// (the administrator's), it says that they are missing.
func problem(err error) string {
	if errors.Is(err, campaign.ErrNoLinks) {
		return campaign.ErrNotReady.Error() + ": " + campaign.ErrNoLinks.Error() + " (CRM_PUBLIC_URL, CRM_UNSUBSCRIBE_SECRET)"
	}
	return err.Error()
}

// statusJSON is what a campaign's page polls while it sends.
type statusJSON struct {
	State    store.CampaignState `json:"state"`
	Label    string              `json:"label"`
	Running  bool                `json:"running"`
	Sent     int                 `json:"sent"`
	Failed   int                 `json:"failed"`
	Deferred int                 `json:"deferred"`
	Cut      int                 `json:"cut"`
	Skipped  int                 `json:"skipped"`
	Queued   int                 `json:"queued"`
	Sending  int                 `json:"sending"`
	Lines    int                 `json:"lines"`
	History  string              `json:"history"`
}

// campaignStatus is a campaign's progress as JSON.
func (h *Handler) campaignStatus(w http.ResponseWriter, r *http.Request, v *visit) {
	st, err := h.opts.Campaigns.Status(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		h.log.Error("web: campaign status", "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	p := h.visitPage(v, "", "mail.title", nil)
	t := st.Tally()
	out := statusJSON{State: st.Campaign.State, Label: p.T("mail.state." + string(st.Campaign.State)), Running: running(st.Campaign.State),
		Sent: t.Sent, Failed: t.Failed, Deferred: t.Deferred, Cut: t.Cut, Skipped: t.Skipped, Queued: t.Queued, Sending: t.Sending,
		Lines: st.Lines}
	if st.Campaign.Run > 0 {
		out.History = p.T("mail.history", "n", strconv.Itoa(st.Lines), "of", strconv.Itoa(st.Counts.Sent))
	}
	writeJSON(w, http.StatusOK, out)
}
