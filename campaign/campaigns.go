package campaign

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/store"
)

// Recipient is one contact a campaign goes to.
type Recipient struct {
	Client  *store.Client
	Contact store.Contact
	Email   string
	// Skip says why the contact gets no letter (no consent, unsubscribed, bounced, no
	// e-mail); "" for a recipient.
	Skip string
}

// EachRecipient streams a segment's recipients: the contacts of matching clients who
// consented, did not unsubscribe, and have an address that does not bounce. The
// clients are read one by one, never all at once.
func EachRecipient(ctx context.Context, st Store, seg store.Segment, fn func(Recipient) error) error {
	return eachRecipient(ctx, st.SegmentClients, seg, fn)
}

func eachRecipient(ctx context.Context, read clientReader, seg store.Segment, fn func(Recipient) error) error {
	return eachContact(ctx, read, seg, func(r Recipient) error {
		if r.Skip != "" {
			return nil
		}
		return fn(r)
	})
}

// clientReader streams the clients of a segment.
type clientReader func(ctx context.Context, seg store.Segment, fn func(*store.Client) error) error

// scanned reads a segment from the clients collection. A sample (start's) stops after
// a few clients, and does not wait, as reading the directory does, for it to catch
// up with an import.
func scanned(st Store) clientReader {
	return func(ctx context.Context, seg store.Segment, fn func(*store.Client) error) error {
		return st.EachClient(ctx, func(c *store.Client) error {
			if !seg.Matches(c) {
				return nil
			}
			return fn(c)
		})
	}
}

// eachContact streams every contact of a segment's clients, those who get no letter
// with why (Skip) and their first address.
func eachContact(ctx context.Context, read clientReader, seg store.Segment, fn func(Recipient) error) error {
	return read(ctx, seg, func(c *store.Client) error {
		for _, p := range c.ContactList() {
			email, why := store.MailableEmail(p)
			if why != "" && len(p.Emails) > 0 {
				email = p.Emails[0]
			}
			if err := fn(Recipient{Client: c, Contact: p, Email: email, Skip: why}); err != nil {
				return err
			}
		}
		return nil
	})
}

// readAhead is how many recipients the reading of a segment runs ahead of their
// queueing: the engine reads the next clients while the last ones are rendered.
const readAhead = 512

// eachContactAhead is eachContact with the reading in a goroutine of its own, a
// little ahead of fn: reading a client costs the embedded engine several times what
// rendering its letter does, and a cursor otherwise asks for the next clients only
// once fn is done with the last.
func eachContactAhead(ctx context.Context, st Store, seg store.Segment, fn func(Recipient) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan Recipient, readAhead)
	var readErr error
	go func() {
		defer close(ahead)
		readErr = eachContact(ctx, st.SegmentClients, seg, func(r Recipient) error {
			select {
			case ahead <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for r := range ahead {
		if err := fn(r); err != nil {
			cancel()
			for range ahead {
			}
			return err
		}
	}
	return readErr // written before ahead was closed
}

// Campaigns prepares campaign letters: the template, the managers' signatures and the
// unsubscribe links.
type Campaigns struct {
	st    Store
	loc   *time.Location // the company's: schedules without a zone are read in it
	unsub *Unsubscriber  // nil: no links can be made, so nothing can be sent
	from  string         // the company's address, when a campaign names none
	// senderName signs letters to clients without a manager: the company's name.
	senderName string

	senders sync.Map // a sender as written -> its parsed *mail.Address, shared read-only by every letter
}

// NewCampaigns builds the campaign side; unsub may be nil for previews only.
func NewCampaigns(st Store, unsub *Unsubscriber, from string, loc *time.Location) *Campaigns {
	if loc == nil {
		loc = time.UTC
	}
	return &Campaigns{st: st, unsub: unsub, from: from, loc: loc, senderName: DefaultSenderName(from)}
}

// SetSenderName sets the company's name that signs letters to clients without a
// manager (by default DefaultSenderName of the company's address). Call it before
// the campaigns are used.
func (cs *Campaigns) SetSenderName(name string) {
	if name = strings.TrimSpace(name); name != "" {
		cs.senderName = name
	}
}

// ErrTemplate says a campaign's template cannot be used; the message names the part,
// the line, the field and, when it failed for a recipient, who.
var ErrTemplate = errors.New("the template has a problem")

func (cs *Campaigns) template(c *store.Campaign) (*Template, error) {
	t, err := ParseTemplate(c.Subject, c.Text, c.HTML)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	return t, nil
}

// snapshot is what a batch keeps of a recipient: who, and what the template shows.
func snapshot(r Recipient) store.BatchRecipient {
	return store.BatchRecipient{ClientID: r.Client.ID, ContactID: r.Contact.ID, Email: r.Email, ManagerID: r.Client.ManagerID,
		ContactName: r.Contact.Name, Position: r.Contact.Position, ClientName: r.Client.Name,
		City: r.Client.City, Industry: r.Client.Industry, Custom: r.Client.Custom}
}

// managers caches managers by ID: a campaign has thousands of recipients and a few
// managers. It is safe for concurrent senders.
type managers struct {
	st Store
	mu sync.Mutex
	m  map[string]*store.Manager
}

func newManagers(st Store) *managers {
	return &managers{st: st, m: map[string]*store.Manager{}}
}

func (ms *managers) get(ctx context.Context, id string) (*store.Manager, error) {
	if id == "" {
		return nil, nil
	}
	ms.mu.Lock()
	m, ok := ms.m[id]
	ms.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := ms.st.Manager(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ms.mu.Lock()
	ms.m[id] = m
	ms.mu.Unlock()
	return m, nil
}

// letter renders a campaign for one recipient, with its manager's fields and its own
// unsubscribe link; a sample (a preview, a test letter) gets a link that changes
// nobody, since whoever reads it is not the recipient.
func (cs *Campaigns) letter(ctx context.Context, t *Template, c *store.Campaign, r store.BatchRecipient, ms *managers, sample bool) (Rendered, MailData, error) {
	m, err := ms.get(ctx, r.ManagerID)
	if err != nil {
		return Rendered{}, MailData{}, err
	}
	data := MailData{
		Contact: ContactData{Name: r.ContactName, FirstName: addressName(r.ContactName), Position: r.Position, Email: r.Email},
		Client:  ClientData{Name: r.ClientName, City: r.City, Industry: r.Industry, Custom: r.Custom},
		Manager: managerData(m, cs.senderName),
	}
	if data.Client.Custom == nil {
		data.Client.Custom = map[string]string{}
	}
	switch {
	case cs.unsub == nil:
	case sample:
		data.UnsubscribeURL = cs.unsub.TestLink(c.ID)
	default:
		data.UnsubscribeURL = cs.unsub.Link(c.ID, r.ClientID, r.ContactID)
	}
	out, err := t.Execute(data)
	if err != nil {
		return out, data, fmt.Errorf("%w for %s (%s, client %q): %w", ErrTemplate, r.ContactName, r.Email, r.ClientName, err)
	}
	return out, data, nil
}

// Check renders the campaign for every recipient, as start does before anything is
// sent, and returns how many there are; the first failure is returned (Review).
func (cs *Campaigns) Check(ctx context.Context, c *store.Campaign) (int, error) {
	rv, err := cs.Review(ctx, c)
	return rv.Recipients, err
}

// sampleSize is how many of the segment's first recipients a start renders the
// letter for before it returns: enough to catch a template that fails on the data
// most recipients have, few enough to return at once (reading the segment to its end
// takes seconds at 20,000 clients).
const sampleSize = 20

// errSampled stops the reading of the segment once the sample is rendered.
var errSampled = errors.New("sample rendered")

// check renders the campaign for the segment's first limit recipients (0: all of
// them) and returns how many it rendered; the first failure is returned.
func (cs *Campaigns) check(ctx context.Context, c *store.Campaign, t *Template, limit int) (int, error) {
	n, ms := 0, newManagers(cs.st)
	read := cs.st.SegmentClients
	if limit > 0 {
		read = scanned(cs.st)
	}
	err := eachRecipient(ctx, read, c.Segment, func(r Recipient) error {
		if _, _, err := cs.letter(ctx, t, c, snapshot(r), ms, false); err != nil {
			return err
		}
		if n++; n == limit {
			return errSampled
		}
		return nil
	})
	if errors.Is(err, errSampled) {
		err = nil
	}
	return n, err
}

// queueRun streams the segment into batches of a run, numbered from seq, skipping the
// clients in skip (queued before a crash). Each recipient's letter is rendered and
// kept in the batch, with who it is for; the contacts who get none are kept with why,
// and a recipient whose letter does not render is queued with the problem and fails
// when sent. after runs after each batch is stored, with it. It returns the number of
// batches and how many recipients were queued.
func (cs *Campaigns) queueRun(ctx context.Context, c *store.Campaign, run, seq int, skip map[string]bool, t *Template, after func(*store.Batch, *store.BatchList) error) (int, int, error) {
	list, n, ms := &store.BatchList{}, 0, newManagers(cs.st)
	size := 0 // of the letters in list
	flush := func() error {
		if len(list.Recipients)+len(list.Skipped) == 0 {
			return nil
		}
		b := &store.Batch{CampaignID: c.ID, Run: run, Seq: seq}
		if err := cs.st.QueueBatch(ctx, b, list); err != nil {
			return err
		}
		seq++
		done := list
		list, size = &store.BatchList{}, 0
		return after(b, done)
	}
	var last string
	err := eachContactAhead(ctx, cs.st, c.Segment, func(r Recipient) error {
		if skip[r.Client.ID] {
			return nil
		}
		// A client's contacts stay in one batch: a resumed queueing skips by client.
		// The first batch is small, so that sending begins at once.
		limit := store.BatchSize
		if seq == 0 {
			limit = store.FirstBatchSize
		}
		if r.Client.ID != last && (len(list.Recipients) >= limit || len(list.Skipped) >= store.BatchSize || size >= store.BatchLetterBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		last = r.Client.ID
		b := snapshot(r)
		if r.Skip != "" {
			b.Skip = r.Skip
			list.Skipped = append(list.Skipped, b.Who())
			return nil
		}
		out, data, err := cs.letter(ctx, t, c, b, ms, false)
		switch {
		case err != nil && !errors.Is(err, ErrTemplate):
			return err
		case err != nil:
			b.Problem = err.Error()
		default:
			// What only the template saw is not needed again: a smaller list is read faster.
			b = b.Who()
			b.Letter = &store.BatchLetter{Subject: out.Subject, Text: out.Text, HTML: out.HTML, Unsubscribe: data.UnsubscribeURL}
		}
		n++
		list.Recipients = append(list.Recipients, b)
		if l := b.Letter; l != nil {
			size += len(l.Subject) + len(l.Text) + len(l.HTML) + len(l.Unsubscribe)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return seq, n, err
}

// Preview renders the campaign for one contact of a client (the first recipient when
// contactID is empty), with an unsubscribe link that changes nobody.
func (cs *Campaigns) Preview(ctx context.Context, c *store.Campaign, clientID, contactID string) (Rendered, Recipient, error) {
	out, _, r, err := cs.sample(ctx, c, clientID, contactID)
	return out, r, err
}

// sample renders a preview or a test letter, and returns what the template saw.
func (cs *Campaigns) sample(ctx context.Context, c *store.Campaign, clientID, contactID string) (Rendered, MailData, Recipient, error) {
	t, err := cs.template(c)
	if err != nil {
		return Rendered{}, MailData{}, Recipient{}, err
	}
	cl, err := cs.st.Client(ctx, clientID)
	if err != nil {
		return Rendered{}, MailData{}, Recipient{}, err
	}
	for _, p := range cl.ContactList() {
		if contactID != "" && p.ID != contactID {
			continue
		}
		email, _ := store.MailableEmail(p)
		if email == "" && len(p.Emails) > 0 {
			email = p.Emails[0] // a preview shows the letter even to someone who would not get it
		}
		r := Recipient{Client: cl, Contact: p, Email: email}
		out, data, err := cs.letter(ctx, t, c, snapshot(r), newManagers(cs.st), true)
		return out, data, r, err
	}
	return Rendered{}, MailData{}, Recipient{}, fmt.Errorf("client %q has no such contact: %w", cl.Name, store.ErrNotFound)
}

// Message builds a campaign letter to the address to, named as data's contact, with
// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click) for data's link.
func (cs *Campaigns) Message(c *store.Campaign, r Rendered, data MailData, to string) (*gomail.Msg, error) {
	from, err := cs.sender(c.Sender)
	if err != nil {
		return nil, err
	}
	r.Unsubscribe = data.UnsubscribeURL
	msg, err := NewMessage(from, &mail.Address{Name: data.Contact.Name, Address: to}, r, nil)
	if err != nil {
		return nil, err
	}
	// Out-of-office replies to a mailing would flood the shared mailbox.
	msg.SetBulk()
	return msg, nil
}

// From is the address a campaign's letters come from, as written: its own, else the
// company's.
func (cs *Campaigns) From(c *store.Campaign) string {
	if c.Sender != "" {
		return c.Sender
	}
	return cs.from
}

// sender reads a campaign's From address (the company's when it names none), once
// per address: parsing it for every letter was a few per cent of a campaign's CPU.
func (cs *Campaigns) sender(spec string) (*mail.Address, error) {
	if spec == "" {
		spec = cs.from
	}
	if a, ok := cs.senders.Load(spec); ok {
		return a.(*mail.Address), nil
	}
	a, err := mail.ParseAddress(spec)
	if err != nil {
		return nil, fmt.Errorf("the campaign's sender %q is not an address: %w", spec, err)
	}
	cs.senders.Store(spec, a)
	return a, nil
}

// parseSchedule reads a campaign's schedule: empty or "now" starts at once; a time
// ("2026-12-01 10:00" in the company's zone, or RFC 3339) starts then; anything else
// is a cron expression ("0 10 * * 1", "@weekly") for a campaign that runs again and
// again. It returns the first run's time (nil: now) and whether the campaign recurs.
func parseSchedule(spec string, now time.Time, loc *time.Location) (*time.Time, bool, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || strings.EqualFold(spec, "now") {
		return nil, false, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, spec, loc); err == nil {
			if !t.After(now) {
				return nil, false, fmt.Errorf("the schedule %q is in the past", spec)
			}
			t = t.UTC()
			return &t, false, nil
		}
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, false, fmt.Errorf("the schedule %q is neither \"now\", a time like 2026-12-01 10:00, nor a cron expression like \"0 10 * * 1\": %w", spec, err)
	}
	next := sched.Next(now.In(loc)).UTC()
	return &next, true, nil
}

// nextRun is when a recurring campaign runs next after a run ends; nil when it does
// not recur.
func nextRun(spec string, now time.Time, loc *time.Location) *time.Time {
	next, recurring, err := parseSchedule(spec, now, loc)
	if err != nil || !recurring {
		return nil // a one-time schedule: now in the past
	}
	return next
}

// ErrNotReady says a campaign cannot start: no unsubscribe links can be made, or
// nobody would get it.
var ErrNotReady = errors.New("the campaign cannot start")

// ErrNoLinks says no unsubscribe links can be made: Campaigns was built without an
// Unsubscriber, for want of a public URL and a secret to sign them with.
var ErrNoLinks = errors.New("letters need a signed unsubscribe link, and none can be made without the public URL and the secret")

// Start checks a draft campaign and starts it, or schedules it for its time: every
// letter must be able to carry a signed unsubscribe link, and the template must
// render. Started now, it returns at once, preparing, once the template has rendered
// for the segment's first recipients (a sample; nobody there: refused): runners
// render and queue the rest batch by batch, and send each batch as soon as it is
// queued; a recipient whose letter does not render is skipped with the reason, so
// nobody gets a letter that failed to render. Scheduled, it is rendered for every
// recipient first, and n is how many recipients it has now; started now, n is 0: its
// recipients are counted as they are queued (Status).
func (cs *Campaigns) Start(ctx context.Context, actor, id string) (*store.Campaign, int, error) {
	c, err := cs.st.Campaign(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if c.State != store.CampaignDraft {
		return c, 0, fmt.Errorf("%w: campaign %q is %s; only a draft starts (pause and resume the others)", store.ErrCampaignState, c.Name, c.State)
	}
	if cs.unsub == nil {
		return c, 0, fmt.Errorf("%w: %w", ErrNotReady, ErrNoLinks)
	}
	first, _, err := parseSchedule(c.Schedule, cs.st.Now(), cs.loc)
	if err != nil {
		return c, 0, fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	if first != nil { // the segment is read when the time comes
		n, err := cs.Check(ctx, c)
		if err != nil {
			return c, n, err
		}
		c, err = cs.st.MoveCampaign(ctx, actor, id, "", []store.CampaignState{store.CampaignDraft}, func(c *store.Campaign) {
			c.State, c.RunAt, c.PauseReason, c.ResumeAt = store.CampaignScheduled, first, "", nil
		})
		return c, n, err
	}
	// Started now: a sample is checked here, the rest as it is queued.
	t, err := cs.template(c)
	if err != nil {
		return c, 0, err
	}
	n, err := cs.check(ctx, c, t, sampleSize)
	if err != nil {
		return c, 0, err
	}
	if n == 0 {
		return c, 0, fmt.Errorf("%w: nobody in the segment has consented to mailings and has an address that works", ErrNotReady)
	}
	c, err = cs.st.MoveCampaign(ctx, actor, id, "", []store.CampaignState{store.CampaignDraft}, func(c *store.Campaign) {
		c.State, c.Run, c.RunAt, c.PauseReason, c.ResumeAt = store.CampaignPreparing, c.Run+1, nil, "", nil
		c.Prepared, c.Batches = false, 0 // queued by a runner's preparation
	})
	return c, 0, err
}

// Pause stops a campaign that is preparing, sending or scheduled; messages under way
// finish, the rest wait. One finishing has sent every letter: nothing is left to
// pause.
func (cs *Campaigns) Pause(ctx context.Context, actor, id string) (*store.Campaign, error) {
	return cs.st.MoveCampaign(ctx, actor, id, "", []store.CampaignState{store.CampaignPreparing, store.CampaignSending, store.CampaignScheduled}, func(c *store.Campaign) {
		c.State, c.PauseReason, c.ResumeAt = store.CampaignPaused, "paused by "+actor, nil
	})
}

// Resume goes on with a paused campaign where it stopped: its run, or its wait for the
// next run.
func (cs *Campaigns) Resume(ctx context.Context, actor, id string) (*store.Campaign, error) {
	return cs.st.MoveCampaign(ctx, actor, id, "", []store.CampaignState{store.CampaignPaused}, func(c *store.Campaign) {
		c.State, c.PauseReason, c.ResumeAt = resumed(c), "", nil
	})
}

// resumed is the state a paused campaign goes back to: waiting for its next run, or
// its run preparing (nothing queued yet) or sending; a runner moves a run whose
// letters are all out on to finishing.
func resumed(c *store.Campaign) store.CampaignState {
	switch {
	case c.RunAt != nil:
		return store.CampaignScheduled
	case c.Batches == 0 && !c.Prepared:
		return store.CampaignPreparing
	}
	return store.CampaignSending
}

// Status is where a campaign is: its state and its current run's messages by state.
// Counts.Sending, once the run is over, are messages whose SMTP transaction was cut:
// they may or may not have arrived, and are not sent again.
type Status struct {
	Campaign *store.Campaign
	Counts   store.DeliveryCounts
	Batches  int // queued so far
	// Excluded are the contacts of the segment who got no letter from the start (no
	// consent, unsubscribed, bounced, no e-mail); Counts.Skipped are those who opted
	// out after it.
	Excluded int
	// Replies are what the failed letters got, the most frequent first (a few).
	Replies []store.ReplyCount
	// Skips say why letters were skipped when queued (their letter did not render),
	// the most frequent first (a few); Counts.Skipped also counts those who opted
	// out since the start.
	Skips []store.ReplyCount
	// Lines of "mailing sent" are written in the clients' histories, one for each
	// letter sent (Counts.Sent): a campaign finishing is writing the rest.
	Lines int
}

// RunOver says whether the current run has ended (the campaign is done or waits for
// its next run): from then on, messages still "sending" were cut, not under way.
func (st Status) RunOver() bool {
	return st.Campaign.State == store.CampaignDone || st.Campaign.RunAt != nil
}

// Status reads a campaign's state and counts.
func (cs *Campaigns) Status(ctx context.Context, id string) (Status, error) {
	c, err := cs.st.Campaign(ctx, id)
	if err != nil {
		return Status{}, err
	}
	st := Status{Campaign: c}
	if c.Run == 0 {
		return st, nil
	}
	heads, err := cs.st.Batches(ctx, id, c.Run, c.Batches)
	if err != nil {
		return st, err
	}
	st.Batches = len(heads)
	for _, h := range heads {
		st.Counts.Plus(h.Counts)
		st.Excluded += h.Excluded
		st.Lines += h.LinesWritten()
	}
	st.Replies = store.FailureReplies(heads, 3)
	st.Skips = store.SkipReasons(heads, 3)
	return st, nil
}

// Test renders the campaign for a contact (the client's first recipient when contactID
// is empty) and sends it to the given address, with "[test]" before the subject. Its
// unsubscribe links, in the text and in List-Unsubscribe, change nobody: the contact
// it was rendered for is not who reads it.
func (cs *Campaigns) Test(ctx context.Context, sender Sender, c *store.Campaign, clientID, contactID, to string) error {
	out, data, _, err := cs.sample(ctx, c, clientID, contactID)
	if err != nil {
		return err
	}
	out.Subject = "[test] " + out.Subject
	data.Contact.Name = "" // the letter is not to the contact but to whoever tests it
	msg, err := cs.Message(c, out, data, to)
	if err != nil {
		return err
	}
	if err := sender.Send(ctx, msg); err != nil {
		return fmt.Errorf("send the test letter to %s: %w", to, err)
	}
	return nil
}

// ReadSchedule reads a schedule as Start will: the first run's time (nil: at once) and
// whether the campaign recurs. The CLI refuses a schedule Start would refuse before it
// saves a draft, instead of after.
func (cs *Campaigns) ReadSchedule(spec string) (*time.Time, bool, error) {
	return parseSchedule(spec, cs.st.Now(), cs.loc)
}
