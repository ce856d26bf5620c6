package web

import (
	"testing"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// The mailings' texts named by a state, an outcome or an action exist in both
// languages (the pages build their keys).
func TestMailingTextsOfStatesAndActions(t *testing.T) {
	p, err := templates.ReadPhrases(templates.FS, "web")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range []store.CampaignState{store.CampaignDraft, store.CampaignScheduled, store.CampaignPreparing, store.CampaignSending,
		store.CampaignFinishing, store.CampaignPaused, store.CampaignDone} {
		keys = append(keys, "mail.state."+string(s))
	}
	for _, o := range []campaign.Outcome{campaign.OutcomeSent, campaign.OutcomeFailed, campaign.OutcomeDeferred, campaign.OutcomeCut,
		campaign.OutcomeSkipped, campaign.OutcomeQueued, campaign.OutcomeSending} {
		keys = append(keys, "mail.outcome."+string(o))
	}
	for _, a := range campaignActions {
		keys = append(keys, "mail.act."+a, "mail.done."+a)
	}
	for _, k := range append(keys, "mail.done.saved", "mail.done.created") {
		for _, lang := range []string{"ru", "en"} {
			if _, ok := p[lang][k]; !ok {
				t.Errorf("web/%s.txt has no %q", lang, k)
			}
		}
	}
}
