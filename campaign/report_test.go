package campaign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// report reads a run's report (0: the current one) by e-mail, or by contact name for
// contacts without one.
func (m *mailing) report(run int) map[string]campaign.ReportRow {
	m.t.Helper()
	c, err := m.st.Campaign(context.Background(), m.camp.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	out := map[string]campaign.ReportRow{}
	missing, err := m.cs.Report(context.Background(), c, run, func(r campaign.ReportRow) error {
		key := r.Email
		if key == "" {
			key = r.Contact
		}
		if _, dup := out[key]; dup {
			m.t.Errorf("%s is in the report twice", key)
		}
		out[key] = r
		return nil
	})
	if err != nil || missing != 0 {
		m.t.Fatalf("report: %v, %d batches without a list", err, missing)
	}
	return out
}

// The report lists every contact of the segment with what became of their letter:
// sent, failed with the server's reply, deferred with its reply and next try, cut,
// skipped with why; its outcomes add up to the status's counts.
func TestReportListsEveryOutcome(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 3)
	nobody := storetest.Client(t, m.st, "Без почты", "", storetest.Person("Нет Адреса", "", 1, 1, true))
	if _, err := m.st.UpdateClient(ctx, "test", nobody.ID, store.ClientPatch{City: ptr("Казань")}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.st.MarkBounced(ctx, "r2-1@shop.test"); err != nil {
		t.Fatal(err)
	}
	m.srv.Refuse("r0-2@shop.test", 550)
	m.srv.Refuse("r1-1@shop.test", 451)
	m.srv.CutDuringData("r1-2@shop.test")
	m.start()
	m.prepare() // queued, none sent yet
	if got := m.report(0)["r0-1@shop.test"]; got.Outcome != campaign.OutcomeQueued || got.Client != "Магазин 0" {
		t.Fatalf("before sending: %+v", got)
	}
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))

	rows := m.report(0)
	at := m.clock.Now()
	want := map[string]campaign.ReportRow{
		"r0-1@shop.test": {Client: "Магазин 0", Contact: "Иванов Иван Петрович", Outcome: campaign.OutcomeSent},
		"r0-2@shop.test": {Client: "Магазин 0", Contact: "Anna Smith", Outcome: campaign.OutcomeFailed,
			Reply: "sending SMTP RCPT TO command: 550 5.1.1 refused by the test"},
		"r1-1@shop.test": {Client: "Магазин 1", Contact: "Иванов Иван Петрович", Outcome: campaign.OutcomeDeferred,
			Reply: "sending SMTP RCPT TO command: 451 4.1.1 refused by the test"},
		"r1-2@shop.test": {Client: "Магазин 1", Contact: "Anna Smith", Outcome: campaign.OutcomeSending},
		"r2-1@shop.test": {Client: "Магазин 2", Contact: "Иванов Иван Петрович", Outcome: campaign.OutcomeSkipped, Reason: "bounced"},
		"r2-2@shop.test": {Client: "Магазин 2", Contact: "Anna Smith", Outcome: campaign.OutcomeSent},
		"no@shop.test":   {Client: "Без согласия", Contact: "Нет Согласия", Outcome: campaign.OutcomeSkipped, Reason: "no consent"},
		"Нет Адреса":     {Client: "Без почты", Contact: "Нет Адреса", Outcome: campaign.OutcomeSkipped, Reason: "no e-mail"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for key, w := range want {
		got := rows[key]
		if got.Client != w.Client || got.Contact != w.Contact || got.Outcome != w.Outcome || got.Reason != w.Reason ||
			!strings.HasPrefix(got.Reply, w.Reply) || got.ClientID == "" || got.ContactID == "" {
			t.Errorf("%s: %+v, want %+v", key, got, w)
		}
	}
	if r := rows["r0-2@shop.test"]; !strings.Contains(r.Reply, "550") || r.At == nil || !r.At.Equal(at) || r.NextTry != nil {
		t.Errorf("the refused letter: %+v", r)
	}
	if r := rows["r1-1@shop.test"]; !strings.Contains(r.Reply, "451") || r.NextTry == nil || !r.NextTry.Equal(at.Add(time.Minute)) {
		t.Errorf("the deferred letter: %+v", r)
	}
	if r := rows["r1-2@shop.test"]; r.Reply == "" {
		t.Errorf("the cut letter has no reply: %+v", r)
	}

	// Once the run is over, the letter left "sending" was cut; the deferred one went.
	m.srv.Accept("r1-1@shop.test")
	m.clock.Add(2 * time.Minute)
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	rows = m.report(0)
	if r := rows["r1-2@shop.test"]; r.Outcome != campaign.OutcomeCut || !strings.Contains(r.Reason, "may have arrived") {
		t.Errorf("the cut letter after the run: %+v", r)
	}
	if r := rows["r1-1@shop.test"]; r.Outcome != campaign.OutcomeSent || r.At == nil || r.Reply != "" {
		t.Errorf("the deferred letter once sent: %+v", r)
	}
	st := m.status()
	n := map[campaign.Outcome]int{}
	for _, r := range rows {
		n[r.Outcome]++
	}
	if st.Campaign.State != store.CampaignDone || n[campaign.OutcomeSent] != st.Counts.Sent || n[campaign.OutcomeFailed] != st.Counts.Failed ||
		n[campaign.OutcomeCut] != st.Counts.Sending || n[campaign.OutcomeSkipped] != st.Counts.Skipped+st.Excluded || st.Excluded != 3 {
		t.Fatalf("report %v, status %+v, %d skipped from the start", n, st.Counts, st.Excluded)
	}
	if _, err := m.cs.Report(ctx, st.Campaign, 2, func(campaign.ReportRow) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "no run 2") {
		t.Fatalf("a run that never was: %v", err)
	}
}
