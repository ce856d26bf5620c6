package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// campaignControl lets heads and admins drive campaigns from the bot (bot.
// CampaignControl): the bot and package campaign do not import each other.
type campaignControl struct {
	st *store.Store
	cs *campaign.Campaigns

	// done keeps the status of finished campaigns: their counts no longer change, and
	// reading them is a scan of the batch heads on the embedded engine, which the list
	// would otherwise repeat for every finished campaign on every /campaigns.
	mu   sync.Mutex
	done map[string]bot.CampaignView
}

// chatCampaigns is the bot's control of mailings, in Telegram and in crm chat alike:
// nil (the bot says mailings are not set up) without an SMTP server to send them.
func chatCampaigns(e *env, s *store.Store) (bot.CampaignControl, error) {
	if e.cfg.SMTP == nil {
		return nil, nil
	}
	cs, err := newCampaigns(e, s)
	if err != nil {
		return nil, err
	}
	return newCampaignControl(s, cs), nil
}

func newCampaignControl(st *store.Store, cs *campaign.Campaigns) *campaignControl {
	return &campaignControl{st: st, cs: cs, done: map[string]bot.CampaignView{}}
}

func (cc *campaignControl) List(ctx context.Context) ([]bot.CampaignView, error) {
	list, err := cc.st.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bot.CampaignView, 0, len(list))
	for i := range list {
		if !list[i].IsArchived() { // as crm campaign list shows them
			out = append(out, cc.view(ctx, &list[i]))
		}
	}
	return out, nil
}

func (cc *campaignControl) Start(ctx context.Context, actorID, id string) (bot.CampaignView, error) {
	c, n, err := cc.cs.Start(ctx, actorID, id)
	if err != nil {
		return bot.CampaignView{}, refusal(settingsHint(err))
	}
	v := cc.view(ctx, c)
	v.Recipients = n
	return v, nil
}

func (cc *campaignControl) Pause(ctx context.Context, actorID, id string) (bot.CampaignView, error) {
	c, err := cc.cs.Pause(ctx, actorID, id)
	return cc.moved(ctx, c, err)
}

func (cc *campaignControl) Resume(ctx context.Context, actorID, id string) (bot.CampaignView, error) {
	c, err := cc.cs.Resume(ctx, actorID, id)
	return cc.moved(ctx, c, err)
}

// moved is the result of a pause or a resume in the bot's terms.
func (cc *campaignControl) moved(ctx context.Context, c *store.Campaign, err error) (bot.CampaignView, error) {
	if err != nil {
		return bot.CampaignView{}, refusal(err)
	}
	return cc.view(ctx, c), nil
}

func (cc *campaignControl) Status(ctx context.Context, id string) (bot.CampaignView, error) {
	cc.mu.Lock()
	v, ok := cc.done[id]
	cc.mu.Unlock()
	if ok {
		return v, nil
	}
	st, err := cc.cs.Status(ctx, id)
	if err != nil {
		return bot.CampaignView{}, err
	}
	c, n := st.Campaign, st.Tally() // as crm campaign list and report count them
	v = cc.view(ctx, c)
	v.Queued, v.Sending, v.Sent, v.Failed, v.Deferred, v.Cut, v.Skipped = n.Queued, n.Sending, n.Sent, n.Failed, n.Deferred, n.Cut, n.Skipped
	v.FailReplies, v.Lines = st.Replies, st.Lines
	if c.IsFinished() {
		cc.mu.Lock()
		cc.done[id] = v
		cc.mu.Unlock()
	}
	return v, nil
}

// view is a campaign without counts; a pause by a person names them, one for the
// server's refusals gives its reply.
func (cc *campaignControl) view(ctx context.Context, c *store.Campaign) bot.CampaignView {
	v := bot.CampaignView{ID: c.ID, Name: c.Name, State: c.State, Schedule: c.Schedule, PauseReason: c.PauseReason,
		ResumeAt: c.ResumeAt, Run: c.Run}
	if c.State == store.CampaignScheduled || c.State == store.CampaignPaused {
		v.NextRun = c.RunAt
	}
	if c.PauseReason == campaign.PauseServerDown {
		v.ServerDown, v.PauseReason = true, ""
	}
	if reply, ok := campaign.RefusedReply(c.PauseReason); ok {
		v.Refused, v.PauseReason = reply, ""
	}
	if id, ok := strings.CutPrefix(c.PauseReason, "paused by "); ok && c.State == store.CampaignPaused {
		if m, err := cc.st.Manager(ctx, id); err == nil {
			v.PausedBy, v.PauseReason = m.Name, ""
		}
	}
	return v
}

// refusal marks the errors whose message tells a head what to fix (the template, the
// settings, the segment, the campaign's state), so that the bot shows them as they are.
func refusal(err error) error {
	for _, e := range []error{campaign.ErrTemplate, campaign.ErrNotReady, store.ErrCampaignState, store.ErrInvalid} {
		if errors.Is(err, e) {
			return &bot.CampaignRefusal{Err: err}
		}
	}
	return err
}
