package campaign_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
)

// watchedStore is the real store with hooks on what a run reads and writes, so that a
// test can hold the preparation or the history lines at a point and look.
type watchedStore struct {
	*store.Store
	client func(i int)           // before the i-th client of a reading of the segment is passed on
	lines  func(clientID string) // before a batch's "mailing sent" lines are written, for each client
}

func (w *watchedStore) SegmentClients(ctx context.Context, seg store.Segment, fn func(*store.Client) error) error {
	i := 0
	return w.Store.SegmentClients(ctx, seg, func(c *store.Client) error {
		if w.client != nil {
			w.client(i)
		}
		i++
		return fn(c)
	})
}

func (w *watchedStore) ShowMailings(ctx context.Context, byClient map[string][]store.Interaction) error {
	if w.lines != nil {
		for id := range byClient {
			w.lines(id)
		}
	}
	return w.Store.ShowMailings(ctx, byClient)
}

// watched is the mailing's campaign side over a watched store, and its runner.
func (m *mailing) watched(w *watchedStore, sender campaign.Sender) (*campaign.Campaigns, *campaign.Runner) {
	cs := campaign.NewCampaigns(w, m.unsub, "news@crm.test", time.UTC)
	return cs, campaign.NewRunner(cs, sender, campaign.RunnerOptions{Owner: "one", Now: m.clock.Now, ServerRetry: time.Minute})
}

// heldSender holds every letter until released.
type heldSender struct {
	port    int
	release chan struct{}
}

func (s *heldSender) Send(ctx context.Context, msg *gomail.Msg) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return smtptest.Sender{Port: s.port}.Send(ctx, msg)
}

// A start returns at once, preparing: the runner, looking for work all along as crm
// serve does, renders and sends the letters after it, and none has gone when it
// returns (the mail server holds every letter until then).
func TestStartReturnsPreparingBeforeAnyLetterIsSent(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 10)
	held := &heldSender{port: m.srv.Port(), release: make(chan struct{})}
	s := m.runner("one", held)
	passes := make(chan error, 1)
	go func() {
		for {
			if err := s.Pass(ctx); err != nil {
				passes <- err
				return
			}
			if c, err := m.st.Campaign(ctx, m.camp.ID); err != nil || c.State == store.CampaignDone {
				passes <- err
				return
			}
			time.Sleep(time.Millisecond) // crm serve looks every two seconds
		}
	}()
	c, n, err := m.cs.Start(ctx, "head", m.camp.ID)
	if err != nil || c.State != store.CampaignPreparing || n != 0 || m.srv.Count() != 0 {
		t.Fatalf("start: %v, %d, %v; %d letters arrived", c.State, n, err, m.srv.Count())
	}
	close(held.release)
	if err := <-passes; err != nil {
		t.Fatal(err)
	}
	m.receivedOnce()
}

// Rendering and sending overlap: the first letters are accepted by the mail server
// while the segment's last clients are still to be read, and their letters rendered.
func TestFirstLettersGoOutWhileTheRestAreRendered(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 150) // 300 recipients: a first batch of 250, then the rest
	firstSent := make(chan struct{})
	sender := &countingSender{port: m.srv.Port(), at: 1, after: true, hook: func() { close(firstSent) }}
	var seen campaign.Status // while the preparation waited
	w := &watchedStore{Store: m.st}
	w.client = func(i int) {
		if i != 140 { // past the first batch, before the last clients
			return
		}
		select {
		case <-firstSent:
		case <-time.After(time.Minute): // a deadlock, not a measure: the sending waits for the whole list
			t.Error("no letter went out while the segment's last clients were still to be read")
			return
		}
		seen = m.status()
	}
	cs, s := m.watched(w, sender)
	if _, _, err := cs.Start(ctx, "head", m.camp.ID); err != nil {
		t.Fatal(err)
	}
	m.pass(s)
	if seen.Campaign == nil || seen.Campaign.State != store.CampaignSending || seen.Campaign.Prepared {
		t.Fatalf("while the last clients waited: %+v", seen.Campaign)
	}
	m.receivedOnce()
	if st := m.status(); st.Campaign.State != store.CampaignDone || st.Counts.Sent != 300 {
		t.Fatalf("after the run: %s, %+v", st.Campaign.State, st.Counts)
	}
}

// A run's state says where it is: preparing when started, sending once letters go
// out, finishing (with the count of history lines written) once every letter is out
// and only the clients' "mailing sent" lines are left, done once they are written.
func TestCampaignStatusWalksPreparingSendingFinishingDone(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 150) // 300 recipients in two batches
	var mu sync.Mutex
	var walked []store.CampaignState
	note := func(s store.CampaignState) {
		mu.Lock()
		defer mu.Unlock()
		if len(walked) == 0 || walked[len(walked)-1] != s {
			walked = append(walked, s)
		}
	}
	var finishing campaign.Status
	w := &watchedStore{Store: m.st}
	w.lines = func(string) {
		st := m.status()
		note(st.Campaign.State)
		if finishing.Campaign != nil || st.Counts.Sent < 300 {
			return
		}
		// Every letter is out: the state says so while these lines wait.
		for deadline := time.Now().Add(time.Minute); st.Campaign.State != store.CampaignFinishing && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
			st = m.status()
		}
		note(st.Campaign.State)
		finishing = st
	}
	sender := &countingSender{port: m.srv.Port(), at: 1, hook: func() { note(m.status().Campaign.State) }}
	cs, s := m.watched(w, sender)
	c, _, err := cs.Start(ctx, "head", m.camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	note(c.State)
	m.pass(s)
	st := m.status()
	note(st.Campaign.State)

	want := []store.CampaignState{store.CampaignPreparing, store.CampaignSending, store.CampaignFinishing, store.CampaignDone}
	if !slices.Equal(walked, want) {
		t.Fatalf("the states walked: %v, want %v", walked, want)
	}
	if finishing.Counts.Sent != 300 || finishing.Lines >= 300 {
		t.Fatalf("finishing: %d of %d lines written", finishing.Lines, finishing.Counts.Sent)
	}
	if st.Lines != 300 || st.Counts.Sent != 300 {
		t.Fatalf("done: %d of %d lines written", st.Lines, st.Counts.Sent)
	}
	log, err := m.st.AuditLog(ctx, m.camp.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	moves := map[string]int{}
	for _, e := range log {
		moves[e.Action]++
	}
	for _, s := range want {
		if moves["campaign."+string(s)] != 1 {
			t.Errorf("the audit log has %d moves to %s: %v", moves["campaign."+string(s)], s, moves)
		}
	}
	m.receivedOnce()
}

// Start refuses a template that fails on the data of the segment's first recipients,
// and a segment nobody in which would get the campaign; the draft stays a draft.
func TestStartRefusesWhatFailsOnItsFirstRecipients(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 30)
	m.camp.Subject = "{{.Contact.FirstName}}, {{slice .Contact.Position 0 2}}" // nobody has a position
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.cs.Start(ctx, "head", m.camp.ID); !errors.Is(err, campaign.ErrTemplate) || !strings.Contains(err.Error(), "slice") ||
		!strings.Contains(err.Error(), "@shop.test") {
		t.Fatalf("a template that fails for the first recipients: %v", err)
	}
	m.camp.Subject, m.camp.Segment = "Зима", store.Segment{Cities: []string{"Тула"}}
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.cs.Start(ctx, "head", m.camp.ID); !errors.Is(err, campaign.ErrNotReady) || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("nobody to send to: %v", err)
	}
	if c, _ := m.st.Campaign(ctx, m.camp.ID); c.State != store.CampaignDraft || c.Run != 0 {
		t.Fatalf("a refused start changed the campaign: %s, run %d", c.State, c.Run)
	}
}

// A recipient past the sample a start checks, whose letter does not render, is
// skipped with the reason: nobody gets a broken letter, and the others get theirs.
func TestStartSkipsARecipientWhoseLetterDoesNotRender(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 30) // 60 recipients
	for _, addr := range m.want {
		if addr != "r29-2@shop.test" {
			m.setPosition(addr, "директор")
		}
	}
	m.camp.Subject = "{{.Contact.FirstName}}, {{slice .Contact.Position 0 2}}" // the position's first letter
	if err := m.st.SaveCampaign(ctx, "test", m.camp); err != nil {
		t.Fatal(err)
	}
	m.start()
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce("r29-2@shop.test")
	st := m.status()
	if st.Campaign.State != store.CampaignDone || st.Counts.Sent != 59 || st.Counts.Skipped != 1 || st.Counts.Failed != 0 {
		t.Fatalf("status: %s, %+v", st.Campaign.State, st.Counts)
	}
	if len(st.Skips) != 1 || !strings.Contains(st.Skips[0].Reply, "slice") || !strings.Contains(st.Skips[0].Reply, "r29-2@shop.test") {
		t.Fatalf("why it was skipped: %+v", st.Skips)
	}
}
