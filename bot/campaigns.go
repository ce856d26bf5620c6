package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// CampaignControl starts, pauses, resumes and reads mailings; cmd wires the scheduler's
// side to it (the bot does not import the scheduler). An error a person can act on (a
// template problem, missing settings, nobody to send to, a state that does not allow
// the change) is a *CampaignRefusal or wraps store.ErrCampaignState; a campaign that
// does not exist is store.ErrNotFound; anything else is logged and not shown.
type CampaignControl interface {
	// List returns every campaign, oldest first; the counts may be left empty.
	List(ctx context.Context) ([]CampaignView, error)
	Start(ctx context.Context, actorID, id string) (CampaignView, error)
	Pause(ctx context.Context, actorID, id string) (CampaignView, error)
	Resume(ctx context.Context, actorID, id string) (CampaignView, error)
	// Status returns a campaign with the counts of its current run.
	Status(ctx context.Context, id string) (CampaignView, error)
}

// CampaignView is a campaign as the chat shows it.
type CampaignView struct {
	ID, Name string
	State    store.CampaignState
	Schedule string // "" (at once), a time, or a cron expression
	// PausedBy names the manager who paused it; PauseReason says why it paused
	// otherwise.
	PausedBy, PauseReason string
	// ServerDown says it paused because the SMTP server could not be reached; it
	// resumes by itself at ResumeAt.
	ServerDown bool
	// Refused is the server's last reply when it paused because the server refused
	// letter after letter; a person resumes it.
	Refused           string
	NextRun, ResumeAt *time.Time
	Run               int // 0: never sent
	Recipients        int // Start's count: who the campaign goes to now
	// The current run's letters. Sending are under way; Cut were under way when the
	// connection broke: they may have arrived and are not sent again.
	Queued, Sending, Sent, Failed, Deferred, Cut int
	// Skipped got no letter: they could not be mailed from the start (no consent,
	// unsubscribed, bounced, no e-mail), opted out since, or their letter did not
	// render.
	Skipped int
	// Lines of "mailing sent" are written in the clients' histories so far, one for
	// each letter sent: a campaign finishing writes the rest.
	Lines int
	// FailReplies are what the failed letters got, the most frequent first (a few).
	FailReplies []store.ReplyCount
}

// CampaignRefusal is a CampaignControl's error whose message is meant for the person
// who asked: it is shown to them as it is (escaped).
type CampaignRefusal struct{ Err error }

func (r *CampaignRefusal) Error() string { return r.Err.Error() }
func (r *CampaignRefusal) Unwrap() error { return r.Err }

// campaignState is a campaign state's emoji and name.
func (t *turn) campaignState(s store.CampaignState) string {
	return t.tr("campaign.state." + string(s))
}

// campaignsAllowed tells whether the manager may see mailings, and says why not. The
// manager was read afresh for this update, so a head demoted since the list was shown
// is refused.
func (t *turn) campaignsAllowed() bool {
	if !t.m.Role.SeesAll() {
		t.notice(t.tr("head.only"))
		return false
	}
	if t.opts.Campaigns == nil {
		t.notice(t.tr("campaigns.off"))
		return false
	}
	return true
}

const tapCampaigns tap = "cpl"

// campaigns is /campaigns: the latest campaigns, each with the buttons its state
// allows.
func (t *turn) campaigns() {
	if !t.campaignsAllowed() {
		return
	}
	list, err := t.opts.Campaigns.List(t.ctx)
	if err != nil {
		t.fail("list campaigns", err)
		return
	}
	if len(list) == 0 {
		t.show(t.tr("campaigns.none"))
		return
	}
	// Newest first, those that can be paused or resumed before drafts, drafts before
	// those done: what a head acts on stays on the screen.
	slices.Reverse(list)
	slices.SortStableFunc(list, func(a, b CampaignView) int { return cmp.Compare(campaignRank(a.State), campaignRank(b.State)) })
	hidden := 0
	if len(list) > listLimit {
		list, hidden = list[:listLimit], len(list)-listLimit
	}
	var b strings.Builder
	b.WriteString(t.tr("campaigns.title"))
	var kb [][]Button
	for i, v := range list {
		if v.Run > 0 { // only a campaign that was sent has counts; Status reads them
			if v, err = t.opts.Campaigns.Status(t.ctx, v.ID); err != nil {
				t.fail("read campaign status", err)
				return
			}
		}
		fmt.Fprintf(&b, "\n%d. %s <b>%s</b>", i+1, t.campaignState(v.State), html.EscapeString(v.Name))
		if v.Run > 0 {
			b.WriteString(" · " + t.tr("campaigns.counts", "sent", v.Sent, "failed", v.Failed))
			for _, c := range []struct {
				key string
				n   int
			}{{"campaigns.deferred", v.Deferred}, {"campaigns.cut", v.Cut}, {"campaigns.skipped", v.Skipped}} {
				if c.n > 0 {
					b.WriteString(" · " + t.tr(c.key, "n", c.n))
				}
			}
		}
		line := t.campaignActions(v, true)
		kb = append(kb, append(line, btn(fmt.Sprintf("📊 %d", i+1), tapCampaignStatus.data(v.ID))))
	}
	if hidden > 0 {
		b.WriteString("\n" + t.tr("campaigns.more", "n", hidden))
	}
	t.show(b.String(), kb...)
}

func campaignRank(s store.CampaignState) int {
	switch s {
	case store.CampaignDraft:
		return 1
	case store.CampaignDone:
		return 2
	}
	return 0
}

// campaignActions is the button that changes a campaign in its state (none for one
// that is done); named adds the campaign's name, for the list.
func (t *turn) campaignActions(v CampaignView, named bool) []Button {
	var (
		key  string
		move tap
	)
	switch v.State {
	case store.CampaignDraft:
		key, move = "btn.campaign_start", tapCampaignStart
	case store.CampaignPreparing, store.CampaignSending, store.CampaignScheduled:
		key, move = "btn.campaign_pause", tapCampaignPause
	case store.CampaignPaused:
		key, move = "btn.campaign_resume", tapCampaignResume
	default:
		return nil
	}
	text := t.tr(key)
	if named {
		text += " " + clip(v.Name, 24)
	}
	// Campaign IDs are 24 hex digits: the data stays far below Telegram's 64 bytes.
	return row(btn(text, move.data(v.ID)))
}

const tapCampaignStatus tap = "cps" // cps:<campaign>

// campaignStatus shows one campaign: state, why it is paused, when it runs, and
// what happened to the letters of its current run; head is a line put first.
func (t *turn) campaignStatus(id, head string) {
	if !t.campaignsAllowed() {
		return
	}
	v, err := t.opts.Campaigns.Status(t.ctx, id)
	if err != nil {
		t.campaignFailed("read campaign status", err)
		return
	}
	var b strings.Builder
	if head != "" {
		b.WriteString(head + "\n\n")
	}
	b.WriteString(t.tr("campaign.title", "name", v.Name))
	b.WriteString("\n" + t.tr("campaign.state", "state", safe(t.campaignState(v.State))))
	if v.Schedule != "" {
		b.WriteString("\n" + t.tr("campaign.schedule", "v", v.Schedule))
	}
	switch {
	case v.PausedBy != "":
		b.WriteString("\n" + t.tr("campaign.paused_by", "name", v.PausedBy))
	case v.ServerDown:
		b.WriteString("\n" + t.tr("campaign.paused_server_down"))
	case v.Refused != "":
		b.WriteString("\n" + t.tr("campaign.paused_refused", "reply", clip(v.Refused, replyLimit)))
	case v.PauseReason != "":
		b.WriteString("\n" + t.tr("campaign.paused_why", "reason", v.PauseReason))
	}
	if v.ResumeAt != nil {
		b.WriteString("\n" + t.tr("campaign.resume_at", "when", t.whenFull(*v.ResumeAt)))
	}
	if v.NextRun != nil {
		b.WriteString("\n" + t.tr("campaign.next_run", "when", t.whenFull(*v.NextRun)))
	}
	if v.Run == 0 {
		b.WriteString("\n" + t.tr("campaign.not_run"))
	} else {
		total := v.Queued + v.Sending + v.Sent + v.Failed + v.Deferred + v.Cut + v.Skipped
		b.WriteString("\n\n" + t.tr("campaign.run", "n", v.Run, "total", total))
		for _, c := range []struct {
			key string
			n   int
		}{{"campaign.sent", v.Sent}, {"campaign.failed", v.Failed}, {"campaign.deferred", v.Deferred},
			{"campaign.waiting", v.Queued}, {"campaign.sending", v.Sending}, {"campaign.cut", v.Cut},
			{"campaign.skipped", v.Skipped}} {
			if c.n > 0 || c.key == "campaign.sent" || c.key == "campaign.failed" {
				b.WriteString("\n" + t.tr(c.key, "n", c.n))
			}
			if c.key == "campaign.failed" {
				b.WriteString(t.failReplies(v))
			}
		}
		if v.State == store.CampaignFinishing {
			b.WriteString("\n" + t.tr("campaign.lines", "n", v.Lines, "total", v.Sent))
		}
	}
	kb := [][]Button{row(btn(t.tr("btn.refresh"), tapCampaignStatus.data(v.ID)), btn(t.tr("btn.campaigns"), tapCampaigns.data()))}
	if a := t.campaignActions(v, false); a != nil {
		kb = append([][]Button{a}, kb...)
	}
	t.show(b.String(), kb...)
}

// replyLimit is how much of a mail server's reply the chat shows.
const replyLimit = 200

// failReplies is a line for each reply the failed letters got, and one for the rest.
func (t *turn) failReplies(v CampaignView) string {
	var b strings.Builder
	shown := 0
	for _, r := range v.FailReplies {
		b.WriteString("\n" + t.tr("campaign.fail_reply", "n", r.N, "reply", clip(r.Reply, replyLimit)))
		shown += r.N
	}
	if shown > 0 && shown < v.Failed {
		b.WriteString("\n" + t.tr("campaign.fail_other", "n", v.Failed-shown))
	}
	return b.String()
}

// A campaign's moves: cpg:<campaign>, cpp:…, cpr:….
const (
	tapCampaignStart  tap = "cpg"
	tapCampaignPause  tap = "cpp"
	tapCampaignResume tap = "cpr"
)

// campaignMove starts, pauses or resumes the campaign the button names. The control
// checks that the campaign exists and that its state allows the change; a refusal is
// shown and changes nothing.
func (t *turn) campaignMove(action tap, id string) {
	if !t.campaignsAllowed() {
		return
	}
	cs := t.opts.Campaigns
	var (
		v    CampaignView
		err  error
		head string
	)
	switch action {
	case tapCampaignStart:
		if v, err = cs.Start(t.ctx, t.m.ID, id); err == nil {
			head = t.tr("campaign.started", "n", v.Recipients)
			if v.State == store.CampaignScheduled {
				head = t.tr("campaign.scheduled", "n", v.Recipients)
			}
		}
	case tapCampaignPause:
		v, err = cs.Pause(t.ctx, t.m.ID, id)
		head = t.tr("campaign.paused")
	case tapCampaignResume:
		v, err = cs.Resume(t.ctx, t.m.ID, id)
		head = t.tr("campaign.resumed")
	}
	if err != nil {
		t.campaignFailed("change campaign", err)
		return
	}
	t.log.Info("campaign changed from the bot", "campaign", v.ID, "state", v.State, "manager", t.m.ID)
	t.campaignStatus(v.ID, head)
}

// campaignFailed tells what went wrong: a campaign that is gone, a refusal in the
// control's own words, or (logged) that nothing was changed.
func (t *turn) campaignFailed(what string, err error) {
	var refusal *CampaignRefusal
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.notice(t.tr("campaign.none"))
	case errors.As(err, &refusal), errors.Is(err, store.ErrCampaignState):
		t.say(t.tr("campaign.refused", "err", err.Error()), row(btn(t.tr("btn.campaigns"), tapCampaigns.data())))
	default:
		t.fail(what, err)
	}
}
