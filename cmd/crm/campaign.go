package main

import (
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
)

// newCampaigns builds the campaign side from the configuration. Without
// CRM_UNSUBSCRIBE_SECRET it can preview but not start a campaign (no unsubscribe
// links can be signed).
func newCampaigns(e *env, s *store.Store) (*scheduler.Campaigns, error) {
	var unsub *scheduler.Unsubscriber
	if e.cfg.UnsubscribeSecret != "" {
		var err error
		if unsub, err = scheduler.NewUnsubscriber(s, e.cfg.UnsubscribeSecret, e.cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	return scheduler.NewCampaigns(s, unsub, e.cfg.MailFrom, e.cfg.Calendar.Loc), nil
}
