package campaign

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/crm-team/crm/internal/lease"
	"github.com/crm-team/crm/store"
)

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Owner names this instance in batch holds and leases (default: host, process
	// and a random part).
	Owner string
	// ServerRetry is how long a campaign waits after its SMTP server could not be
	// reached (default 30 s).
	ServerRetry time.Duration
	// Takeover is how long a campaign batch stays with an instance that stopped
	// writing to it (it crashed, or lost the database) before another instance takes
	// it over (default 30 s).
	Takeover time.Duration
	// StateEvery is how often a worker reads a running campaign again to see a
	// pause or a stop (default 500 ms): reading it for every letter would cost a
	// database read each.
	StateEvery time.Duration
	Logger     *slog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
}

// Runner sends the campaigns that run: each instance's Runner, woken by the
// scheduler every two seconds, works on every campaign whose run is under way
// (preparing, sending, finishing), queueing its recipients, sending the batches it
// takes as soon as they are queued, and writing their "mailing sent" lines, so that
// instances share a campaign batch by batch.
type Runner struct {
	st     Store
	cs     *Campaigns // renders the letters
	sender Sender
	opts   RunnerOptions
	log    *slog.Logger
	leases *lease.Holder // the preparations'

	mu      sync.Mutex
	working map[string]bool  // campaigns and preparations this instance works on
	links   map[string]*link // by preparation key: the runs they work on
	wg      sync.WaitGroup   // their goroutines
}

// link joins a run's preparation and its sending on this instance: each batch the
// preparation queues is handed to the worker as it is, not read back, and each
// batch queued, sent or given its lines wakes the worker to look again.
type link struct {
	fresh chan queued   // the last batch queued and not yet taken (one at most)
	wake  chan struct{} // something changed
}

// queued is a batch just queued: its head and its list.
type queued struct {
	head *store.Batch
	list *store.BatchList
}

// link is the run's link, made on first use.
func (rn *Runner) link(c *store.Campaign) *link {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	key := prepareKey(c)
	l := rn.links[key]
	if l == nil {
		l = &link{fresh: make(chan queued, 1), wake: make(chan struct{}, 1)}
		rn.links[key] = l
	}
	return l
}

// dropLink forgets a run that is over.
func (rn *Runner) dropLink(c *store.Campaign) {
	rn.mu.Lock()
	delete(rn.links, prepareKey(c))
	rn.mu.Unlock()
}

// poke wakes the worker.
func (l *link) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// hand offers a batch just queued to the worker. One it has not taken yet stays
// offered; the newer one is then found in the database.
func (l *link) hand(q queued) {
	select {
	case l.fresh <- q:
	default:
	}
	l.poke()
}

// wait waits until the worker is woken, ctx ends, or d has passed.
func (l *link) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.wake:
	case <-ctx.Done():
	case <-t.C:
	}
}

// NewRunner builds the runner of the campaigns cs prepares, sending through sender.
func NewRunner(cs *Campaigns, sender Sender, opts RunnerOptions) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ServerRetry <= 0 {
		opts.ServerRetry = 30 * time.Second
	}
	if opts.StateEvery <= 0 {
		opts.StateEvery = 500 * time.Millisecond
	}
	if opts.Takeover <= 0 {
		opts.Takeover = 30 * time.Second
	}
	if opts.Owner == "" {
		opts.Owner = store.NewOwner()
	}
	rn := &Runner{st: cs.st, cs: cs, sender: sender, opts: opts, log: opts.Logger, working: map[string]bool{}, links: map[string]*link{}}
	rn.leases = lease.New(cs.st, opts.Owner, rn.now, opts.Logger)
	return rn
}

func (rn *Runner) now() time.Time { return rn.opts.Now().UTC() }

// conns is how many messages go out at once: the sender's pool size when it has one.
func (rn *Runner) conns() int {
	if p, ok := rn.sender.(interface{ Conns() int }); ok && p.Conns() > 0 {
		return p.Conns()
	}
	return 4
}

// Wake starts due runs, resumes campaigns whose server came back, and puts this
// instance to work on every campaign whose run is under way. It returns at once:
// preparation and sending go on in goroutines that end with ctx (Wait waits for
// them).
func (rn *Runner) Wake(ctx context.Context) error {
	cs, err := rn.st.Campaigns(ctx, append(store.ActiveCampaignStates(), store.CampaignScheduled, store.CampaignPaused)...)
	if err != nil {
		return err
	}
	now := rn.now()
	for _, c := range cs {
		switch {
		case c.State == store.CampaignScheduled && c.RunAt != nil && !c.RunAt.After(now):
			_, err := rn.st.MoveCampaign(ctx, "scheduler", c.ID, "run/"+c.ID+"/"+strconv.Itoa(c.Run+1),
				[]store.CampaignState{store.CampaignScheduled}, func(c *store.Campaign) {
					c.State, c.Run, c.RunAt = store.CampaignPreparing, c.Run+1, nil
					c.Prepared, c.Batches = false, 0 // queued now, by prepare
				})
			if err != nil && !errors.Is(err, store.ErrCampaignState) {
				return err
			}
			rn.work(ctx, c.ID)
		case c.State == store.CampaignPaused && c.PauseReason == PauseServerDown && c.ResumeAt != nil && !c.ResumeAt.After(now):
			_, err := rn.st.MoveCampaign(ctx, "scheduler", c.ID, "resume/"+c.ID+"/"+strconv.FormatInt(c.ResumeAt.UnixNano(), 36),
				[]store.CampaignState{store.CampaignPaused}, func(c *store.Campaign) {
					c.State, c.PauseReason, c.ResumeAt = resumed(c), "", nil
				})
			if err != nil && !errors.Is(err, store.ErrCampaignState) {
				return err
			}
			rn.work(ctx, c.ID)
		case c.State.Active():
			rn.work(ctx, c.ID)
		}
	}
	return nil
}

// Pass does what campaigns have to do now and waits until it is done: due runs
// start, and every message that can go now goes.
func (rn *Runner) Pass(ctx context.Context) error {
	err := rn.Wake(ctx)
	rn.wg.Wait()
	return err
}

// Wait waits for the work Wake started, which ends with Wake's ctx: messages under
// way finish and the rest go back to the queue.
func (rn *Runner) Wait() { rn.wg.Wait() }

func (rn *Runner) isWorking(key string) bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.working[key]
}

// work starts this instance's worker on a campaign unless one runs.
func (rn *Runner) work(ctx context.Context, id string) {
	rn.spawn(id, func() {
		if err := rn.runCampaign(ctx, id); err != nil && ctx.Err() == nil {
			rn.log.Warn("campaign worker stopped; it starts again", "campaign", id, "err", err)
		}
	})
}

// spawn runs fn in a goroutine under key unless one with that key runs already.
func (rn *Runner) spawn(key string, fn func()) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.working[key] {
		return
	}
	rn.working[key] = true
	rn.wg.Go(func() {
		defer func() {
			rn.mu.Lock()
			delete(rn.working, key)
			rn.mu.Unlock()
		}()
		fn()
	})
}
