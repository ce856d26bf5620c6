package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// schedulerNotices passes the scheduler's messages to the bot; while the bot is not
// connected, the scheduler keeps them waiting (scheduler.ReadyNotifier).
type schedulerNotices struct {
	core *bot.Bot
	link *botLink
}

func (n schedulerNotices) Ready() bool { return n.link.Ready() }

func (n schedulerNotices) Remind(ctx context.Context, r scheduler.Reminder) error {
	return n.core.NotifyReminder(ctx, r.Task, r.Late)
}

func (n schedulerNotices) Digest(ctx context.Context, d notice.Digest) error {
	return n.core.SendDigest(ctx, d)
}

func (n schedulerNotices) Weekly(ctx context.Context, w notice.Weekly) error {
	return n.core.SendWeekly(ctx, w)
}

func (n schedulerNotices) AtRisk(ctx context.Context, a notice.AtRisk) error {
	return n.core.NotifyAtRisk(ctx, a)
}

// startScheduler runs the timed jobs: reminders and digests through the bot (when it
// runs), greetings and campaigns through the SMTP server (when one is set). It returns
// the SMTP pool to close at shutdown (nil without one) and a channel closed when the
// scheduler has stopped: campaign workers finish the messages under way and put the
// rest back first.
func startScheduler(ctx context.Context, e *env, s *store.Store, core *bot.Bot, link *botLink) (*mail.SMTP, <-chan struct{}, error) {
	opts := scheduler.Options{Location: e.cfg.Calendar.Loc, GreetingHour: e.cfg.GreetingHour,
		RiskAfter: e.cfg.RiskAfter, Now: e.cfg.Now, Logger: e.log.With("part", "scheduler"), Metrics: e.metrics}
	var pool *mail.SMTP
	if e.cfg.SMTP != nil {
		var err error
		if pool, err = mail.NewSMTP(*e.cfg.SMTP); err != nil {
			return nil, nil, err
		}
		opts.Sender = campaign.Counted(pool, "greeting", e.metrics)
		links, err := newUnsubscriber(e, s)
		if err != nil {
			return nil, nil, err
		}
		greet := scheduler.GreeterOptions{From: e.cfg.MailFrom, SenderName: e.cfg.SenderName, Links: links}
		if opts.Greeter, err = scheduler.NewGreeter(s, templates.FS, greet); err != nil {
			return nil, nil, err
		}
		cs, err := newCampaigns(e, s)
		if err != nil {
			return nil, nil, err
		}
		e.metrics.watchCampaigns(s, cs)
		counted := campaign.Counted(pool, "campaign", e.metrics)
		opts.Campaigns = campaign.NewRunner(cs, counted, campaign.RunnerOptions{Takeover: e.cfg.Takeover, Now: e.cfg.Now,
			Logger: e.log.With("part", "campaigns")})
	} else {
		e.log.Info("sending mail is off: set CRM_SMTP_HOST and CRM_SMTP_FROM for birthday greetings and mailings")
	}
	if dir := e.cfg.BackupDir; dir != "" {
		opts.Backup = func(ctx context.Context, day time.Time) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			rep, err := writeBackup(ctx, e.cfg, e.log, filepath.Join(dir, nightlyName(day)))
			if err != nil {
				return fmt.Errorf("nightly backup: %w", err)
			}
			e.log.Info("nightly backup written", "dir", dir, "documents", rep.Documents)
			return pruneBackups(dir, e.cfg.BackupKeep)
		}
	}
	var n scheduler.Notifier
	if core != nil {
		n = schedulerNotices{core, link}
		opts.Charts = weeklyCharts{chatReports{s, e.cfg.Now}}
	}
	sch := scheduler.New(s, n, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sch.Run(ctx); err != nil {
			e.log.Error("scheduler stopped", "err", err)
		}
	}()
	return pool, done, nil
}

// weeklyCharts draws the funnel and the managers' work of a head's week for their
// Monday summary, as /report draws them.
type weeklyCharts struct{ reports chatReports }

func (c weeklyCharts) WeeklyCharts(ctx context.Context, head store.Manager, from, to time.Time) ([]notice.Picture, error) {
	var out []notice.Picture
	for _, name := range []string{reports.FunnelReport, reports.ManagersReport} {
		v, err := c.reports.Report(ctx, bot.ReportAsk{Name: name, From: from, To: to, Lang: head.Language})
		if err != nil {
			return nil, err
		}
		if v.PNG == nil {
			continue
		}
		out = append(out, notice.Picture{Name: name + ".png", Caption: strings.Join(append([]string{v.Title}, v.Summary...), "\n"), PNG: v.PNG})
	}
	return out, nil
}
