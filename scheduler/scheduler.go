package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/internal/lease"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
)

// Notifier reaches managers; cmd/crm wires it to the bot. Without one (no bot),
// reminders and digests wait: they are not claimed, so none is lost.
type Notifier interface {
	Remind(ctx context.Context, r Reminder) error
	Digest(ctx context.Context, d notice.Digest) error
	Weekly(ctx context.Context, w notice.Weekly) error
}

// ReadyNotifier is a Notifier that can say it cannot reach anybody now (the bot is
// still connecting to Telegram): reminders and digests then wait as without one,
// rather than fail until they are given up, and go out, late, once it is ready.
type ReadyNotifier interface {
	Notifier
	Ready() bool
}

// canNotify tells whether there is a notifier and it is ready.
func (s *Scheduler) canNotify() bool {
	if s.notify == nil {
		return false
	}
	r, ok := s.notify.(ReadyNotifier)
	return !ok || r.Ready()
}

// Options configure a Scheduler.
type Options struct {
	// Owner names this instance in leases (default: host, process and a random part).
	Owner string
	// Location is the company's time zone: the default for managers and contacts.
	Location *time.Location
	// GreetingHour is the local hour birthday greetings go out (default 10).
	GreetingHour int
	// Greeter sends birthday greetings; nil: none are sent.
	Greeter *Greeter
	// Sender sends the greetings; nil: none is sent.
	Sender campaign.Sender
	// Campaigns is campaign delivery, woken every two seconds; nil: campaigns are
	// not sent.
	Campaigns Campaigns
	// Charts draws the report pictures of the heads' Monday summary; nil: text only.
	Charts Charts
	// Backup takes the night's backup, named by the company's day; nil: none is
	// taken (CRM_BACKUP_DIR unset).
	Backup func(ctx context.Context, day time.Time) error
	// RiskAfter is how long a gold or platinum client may go without a paid order
	// before it is flagged at risk of going red (default 90 days).
	RiskAfter time.Duration
	Logger    *slog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
	// Metrics counts the reminders sent (crm serve's /metrics); nil: nothing.
	Metrics Metrics
}

// Metrics counts what the scheduler does. Its methods may be called at once from
// many goroutines.
type Metrics interface {
	// ReminderSent: a task's reminder went out late after the task's time (0 or a
	// little on time; hours when no instance ran at the time).
	ReminderSent(late time.Duration)
}

type noMetrics struct{}

func (noMetrics) ReminderSent(time.Duration) {}

// Campaigns is campaign delivery as the scheduler drives it; cmd/crm wires a
// *campaign.Runner.
type Campaigns interface {
	// Wake starts what campaigns have to do now and returns; the work ends with ctx.
	Wake(ctx context.Context) error
	// Wait waits for the work Wake started.
	Wait()
}

// Scheduler runs the timed jobs. Each job runs on the instance that holds its lease,
// and each piece of work in it (a reminder, a digest, a greeting) is claimed in the
// store before it is done, so it is done once whatever instances run or restart.
type Scheduler struct {
	st     *store.Store
	notify Notifier
	opts   Options
	log    *slog.Logger

	leases *lease.Holder

	mu    sync.Mutex
	tries map[string]int // failed sends of a reminder, to give up on a broken chat
}

// New builds a Scheduler.
func New(st *store.Store, n Notifier, opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.GreetingHour == 0 {
		opts.GreetingHour = 10
	}
	if opts.RiskAfter <= 0 {
		opts.RiskAfter = 90 * 24 * time.Hour
	}
	if opts.Owner == "" {
		opts.Owner = store.NewOwner()
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	s := &Scheduler{st: st, notify: n, opts: opts, log: opts.Logger, tries: map[string]int{}}
	s.leases = lease.New(st, opts.Owner, s.now, opts.Logger)
	return s
}

func (s *Scheduler) now() time.Time { return s.opts.Now().UTC() }

// Run runs the jobs until ctx ends: reminders every second (a reminder is due to the
// second), campaigns and the history lines they leave to number looked at every two
// seconds, digests every minute, greetings, the nightly client marks and the nightly
// backup every ten minutes, clean-up daily.
func (s *Scheduler) Run(ctx context.Context) error {
	c := cron.New(cron.WithSeconds(), cron.WithLocation(time.UTC),
		cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	jobs := []struct {
		spec, name string
		run        func(context.Context) error
	}{
		{"@every 1s", "reminders", func(ctx context.Context) error { _, err := s.Reminders(ctx); return err }},
		{"@every 1m", "digests", func(ctx context.Context) error { _, err := s.Digests(ctx); return err }},
		{"@every 10m", "greetings", func(ctx context.Context) error { _, err := s.Greetings(ctx); return err }},
		{"@every 10m", "marks", func(ctx context.Context) error { _, err := s.Marks(ctx); return err }},
		{"@every 10m", "backup", func(ctx context.Context) error { _, err := s.Backup(ctx); return err }},
		{"@every 2s", "campaigns", s.wakeCampaigns},
		{"@every 2s", "history", func(ctx context.Context) error { _, err := s.History(ctx); return err }},
		{"@daily", "cleanup", s.cleanup},
	}
	for _, j := range jobs {
		if _, err := c.AddFunc(j.spec, func() {
			if err := j.run(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("scheduled job failed; it runs again", "job", j.name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s: %w", j.name, err)
		}
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	if s.opts.Campaigns != nil {
		s.opts.Campaigns.Wait() // campaign workers finish their transactions and put back the rest
	}
	s.leases.ReleaseAll()
	return nil
}

// hold reports whether this instance holds the job's lease, taking or renewing it
// when half of it has run.
func (s *Scheduler) hold(ctx context.Context, job string) (bool, error) {
	return s.leases.Hold(ctx, job)
}

// wakeCampaigns is the campaigns' job: the work goes on in the Runner's goroutines.
func (s *Scheduler) wakeCampaigns(ctx context.Context) error {
	if s.opts.Campaigns == nil {
		return nil
	}
	return s.opts.Campaigns.Wake(ctx)
}

// claimAge is how long claims are kept: longer than any catch-up after downtime.
const claimAge = 60 * 24 * time.Hour

func (s *Scheduler) cleanup(ctx context.Context) error {
	if ok, err := s.hold(ctx, "cleanup"); !ok {
		return err
	}
	n, err := s.st.PruneClaims(ctx, claimAge)
	if err != nil {
		return err
	}
	// The search directory's change log only has to outlive a restart.
	changes, err := s.st.PruneChangeLog(ctx, 7*24*time.Hour)
	s.log.Debug("clean-up", "claims", n, "changes", changes)
	return err
}

// location reads a time zone name, falling back to the company's.
func (s *Scheduler) location(name string) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return s.opts.Location
}
