package campaign_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
)

// oneConn sends as smtptest.Sender does, over one connection at a time, so the letters'
// outcomes come in the order they were queued.
type oneConn struct{ smtptest.Sender }

func (oneConn) Conns() int { return 1 }

// queued queues the started run and returns the addresses of its first batch in
// sending order.
func (m *mailing) queued() []string {
	m.t.Helper()
	m.prepare()
	list, err := m.st.BatchList(context.Background(), store.BatchID(m.camp.ID, 1, 0))
	if err != nil {
		m.t.Fatal(err)
	}
	var out []string
	for _, r := range list.Recipients {
		out = append(out, r.Email)
	}
	return out
}

// A server that refuses every recipient does not get the whole list: the campaign
// pauses after RefusalsToPause refusals in a row, with the server's reply as the
// reason, and each failed letter keeps that reply. Resumed once the server accepts
// again, it sends the rest; the failed stay failed.
func TestCampaignPausesWhenTheServerRefusesEveryone(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 50) // 100 recipients
	const reply = "Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org"
	m.srv.RefuseAll(554, reply)
	s := m.runner("one", smtptest.Sender{Port: m.srv.Port()})
	m.start()
	order := m.queued()
	m.pass(s)

	st := m.status()
	failed := st.Counts.Failed
	t.Logf("paused after %d refusals: %s", failed, st.Campaign.PauseReason)
	// The letters under way on the other connections when the row was complete (three)
	// end as they may.
	if st.Campaign.State != store.CampaignPaused || failed < campaign.RefusalsToPause || failed > campaign.RefusalsToPause+3 ||
		st.Counts.Queued != 100-failed || st.Counts.Sent != 0 || st.Campaign.ResumeAt != nil {
		t.Fatalf("with every letter refused: %s, resumes at %v, %+v", st.Campaign.State, st.Campaign.ResumeAt, st.Counts)
	}
	reason, ok := campaign.RefusedReply(st.Campaign.PauseReason)
	if !ok || !strings.Contains(reason, "554 5.7.1 "+reply) || strings.Contains(reason, "@shop.test") {
		t.Fatalf("the pause's reason: %q", st.Campaign.PauseReason)
	}
	if len(st.Replies) != 1 || st.Replies[0].N != failed || st.Replies[0].Reply != reason {
		t.Fatalf("the failures' replies: %+v, want %d × %q", st.Replies, failed, reason)
	}
	b, err := m.st.Batch(ctx, store.BatchID(m.camp.ID, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	for i := range len(b.States) {
		if store.LetterState(b.States[i]) == store.DeliveryFailed {
			refused = append(refused, order[i])
			if got := b.Tries[strconv.Itoa(i)].Reply; got != reason {
				t.Errorf("%s failed with %q", order[i], got)
			}
		}
	}

	// Paused, it stays paused: nothing is tried again by itself.
	m.clock.Add(time.Hour)
	m.pass(s)
	if st := m.status(); st.Campaign.State != store.CampaignPaused || st.Counts.Failed != failed {
		t.Fatalf("a campaign paused for refusals went on: %s, %+v", st.Campaign.State, st.Counts)
	}

	m.srv.AcceptAll()
	if _, err := m.cs.Resume(ctx, "head", m.camp.ID); err != nil {
		t.Fatal(err)
	}
	m.pass(s)
	st = m.status()
	if st.Campaign.State != store.CampaignDone || st.Counts.Sent != 100-failed || st.Counts.Failed != failed ||
		len(st.Replies) != 1 || st.Replies[0].N != failed {
		t.Fatalf("after the resume: %s, %+v, %+v", st.Campaign.State, st.Counts, st.Replies)
	}
	m.receivedOnce(refused...)
}

// Refusals interleaved with letters sent never pause a campaign, however many.
func TestCampaignRefusalsBetweenLettersSentDoNotPause(t *testing.T) {
	m := newMailing(t, 50)
	var refused []string
	for i := range 50 {
		a := fmt.Sprintf("r%d-1@shop.test", i)
		m.srv.Refuse(a, 550)
		refused = append(refused, a)
	}
	m.start()
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	if st := m.status(); st.Campaign.State != store.CampaignDone || st.Counts.Failed != 50 || st.Counts.Sent != 50 {
		t.Fatalf("%s (%s), %+v", st.Campaign.State, st.Campaign.PauseReason, st.Counts)
	}
	m.receivedOnce(refused...)
}

// The row is counted in sending order: a letter sent ends it, and the pause comes
// with the refusal that makes it RefusalsToPause long, not before.
func TestCampaignPausesAtTheRefusalThatCompletesTheRow(t *testing.T) {
	m := newMailing(t, 30) // 60 recipients
	m.start()
	order := m.queued()
	n := campaign.RefusalsToPause
	for i := range 2 * n { // n-1 refused, one sent, n refused
		if i != n-1 {
			m.srv.Refuse(order[i], 550)
		}
	}
	m.pass(m.runner("one", oneConn{smtptest.Sender{Port: m.srv.Port()}}))
	st := m.status()
	if st.Campaign.State != store.CampaignPaused || st.Counts.Failed != 2*n-1 || st.Counts.Sent != 1 || st.Counts.Queued != 60-2*n {
		t.Fatalf("%s (%s), %+v", st.Campaign.State, st.Campaign.PauseReason, st.Counts)
	}
}
