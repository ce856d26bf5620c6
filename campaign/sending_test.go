package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// mailing is a campaign's world: a store on a clock, a go-smtp server, and clients
// whose contacts are addressed r<client>-<contact>@shop.test.
type mailing struct {
	t     *testing.T
	clock *storetest.Clock
	st    *store.Store
	srv   *smtptest.Server
	cs    *campaign.Campaigns
	unsub *campaign.Unsubscriber
	camp  *store.Campaign
	want  []string // the addresses that should get the campaign
	first string   // the first client's ID
}

// newMailing makes clients*2 contacts in Kazan who consented, plus one who did not and
// a client in another city, and a draft campaign to Kazan.
func newMailing(t *testing.T, clients int) *mailing {
	t.Helper()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	m := &mailing{t: t, clock: c, st: storetest.OnClock(t, c), srv: smtptest.Start(t)}
	olga := storetest.Manager(t, m.st, store.Manager{Name: "Ольга Петрова", Email: "olga@crm.test"})
	for i := range clients {
		a, b := fmt.Sprintf("r%d-1@shop.test", i), fmt.Sprintf("r%d-2@shop.test", i)
		cl := storetest.Client(t, m.st, fmt.Sprintf("Магазин %d", i), olga.ID,
			storetest.Person("Иванов Иван Петрович", a, 1, 1, true), storetest.Person("Anna Smith", b, 1, 1, true))
		if _, err := m.st.UpdateClient(ctx, "test", cl.ID, store.ClientPatch{City: ptr("Казань")}); err != nil {
			t.Fatal(err)
		}
		m.want = append(m.want, a, b)
		if i == 0 {
			m.first = cl.ID
		}
	}
	cl := storetest.Client(t, m.st, "Без согласия", olga.ID, storetest.Person("Нет Согласия", "no@shop.test", 1, 1, false))
	if _, err := m.st.UpdateClient(ctx, "test", cl.ID, store.ClientPatch{City: ptr("Казань")}); err != nil {
		t.Fatal(err)
	}
	storetest.Client(t, m.st, "Москва", olga.ID, storetest.Person("Другой Город", "moscow@shop.test", 1, 1, true))

	unsub, err := campaign.NewUnsubscriber(m.st, "0123456789abcdef-secret", "https://crm.test")
	if err != nil {
		t.Fatal(err)
	}
	m.unsub = unsub
	m.cs = campaign.NewCampaigns(m.st, unsub, "news@crm.test", time.UTC)
	m.camp = &store.Campaign{Name: "Зима", Segment: store.Segment{Cities: []string{"Казань"}},
		Subject: "{{.Contact.FirstName}}, зима в {{.Client.Name}}",
		Text:    "Здравствуйте, {{.Contact.FirstName}}!\n{{.Manager.Signature}}\nОтписаться: {{.UnsubscribeURL}}",
		HTML:    "<p>{{.Client.Name}}</p>", Sender: "Команда <news@crm.test>"}
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	return m
}

// runner makes an instance named owner that sends through sender.
func (m *mailing) runner(owner string, sender campaign.Sender) *campaign.Runner {
	return campaign.NewRunner(m.cs, sender, campaign.RunnerOptions{Owner: owner, Now: m.clock.Now, ServerRetry: time.Minute})
}

func (m *mailing) start() {
	m.t.Helper()
	if _, _, err := m.cs.Start(context.Background(), "head", m.camp.ID); err != nil {
		m.t.Fatal(err)
	}
}

// setPosition changes a recipient's position, which a template may show.
func (m *mailing) setPosition(addr, position string) {
	m.t.Helper()
	ctx := context.Background()
	h, err := m.st.FindByEmail(ctx, addr)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.st.UpdateContact(ctx, "olga", h.Client.ID, h.ContactID, store.ContactPatch{Position: &position}); err != nil {
		m.t.Fatal(err)
	}
}

// prepare queues the started run, as a runner does before it sends it.
func (m *mailing) prepare() {
	m.t.Helper()
	if err := m.runner("prep", nil).PrepareForTest(context.Background(), m.camp.ID); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mailing) pass(s *campaign.Runner) {
	m.t.Helper()
	if err := s.Pass(context.Background()); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mailing) status() campaign.Status {
	m.t.Helper()
	st, err := m.cs.Status(context.Background(), m.camp.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	return st
}

// receivedOnce checks that every wanted address got exactly one message and nobody
// else got any, except the addresses in missing, which got none.
func (m *mailing) receivedOnce(missing ...string) {
	m.t.Helper()
	got := map[string]int{}
	for _, msg := range m.srv.Messages() {
		for _, to := range msg.To {
			got[to]++
		}
	}
	skip := map[string]bool{}
	for _, a := range missing {
		skip[a] = true
	}
	for _, a := range m.want {
		if want := map[bool]int{true: 0, false: 1}[skip[a]]; got[a] != want {
			m.t.Errorf("%s got %d messages, want %d", a, got[a], want)
		}
		delete(got, a)
	}
	for a, n := range got {
		m.t.Errorf("%s is not in the segment and got %d messages", a, n)
	}
}

// atMostOnce checks that nobody got two messages and nobody outside the segment got one.
func (m *mailing) atMostOnce() {
	m.t.Helper()
	want := map[string]bool{}
	for _, a := range m.want {
		want[a] = true
	}
	got := map[string]int{}
	for _, msg := range m.srv.Messages() {
		for _, to := range msg.To {
			if got[to]++; got[to] > 1 || !want[to] {
				m.t.Errorf("%s got message %d (in the segment: %v)", to, got[to], want[to])
			}
		}
	}
}

// countingSender sends on a new connection per message and calls hook before the nth
// (or after it).
type countingSender struct {
	port int
	n    atomic.Int64
	at   int64
	hook func()
	once sync.Once
	slow time.Duration // each send after the hook takes this long
	// after calls the hook once the nth message is sent, not before.
	after    bool
	finished atomic.Int64
}

func (s *countingSender) Send(ctx context.Context, msg *gomail.Msg) error {
	n := s.n.Add(1)
	if n == s.at && s.hook != nil && !s.after {
		s.once.Do(s.hook)
	}
	if n > s.at && s.slow > 0 {
		time.Sleep(s.slow)
	}
	err := smtptest.Sender{Port: s.port}.Send(ctx, msg)
	// Sends run side by side: the nth to finish, not the nth begun, is when n are sent.
	if s.finished.Add(1) == s.at && s.hook != nil && s.after {
		s.once.Do(s.hook)
	}
	return err
}

func TestCampaignGoesToTheSegmentOnceWithRefusalsAndTimeline(t *testing.T) {
	m := newMailing(t, 130) // 260 recipients
	ctx := context.Background()
	m.srv.Refuse("r3-1@shop.test", 550)
	m.srv.Refuse("r5-2@shop.test", 451)
	s := m.runner("one", smtptest.Sender{Port: m.srv.Port()})
	m.start()
	m.pass(s)

	st := m.status()
	// Two batches: the first is small, so that sending begins at once.
	if st.Counts.Sent != 258 || st.Counts.Failed != 1 || st.Counts.Deferred != 1 || st.Batches != 2 || st.Campaign.State != store.CampaignSending {
		t.Fatalf("after the first pass: %+v, %d batches, %s", st.Counts, st.Batches, st.Campaign.State)
	}
	m.pass(s) // the deferred one is not due yet
	if n := len(m.srv.To("r5-2@shop.test")); n != 0 || m.srv.Count() != 258 {
		t.Fatalf("sent before its retry time: %d messages in all", m.srv.Count())
	}

	m.srv.Accept("r5-2@shop.test")
	m.clock.Add(2 * time.Minute)
	m.pass(s)
	st = m.status()
	if st.Counts.Sent != 259 || st.Counts.Failed != 1 || st.Counts.Deferred != 0 || st.Campaign.State != store.CampaignDone {
		t.Fatalf("after the retry: %+v, %s", st.Counts, st.Campaign.State)
	}
	m.receivedOnce("r3-1@shop.test")
	smtptest.RecordedOnly(t, m.st, m.srv.Messages())
	// The run is over: its letters are dropped, who they went to is kept, and the
	// batch heads keep the counts.
	var kept store.BatchList // the run's batches: a small first one, then the rest
	for seq := 0; seq < st.Batches; seq++ {
		list, err := m.st.BatchList(ctx, store.BatchID(m.camp.ID, 1, seq))
		if err != nil {
			t.Fatalf("a finished run's list %d: %v", seq, err)
		}
		kept.Recipients, kept.Skipped = append(kept.Recipients, list.Recipients...), append(kept.Skipped, list.Skipped...)
	}
	if len(kept.Recipients) != 260 || len(kept.Skipped) != 1 || kept.Skipped[0].Skip != "no consent" {
		t.Fatalf("a finished run's lists: %d recipients, skipped %+v", len(kept.Recipients), kept.Skipped)
	}
	for _, r := range kept.Recipients {
		if r.Letter != nil || r.ClientName == "" || r.ContactName == "" || r.Email == "" {
			t.Fatalf("a finished run keeps %+v", r)
		}
	}

	msg := m.srv.To("r0-1@shop.test")[0]
	if msg.Header("Subject") != "Иван Петрович, зима в Магазин 0" || !strings.HasPrefix(msg.Header("List-Unsubscribe"), "<https://crm.test/unsubscribe/") ||
		msg.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(string(msg.Data), "olga@crm.test") {
		t.Fatalf("the letter: %s", msg.Data)
	}

	// Each sent message is one line in its client's timeline; the refused one is not.
	items, _, err := m.st.Timeline(ctx, m.first, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, it := range items {
		if it.Kind == store.InteractionMailing {
			lines++
		}
	}
	if lines != 2 {
		t.Fatalf("timeline of a client with two recipients: %d mailing lines in %+v", lines, items)
	}

	// Another pass, or another instance, sends nothing more.
	m.pass(s)
	m.pass(m.runner("two", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce("r3-1@shop.test")
}

func TestCampaignStartRefusesBadTemplatesAndMissingLinks(t *testing.T) {
	m := newMailing(t, 2)
	ctx := context.Background()
	m.camp.Text = "Здравствуйте!\n{{.Contact.Nmae}}"
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	_, _, err := m.cs.Start(ctx, "head", m.camp.ID)
	if !errors.Is(err, campaign.ErrTemplate) || !strings.Contains(err.Error(), "Nmae") || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("a misspelt field: %v", err)
	}
	noLinks := campaign.NewCampaigns(m.st, nil, "news@crm.test", time.UTC)
	if _, _, err := noLinks.Start(ctx, "head", m.camp.ID); !errors.Is(err, campaign.ErrNotReady) || !errors.Is(err, campaign.ErrNoLinks) {
		t.Fatalf("no unsubscribe links: %v", err)
	}
	if c, _ := m.st.Campaign(ctx, m.camp.ID); c.State != store.CampaignDraft {
		t.Fatalf("a refused start changed the campaign: %s", c.State)
	}
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	if m.srv.Count() != 0 {
		t.Fatalf("a draft was sent: %d", m.srv.Count())
	}
}

func TestCampaignPausesForADeadServerAndResumes(t *testing.T) {
	m := newMailing(t, 60)
	sender := &countingSender{port: m.srv.Port(), at: 50}
	sender.hook = m.srv.Stop
	s := m.runner("one", sender)
	m.start()
	m.pass(s)
	st := m.status()
	// Messages on their way when the server died may have been cut; none was sent twice.
	if st.Campaign.State != store.CampaignPaused || st.Campaign.PauseReason != campaign.PauseServerDown ||
		st.Counts.Sent < 40 || st.Counts.Sent+st.Counts.Sending+st.Counts.Queued != 120 {
		t.Fatalf("with the server gone: %s (%s), %+v", st.Campaign.State, st.Campaign.PauseReason, st.Counts)
	}
	before := m.srv.Count()
	if err := m.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	m.pass(s) // not yet: the campaign waits before it tries again
	if m.srv.Count() != before {
		t.Fatalf("resumed before its time: %d", m.srv.Count())
	}
	m.clock.Add(2 * time.Minute)
	m.pass(s)
	st = m.status()
	if st.Campaign.State != store.CampaignDone || st.Counts.Sent+st.Counts.Sending != 120 ||
		m.srv.Count() < st.Counts.Sent || m.srv.Count() > st.Counts.Sent+st.Counts.Sending { // a cut message may have arrived
		t.Fatalf("after the server came back: %s, %+v, %d received", st.Campaign.State, st.Counts, m.srv.Count())
	}
	if st.Counts.Sending == 0 {
		m.receivedOnce()
	}
	m.atMostOnce()
}

func TestCampaignPauseResumeAndStopMidway(t *testing.T) {
	m := newMailing(t, 150) // 300 recipients
	ctx := context.Background()
	sender := &countingSender{port: m.srv.Port(), at: 40}
	sender.hook = func() {
		if _, err := m.cs.Pause(ctx, "head", m.camp.ID); err != nil {
			t.Error(err)
		}
	}
	sender.slow = 20 * time.Millisecond
	// The senders read the campaign's state before every letter, so that how many go
	// out after the pause depends on the letters under way, not on the machine's speed.
	s := campaign.NewRunner(m.cs, sender, campaign.RunnerOptions{Owner: "one", Now: m.clock.Now, ServerRetry: time.Minute,
		StateEvery: time.Nanosecond})
	m.start()
	m.pass(s)
	paused := m.srv.Count()
	if st := m.status(); st.Campaign.State != store.CampaignPaused || paused < 40 || paused > 280 || st.Counts.Sending != 0 {
		t.Fatalf("paused: %s, %d sent, %+v", st.Campaign.State, paused, st.Counts)
	}
	m.pass(s)
	if m.srv.Count() != paused {
		t.Fatal("a paused campaign went on")
	}

	// Resumed, then the process stops halfway: what was under way finishes, the rest
	// waits for the next instance.
	if _, err := m.cs.Resume(ctx, "head", m.camp.ID); err != nil {
		t.Fatal(err)
	}
	stopCtx, stop := context.WithCancel(ctx)
	stopping := &countingSender{port: m.srv.Port(), at: int64(300-paused) / 2, hook: stop}
	if err := m.runner("two", stopping).Pass(stopCtx); err != nil {
		t.Fatal(err)
	}
	if st := m.status(); st.Counts.Sending != 0 || st.Counts.Queued == 0 {
		t.Fatalf("after a stop: %+v", st.Counts)
	}
	m.pass(m.runner("three", smtptest.Sender{Port: m.srv.Port()}))
	if st := m.status(); st.Campaign.State != store.CampaignDone || st.Counts.Sent != 300 {
		t.Fatalf("after the restart: %s, %+v", st.Campaign.State, st.Counts)
	}
	m.receivedOnce()
}

func TestTwoRunnersShareACampaign(t *testing.T) {
	m := newMailing(t, 400) // 800 recipients, two batches
	m.start()
	a, b := &countingSender{port: m.srv.Port()}, &countingSender{port: m.srv.Port()}
	var wg sync.WaitGroup
	for _, x := range []struct {
		name string
		s    *countingSender
	}{{"alpha", a}, {"beta", b}} {
		wg.Go(func() { m.pass(m.runner(x.name, x.s)) })
	}
	wg.Wait()
	m.pass(m.runner("alpha", a)) // whatever was prepared after one of them looked
	if st := m.status(); st.Campaign.State != store.CampaignDone || st.Counts.Sent != 800 {
		t.Fatalf("%s, %+v", st.Campaign.State, st.Counts)
	}
	m.receivedOnce()
	t.Logf("alpha sent %d, beta %d", a.n.Load(), b.n.Load())
}

func TestRecurringCampaignRunsAgain(t *testing.T) {
	m := newMailing(t, 3)
	ctx := context.Background()
	m.camp.Schedule = "0 10 * * 1" // Mondays at 10:00; 23 November 2026 is a Monday
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	m.start()
	s := m.runner("one", smtptest.Sender{Port: m.srv.Port()})
	m.pass(s)
	if m.srv.Count() != 0 {
		t.Fatal("sent before its time")
	}
	m.clock.Add(time.Hour + time.Second)
	m.pass(s)
	m.pass(s)
	st := m.status()
	if m.srv.Count() != 6 || st.Campaign.State != store.CampaignScheduled || st.Campaign.RunAt == nil ||
		!st.Campaign.RunAt.Equal(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the first run: %d sent, %s, next %v", m.srv.Count(), st.Campaign.State, st.Campaign.RunAt)
	}
	m.clock.Add(7 * 24 * time.Hour)
	m.pass(s)
	if m.srv.Count() != 12 || m.status().Campaign.Run != 2 {
		t.Fatalf("the second run: %d sent", m.srv.Count())
	}
	// Each run has its report: the first one's is kept when the second is under way.
	for run := 1; run <= 2; run++ {
		rows := m.report(run)
		if r := rows["r2-2@shop.test"]; len(rows) != 7 || r.Outcome != campaign.OutcomeSent || rows["no@shop.test"].Reason != "no consent" {
			t.Fatalf("run %d's report: %+v", run, rows)
		}
	}
}

// An instance that stopped while writing a batch's "mailing sent" lines leaves some
// written: the instance that takes the batch over writes the rest, none twice.
func TestMailingLinesResumedAfterACrashAreWrittenOnce(t *testing.T) {
	m := newMailing(t, 3) // 6 recipients, one batch
	ctx := context.Background()
	m.start()
	// The sending ends and the instance stops before its lines.
	stopCtx, stop := context.WithCancel(ctx)
	last := &countingSender{port: m.srv.Port(), at: 6, hook: stop, after: true}
	if err := m.runner("one", last).Pass(stopCtx); err != nil {
		t.Fatal(err)
	}
	m.receivedOnce()
	c, err := m.st.Campaign(ctx, m.camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.st.Batch(ctx, store.BatchID(c.ID, c.Run, 0))
	if err != nil || b.State != store.BatchDone || b.Timelined {
		t.Fatalf("the batch after the sending: %+v %v", b, err)
	}

	// "crashed" takes it for its lines, writes the first client's, and dies.
	if ok, err := m.st.TakeBatch(ctx, b, "crashed", time.Minute); !ok || err != nil {
		t.Fatalf("take: %v %v", ok, err)
	}
	if ok, err := m.st.BeginLines(ctx, b, "crashed", time.Minute); !ok || err != nil {
		t.Fatalf("begin lines: %v %v", ok, err)
	}
	list, err := m.st.BatchList(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var firsts []store.Interaction
	for _, r := range list.Recipients {
		if r.ClientID == m.first {
			firsts = append(firsts, store.Interaction{Kind: store.InteractionMailing, At: m.clock.Now(), ContactID: r.ContactID,
				AuthorID: "scheduler", Text: "Зима", SourceKey: "mailing/" + c.ID + "/" + strconv.Itoa(c.Run) + "/" + r.ContactID})
		}
	}
	if err := m.st.AppendMailings(ctx, m.first, firsts, false); err != nil || len(firsts) != 2 {
		t.Fatalf("the first client's lines: %d, %v", len(firsts), err)
	}

	m.clock.Add(2 * time.Minute)
	m.pass(m.runner("two", smtptest.Sender{Port: m.srv.Port()}))
	if st := m.status(); st.Campaign.State != store.CampaignDone {
		t.Fatalf("after the takeover: %s", st.Campaign.State)
	}
	once := func(when string) {
		t.Helper()
		for _, r := range list.Recipients {
			items, _, err := m.st.Timeline(ctx, r.ClientID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			lines := 0
			for _, it := range items {
				if it.Kind == store.InteractionMailing && it.ContactID == r.ContactID {
					lines++
				}
			}
			if lines != 1 {
				t.Errorf("%s: %s has %d mailing lines, want 1", when, r.Email, lines)
			}
		}
	}
	once("shown")
	// Numbered into the timelines, the first client's lines are not numbered twice.
	if _, err := m.st.FoldPendingLines(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	once("numbered")
	m.receivedOnce()
}

// A contact who unsubscribes, bounces, loses consent or is removed after the run was
// queued does not get the campaign, also a day later; a change that leaves the
// contact mailable changes nothing.
func TestCampaignSkipsWhoOptedOutAfterTheStart(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 4)
	m.start()
	m.prepare()
	hit := func(addr string) *store.Hit {
		h, err := m.st.FindByEmail(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := hit("r0-1@shop.test")
	if _, err := m.st.Unsubscribe(ctx, h.Client.ID, h.ContactID, "link", m.camp.ID); err != nil {
		t.Fatal(err)
	}
	h = hit("r0-2@shop.test")
	position := "директор"
	if _, err := m.st.UpdateContact(ctx, "olga", h.Client.ID, h.ContactID, store.ContactPatch{Position: &position}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.st.MarkBounced(ctx, "r1-1@shop.test"); err != nil {
		t.Fatal(err)
	}
	h = hit("r1-2@shop.test")
	if _, err := m.st.WithdrawConsent(ctx, "olga", h.Client.ID, h.ContactID); err != nil {
		t.Fatal(err)
	}
	if err := m.st.DeleteClient(ctx, "olga", hit("r2-1@shop.test").Client.ID); err != nil {
		t.Fatal(err)
	}

	m.clock.Add(25 * time.Hour) // the opt-outs are in yesterday's record now
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce("r0-1@shop.test", "r1-1@shop.test", "r1-2@shop.test", "r2-1@shop.test", "r2-2@shop.test")
	if st := m.status(); st.Counts.Sent != 3 || st.Counts.Skipped != 5 || st.Campaign.State != store.CampaignDone {
		t.Fatalf("status: %+v, %s", st.Counts, st.Campaign.State)
	}
	// The report says why each was skipped, as their cards say now.
	rows := m.report(0)
	for addr, why := range map[string]string{"r0-1@shop.test": "unsubscribed after the start", "r0-2@shop.test": "",
		"r1-1@shop.test": "bounced after the start", "r1-2@shop.test": "no consent after the start",
		"r2-1@shop.test": "client deleted after the start", "r2-2@shop.test": "client deleted after the start",
		"no@shop.test": "no consent"} {
		if r := rows[addr]; r.Reason != why || (why == "") != (r.Outcome == campaign.OutcomeSent) {
			t.Errorf("%s: %+v, want skipped for %q", addr, r, why)
		}
	}
}

// Unsubscribes while a batch goes out reach the messages not yet begun.
func TestCampaignSkipsWhoUnsubscribesMidway(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 80) // 160 recipients in one batch, more than a group
	m.start()
	// The first send unsubscribes everybody while holding every connection, so the
	// pipeline cannot run ahead of it.
	s := &gateSender{port: m.srv.Port(), hook: func() {
		for _, addr := range m.want {
			h, err := m.st.FindByEmail(ctx, addr)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := m.st.Unsubscribe(ctx, h.Client.ID, h.ContactID, "link", m.camp.ID); err != nil {
				t.Error(err)
			}
		}
		m.clock.Add(3 * time.Second) // a running worker reads the day's opt-outs again
	}}
	m.pass(m.runner("one", s))
	m.atMostOnce()
	st := m.status()
	if n := st.Counts; n.Skipped == 0 || n.Sent == 0 || n.Sent+n.Skipped != 160 || n.Sent != m.srv.Count() {
		t.Fatalf("status: %+v, %d letters arrived", n, m.srv.Count())
	}
}

// gateSender sends one message at a time and calls hook before the first.
type gateSender struct {
	port int
	hook func()
	mu   sync.Mutex
	sent int
}

func (s *gateSender) Send(ctx context.Context, msg *gomail.Msg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent++; s.sent == 1 {
		s.hook()
	}
	return smtptest.Sender{Port: s.port}.Send(ctx, msg)
}

// A run that starts on its schedule renders its letters when it is queued; a
// recipient whose letter no longer renders (the data changed since the start checked
// it) is skipped with the reason, and the others get theirs.
func TestScheduledRunSkipsOnlyWhoseLetterNoLongerRenders(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 2)
	for _, addr := range m.want {
		m.setPosition(addr, "директор")
	}
	m.camp.Subject = "{{.Contact.FirstName}}, {{slice .Contact.Position 0 2}}" // the position's first letter
	m.camp.Schedule = "2026-11-23 10:00"
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	m.start()
	m.setPosition("r1-2@shop.test", "")
	m.clock.Add(time.Hour + time.Second)
	s := m.runner("one", smtptest.Sender{Port: m.srv.Port()})
	m.pass(s)
	m.pass(s)

	m.receivedOnce("r1-2@shop.test")
	st := m.status()
	if st.Counts.Sent != 3 || st.Counts.Skipped != 1 || st.Counts.Failed != 0 || st.Campaign.State != store.CampaignDone {
		t.Fatalf("status: %+v, %s", st.Counts, st.Campaign.State)
	}
	if len(st.Skips) != 1 || st.Skips[0].N != 1 || !strings.Contains(st.Skips[0].Reply, "slice") || !strings.Contains(st.Skips[0].Reply, "r1-2@shop.test") {
		t.Fatalf("why it was skipped: %+v", st.Skips)
	}
	if r := m.report(0)["r1-2@shop.test"]; r.Outcome != campaign.OutcomeSkipped || r.Reason != campaign.ReasonNotRendered || r.Reply != st.Skips[0].Reply {
		t.Fatalf("the report's row: %+v", r)
	}
	if msg := m.srv.To("r0-1@shop.test"); len(msg) != 1 || msg[0].Header("Subject") != "Иван Петрович, д" {
		t.Fatalf("the letter: %s", msg)
	}
}

// A run queued by an earlier version keeps no letters: they are rendered when sent.
func TestListsQueuedWithoutLettersAreRenderedWhenSent(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 2)
	m.start()
	m.prepare()
	id := store.BatchID(m.camp.ID, 1, 0)
	list, err := m.st.BatchList(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// As earlier versions queued them: what the template sees, and no letter.
	for i, r := range list.Recipients {
		if r.Letter == nil {
			t.Fatalf("recipient %d was queued without a letter", i)
		}
		h, err := m.st.FindByEmail(ctx, r.Email)
		if err != nil {
			t.Fatal(err)
		}
		list.Recipients[i] = store.BatchRecipient{ClientID: r.ClientID, ContactID: r.ContactID, Email: r.Email,
			ManagerID: h.Client.ManagerID, ContactName: h.Client.Contacts[r.ContactID].Name, ClientName: h.Client.Name, City: h.Client.City}
	}
	if err := m.st.DropBatches(ctx, m.camp.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.st.QueueBatch(ctx, &store.Batch{CampaignID: m.camp.ID, Run: 1}, list); err != nil {
		t.Fatal(err)
	}
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce()
	msg := m.srv.To("r1-1@shop.test")[0]
	if msg.Header("Subject") != "Иван Петрович, зима в Магазин 1" || !strings.HasPrefix(msg.Header("List-Unsubscribe"), "<https://crm.test/unsubscribe/") {
		t.Fatalf("the letter: %s", msg.Data)
	}
}

// A large newsletter makes small batches: a held batch's letters are in memory whole,
// and a batch is stored as one document, which MongoDB caps at 16 MB.
func TestLargeLettersMakeSmallBatches(t *testing.T) {
	m := newMailing(t, 30) // 60 recipients
	ctx := context.Background()
	m.camp.HTML = "<p>{{.Client.Name}}</p>" + strings.Repeat("<p>Зимние цены на шины и диски.</p>", 4000) // about 200 KB
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	m.start()
	m.prepare()
	if st := m.status(); st.Batches < 3 {
		t.Fatalf("60 letters of 200 KB in %d batches", st.Batches)
	}
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce()
	if st := m.status(); st.Counts.Sent != 60 || st.Campaign.State != store.CampaignDone {
		t.Fatalf("status: %+v, %s", st.Counts, st.Campaign.State)
	}
}
