package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/invoice"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// newTelegram connects the transport; with an outbox (crm serve), its outgoing
// messages are kept there until sent.
func newTelegram(ctx context.Context, e *env, outbox telegram.Outbox) (*telegram.Transport, error) {
	opts := telegram.Options{
		APIURL:        e.cfg.TelegramAPIURL,
		Logger:        e.log,
		WebhookURL:    e.cfg.TelegramWebhookURL,
		WebhookSecret: e.cfg.TelegramWebhookSecret,
		Outbox:        outbox,
		Takeover:      e.cfg.Takeover,
		MiniAppURL:    miniAppURL(e.cfg),
	}
	if e.metrics != nil {
		opts.Metrics = e.metrics
	}
	return telegram.Dial(ctx, e.cfg.TelegramToken, opts)
}

// telegramUsername asks Telegram for the bot's @username (getMe).
func telegramUsername(ctx context.Context, e *env) (string, error) {
	tr, err := newTelegram(ctx, e, nil)
	if err != nil {
		return "", err
	}
	return tr.Username(), nil
}

// startBot makes the bot's core when a token is set and connects it to Telegram in
// the background (see botLink.run): nothing else waits for Telegram. With a webhook
// the handler is mounted on mux once connected. It returns the core and its link, or
// nils when the bot is off.
func startBot(ctx context.Context, e *env, s *store.Store, mux *http.ServeMux, web bot.WebLinks) (*bot.Bot, *botLink, error) {
	if e.cfg.TelegramToken == "" {
		e.log.Info("Telegram bot is off: set CRM_TELEGRAM_TOKEN to run it")
		return nil, nil, nil
	}
	campaigns, err := chatCampaigns(e, s)
	if err != nil {
		return nil, nil, err
	}
	link := &botLink{log: e.log, mode: "long polling", up: make(chan struct{}), stopped: make(chan struct{})}
	if e.cfg.TelegramWebhookURL != "" {
		link.mode = "webhook"
	}
	// Invite links name the bot as crm manager invite does; Telegram's name for it is
	// known once connected (asking it cannot fail).
	invite := func(code string) string {
		l, _ := inviteLink(e, code, func() (string, error) { return link.username(), nil })
		return l
	}
	core, err := bot.New(s, bot.Options{Texts: templates.FS, Logger: e.log, FileLimit: e.cfg.BotFileLimit, Outbox: link,
		InviteLink: invite, Web: web,
		Campaigns: campaigns, ReplySLA: e.cfg.ReplySLA, Calendar: e.cfg.Calendar, Now: e.cfg.Now, Reports: chatReports{s, e.cfg.Now},
		Invoices: invoice.Maker{Store: s, Location: e.cfg.Calendar.Loc}})
	if err != nil {
		return nil, nil, err
	}
	go link.run(ctx, func(ctx context.Context) (*telegram.Transport, error) { return newTelegram(ctx, e, s) }, core, mux)
	return core, link, nil
}

// How often a bot that cannot connect tries again: from botRetryFirst, doubling, up
// to botRetryMax; a token Telegram refused waits botRetryMax at once.
const (
	botRetryFirst = time.Second
	botRetryMax   = 5 * time.Minute
)

// errBotNotReady is what a message gets while the bot is not connected.
var errBotNotReady = errors.New("the Telegram bot is not connected to Telegram yet")

// botLink is the Telegram bot as the rest of crm serve sees it: the core sends
// through it, the scheduler asks whether it is ready, /readyz how it is.
type botLink struct {
	log  *slog.Logger
	mode string // "long polling" or "webhook"
	tr   atomic.Pointer[telegram.Transport]
	up   chan struct{} // closed at the first connection
	once sync.Once     // closes up and mounts the webhook
	// stopped is closed when the bot stopped after ctx ended: its queued messages
	// sent, or kept in the outbox for the next start.
	stopped chan struct{}

	mu      sync.Mutex
	name    string    // the bot's @username, once known
	problem string    // why it is not connected, in plain words; "" before a try failed
	retryAt time.Time // when it tries again
}

// Send sends through Telegram once connected.
func (b *botLink) Send(ctx context.Context, r bot.Reply) error {
	tr := b.tr.Load()
	if tr == nil {
		return errBotNotReady
	}
	return tr.Send(ctx, r)
}

// Ready tells whether the bot is connected.
func (b *botLink) Ready() bool { return b.tr.Load() != nil }

// waitUp waits for the first connection; false when ctx ended first.
func (b *botLink) waitUp(ctx context.Context) bool {
	select {
	case <-b.up:
		return true
	case <-ctx.Done():
		return false
	}
}

func (b *botLink) username() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.name
}

// status is the bot's line in /readyz.
func (b *botLink) status(context.Context) (bool, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.tr.Load() != nil:
		return true, "ok (@" + b.name + ", " + b.mode + ")"
	case b.problem == "":
		return false, "not ready — connecting to the Bot API"
	}
	if next := time.Until(b.retryAt).Round(time.Second); next > 0 {
		return false, fmt.Sprintf("not ready — %s, retrying (next try in %s)", b.problem, next)
	}
	return false, "not ready — " + b.problem + ", trying again now"
}

// run connects to Telegram and runs the bot until ctx ends, trying again with a
// growing, jittered wait when Telegram cannot be reached or refuses the token.
func (b *botLink) run(ctx context.Context, dial func(context.Context) (*telegram.Transport, error), core *bot.Bot, mux *http.ServeMux) {
	defer close(b.stopped)
	wait := botRetryFirst
	for {
		tr, err := dial(ctx)
		if err == nil {
			b.connected(tr, mux)
			err = tr.Run(ctx, core) // nil when ctx ends; an error if the webhook was refused
			b.tr.Store(nil)
		}
		if ctx.Err() != nil {
			return
		}
		// problem is for /readyz; the log says what to do, with the error.
		problem, level, todo := "cannot reach the Bot API", slog.LevelWarn, "crm runs without the bot and tries again"
		switch {
		case tr != nil:
			problem, level, todo = "Telegram refused the webhook (check CRM_TELEGRAM_WEBHOOK_URL)", slog.LevelError, "tries again"
		case errors.Is(err, telegram.ErrTokenRejected):
			problem, level = "Telegram rejected the bot token (401; check CRM_TELEGRAM_TOKEN)", slog.LevelError
			todo = fmt.Sprintf("set CRM_TELEGRAM_TOKEN to the token from @BotFather and restart crm; until then it tries again every %v", botRetryMax)
			wait = botRetryMax // trying a refused token often will not help
		}
		d := wait - rand.N(wait/5) // jitter, so instances do not try in step
		b.mu.Lock()
		b.problem, b.retryAt = problem, time.Now().Add(d)
		b.mu.Unlock()
		b.log.Log(ctx, level, "Telegram bot: "+problem+": "+todo, "err", err, "retry_in", d.Round(time.Second))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, botRetryMax)
	}
}

// connected makes tr the bot's transport; the first time, it also mounts the webhook
// handler on mux and lets those waiting for the bot go.
func (b *botLink) connected(tr *telegram.Transport, mux *http.ServeMux) {
	b.mu.Lock()
	b.name, b.problem = tr.Username(), ""
	b.mu.Unlock()
	b.tr.Store(tr)
	b.once.Do(func() {
		if p := tr.WebhookPath(); p != "" {
			mux.Handle(p, http.HandlerFunc(b.webhook))
		}
		close(b.up)
	})
	b.log.Info("Telegram bot is running", "bot", "@"+tr.Username(), "mode", b.mode)
}

// webhook passes Telegram's calls to the connected transport; 503 (Telegram calls
// again) while there is none.
func (b *botLink) webhook(w http.ResponseWriter, r *http.Request) {
	tr := b.tr.Load()
	if tr == nil {
		http.Error(w, "the bot is connecting", http.StatusServiceUnavailable)
		return
	}
	tr.WebhookHandler().ServeHTTP(w, r)
}
