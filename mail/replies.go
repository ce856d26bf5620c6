package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/crm-team/crm/store"
)

// ReplyAlert says a client's letter has waited too long for an answer.
type ReplyAlert struct {
	To string // the manager to tell
	// Escalated: To is the head of the client's manager, who did not answer either.
	Escalated   bool
	ManagerName string // the client's manager, for a head's alert
	ClientID    string
	ClientName  string
	LetterID    string
	From        string
	Subject     string
	ReceivedAt  time.Time
}

// ReplyAlerter reaches managers; cmd/crm wires it to the bot.
type ReplyAlerter interface {
	ReplyOverdue(ctx context.Context, a ReplyAlert) error
}

// replyKeep is how long reply clocks are kept: longer than any escalation takes.
const replyKeep = 14 * 24 * time.Hour

// replyRescan is how often a ReplyWatch reads the clocks anew while it waits for the
// next alert: clocks started elsewhere (another instance, a letter attached from
// /inbox) or stopped meanwhile are seen that often.
const replyRescan = time.Minute

// ReplyWatchOptions tune a ReplyWatch.
type ReplyWatchOptions struct {
	Logger *slog.Logger
	// Now is the clock; After waits (time.After by default). Tests drive both.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// ReplyWatch alerts the manager when a client's letter is not answered in time, and
// the manager's head when it is still not answered a limit later (the clocks are
// started by the Ingester, and stopped by the company's answer or a "handled" tap).
// It sleeps until the next alert falls due, reading the clocks again at least every
// replyRescan and whenever Wake says new clocks were started.
type ReplyWatch struct {
	st      *store.Store
	alerter ReplyAlerter
	log     *slog.Logger
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
	wake    chan struct{}
}

// NewReplyWatch builds a ReplyWatch.
func NewReplyWatch(st *store.Store, alerter ReplyAlerter, opts ReplyWatchOptions) *ReplyWatch {
	w := &ReplyWatch{st: st, alerter: alerter, log: opts.Logger, now: opts.Now, after: opts.After, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.after == nil {
		w.after = time.After
	}
	return w
}

// Wake makes a running watch read the clocks now (new ones may fall due before its
// timer); it never blocks.
func (w *ReplyWatch) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends each alert at its due time until ctx ends.
func (w *ReplyWatch) Run(ctx context.Context) {
	for {
		wait := replyRescan
		if _, next, err := w.check(ctx); err != nil {
			if ctx.Err() == nil {
				w.log.Warn("reply-time check", "err", err)
			}
		} else if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.now()), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-w.after(wait):
		case <-w.wake:
		}
	}
}

// Check sends the alerts that are due and returns how many. Each alert level of a
// letter is claimed in the store first, so several instances send it once.
func (w *ReplyWatch) Check(ctx context.Context) (int, error) {
	sent, _, err := w.check(ctx)
	return sent, err
}

// check is Check, also saying when the next alert falls due (zero: none waits).
func (w *ReplyWatch) check(ctx context.Context) (sent int, next time.Time, err error) {
	due, next, err := w.st.OverdueReplies(ctx, w.now(), replyKeep)
	if err != nil {
		return 0, time.Time{}, err
	}
	for _, r := range due {
		level := r.Level + 1
		won, err := w.st.ClaimReplyAlert(ctx, r.LetterID, level)
		if err != nil || !won {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return sent, next, err
			}
			continue
		}
		for _, clientID := range r.Clients {
			c, err := w.st.Client(ctx, clientID)
			if err != nil {
				continue // deleted meanwhile
			}
			a := ReplyAlert{ClientID: c.ID, ClientName: c.Name, LetterID: r.LetterID, From: r.From, Subject: r.Subject,
				ReceivedAt: r.ReceivedAt}
			for _, to := range w.recipients(ctx, c, level, &a) {
				a.To = to
				if err := w.alerter.ReplyOverdue(ctx, a); err != nil {
					w.log.Warn("reply-time alert", "manager", to, "err", err)
					continue
				}
				sent++
			}
		}
	}
	return sent, next, nil
}

// recipients are the client's manager at the first level; then that manager's head,
// or every active head when none is named (also for a client with no manager).
func (w *ReplyWatch) recipients(ctx context.Context, c *store.Client, level int, a *ReplyAlert) []string {
	a.Escalated = true
	var head string
	if c.ManagerID != "" {
		m, err := w.st.Manager(ctx, c.ManagerID)
		if err == nil {
			a.ManagerName, head = m.Name, m.HeadID
			if level == 1 && m.Active {
				a.Escalated = false
				return []string{m.ID}
			}
		}
	}
	if head != "" {
		if h, err := w.st.Manager(ctx, head); err == nil && h.Active {
			return []string{h.ID}
		}
	}
	team, err := w.st.Managers(ctx)
	if err != nil {
		w.log.Warn("reply-time alert: read the team", "err", err)
		return nil
	}
	var heads []string
	for _, m := range team {
		if m.Active && m.Role == store.RoleHead {
			heads = append(heads, m.ID)
		}
	}
	return heads
}
