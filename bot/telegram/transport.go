// Package telegram is the bot's Telegram transport: it receives updates by long polling
// or a webhook, turns them into bot.Update for the conversation core, and sends the
// core's bot.Reply values back within Telegram's rate limits.
//
// Wiring: tr, err := New(token, Options{...}); go tr.Run(ctx, core). With a WebhookURL,
// also mount tr.WebhookHandler() at tr.WebhookPath() on the HTTP listener. Other parts
// (reminders) call tr.Send. Tests point Options.APIURL at a tgtest.Server and switch the
// limits off with rate.Inf.
package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// Handler is the conversation core as the transport sees it.
type Handler interface {
	// Handle answers one update. Updates of one chat arrive one at a time, in order.
	Handle(ctx context.Context, u bot.Update) []bot.Reply
	// Commands is the command menu in a language ("ru", "en").
	Commands(lang string) []bot.Command
}

// Defaults of Options.
const (
	DefaultAPIURL                 = "https://api.telegram.org"
	DefaultPollTimeout            = 60 * time.Second
	DefaultGlobalRate  rate.Limit = 30
	DefaultPerChatRate rate.Limit = 1
	DefaultMaxFileSize int64      = 20 << 20
	// DefaultDrainTimeout leaves a stop of crm serve (15 s) time to close the rest.
	DefaultDrainTimeout = 10 * time.Second
)

// Options configure a Transport. Zero values take the defaults.
type Options struct {
	APIURL      string       // Bot API base URL, DefaultAPIURL; tests point it at tgtest
	HTTPClient  *http.Client // nil: a client with a connection pool sized for the send rate
	Logger      *slog.Logger // nil: slog.Default()
	PollTimeout time.Duration
	// GlobalRate and PerChatRate limit outgoing messages (sends, edits, documents);
	// rate.Inf switches a limit off.
	GlobalRate  rate.Limit
	PerChatRate rate.Limit
	// WebhookURL switches Run from long polling to a webhook; WebhookSecret is then
	// required (1-256 characters of A-Z, a-z, 0-9, _ and -).
	WebhookURL    string
	WebhookSecret string
	MaxFileSize   int64    // larger incoming files are refused by Fetch
	Languages     []string // command menus to set; the first is also the default menu
	// Workers is how many updates (of different chats) are handled at once when
	// polling (DefaultWorkers); a chat's own are handled one after another.
	Workers int
	// DrainTimeout bounds how long Run, once its context ends, goes on sending the
	// messages already queued (DefaultDrainTimeout); a message whose chat's turn
	// comes later is not waited for. Negative: none is sent.
	DrainTimeout time.Duration
	// Outbox keeps every outgoing message (not callback answers) from before it is
	// queued until it was sent, so the next start sends what a stop or a crash
	// left. nil: messages are kept in memory only.
	Outbox Outbox
	// Takeover is how long an outbox lane stays with an instance that stopped
	// renewing it (crashed) before another one, or the restarted one, sends what
	// is left in it (DefaultTakeover).
	Takeover time.Duration
	// OutboxMaxAge: a message left in the outbox longer is dropped, with a log
	// line, rather than sent stale (DefaultOutboxMaxAge).
	OutboxMaxAge time.Duration
	// Owner names this instance in the outbox's lanes (default store.NewOwner()).
	Owner string
	// MiniAppURL, an https address, is set as the bot's menu button, which opens it
	// as a Telegram Mini App (the web workspace); "" leaves the button as it is.
	MiniAppURL string
	// Metrics counts what the transport does (crm serve's /metrics); nil: nothing.
	Metrics Metrics
}

// Metrics counts what the transport does. Its methods may be called at once from
// many goroutines.
type Metrics interface {
	UpdateHandled(took time.Duration) // an update handled, its replies queued
	Sent()                            // a Bot API call sent, edited or answered
	RateLimited()                     // Telegram answered 429: sends pause
	Retried()                         // a send is tried again (after a 429, a network or server error)
	GaveUp()                          // a message given up after a permanent error
}

type noMetrics struct{}

func (noMetrics) UpdateHandled(time.Duration) {}
func (noMetrics) Sent()                       {}
func (noMetrics) RateLimited()                {}
func (noMetrics) Retried()                    {}
func (noMetrics) GaveUp()                     {}

// Errors callers may test for.
var (
	ErrClosed       = errors.New("telegram: the transport has stopped")
	ErrFileTooLarge = errors.New("telegram: the file is too large")
	// ErrTokenRejected: the Bot API answered that the token is wrong (401 or 404),
	// unlike an API that cannot be reached; trying again soon will not help.
	ErrTokenRejected = errors.New("telegram: the bot token was rejected")
)

const (
	requestTimeout = 30 * time.Second
	uploadTimeout  = 5 * time.Minute
	maxBackoff     = 30 * time.Second
	maxInflight    = 64
	maxWebhookBody = 1 << 20
)

var allowedUpdates = []string{"message", "callback_query"}

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Transport talks to the Telegram Bot API. Run it once; Send may be used before and
// while it runs.
type Transport struct {
	token    string
	apiURL   string
	endpoint string
	hc       *http.Client
	log      *slog.Logger
	opts     Options
	username string
	hookPath string

	global   *rate.Limiter
	inflight chan struct{}

	started atomic.Bool
	active  atomic.Pointer[runState]

	// closeCtx is cancelled when the drain is over (or without one, when Run's
	// context ends): what is still queued is dropped then.
	closeCtx context.Context
	closeFn  context.CancelFunc
	// drainCh is closed when Run's context ended and the drain began; drainBy is
	// when it ends.
	drainCh chan struct{}
	drainBy time.Time

	qmu       sync.Mutex
	closed    bool
	chats     map[int64]*chatQueue
	lastSweep time.Time
	workers   sync.WaitGroup
	busy      int           // chats whose worker runs
	idle      chan struct{} // during the drain: closed when busy drops to 0
	nLeft     atomic.Int64  // messages a stop dropped
	nKeptLeft atomic.Int64  // messages a stop left in the outbox

	pmu         sync.Mutex
	pausedUntil time.Time

	locks chatLocks

	keeper  *keeper     // nil without an Outbox
	crashed atomic.Bool // tests: stop as a crash would

	nUpdates, nSent, nRetries429, nFailed atomic.Int64
}

// Stats counts what the transport did, for tests and benchmarks.
type Stats struct {
	Updates    int64 // updates handed to the handler
	Sent       int64 // API calls that sent, edited or answered successfully
	Retries429 int64 // requests repeated after a 429
	Failed     int64 // replies given up after a permanent error
}

// New checks the token with getMe and returns a transport that is not yet running.
func New(token string, opts Options) (*Transport, error) {
	return Dial(context.Background(), token, opts)
}

// Dial is New that gives up when ctx ends. An error wraps ErrTokenRejected when
// Telegram refused the token; any other means the Bot API could not be reached (or
// the options are wrong).
func Dial(ctx context.Context, token string, opts Options) (*Transport, error) {
	if token == "" {
		return nil, errors.New("telegram: the bot token is empty; get one from @BotFather")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	opts.APIURL = strings.TrimRight(opts.APIURL, "/")
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = DefaultPollTimeout
	}
	if opts.GlobalRate <= 0 {
		opts.GlobalRate = DefaultGlobalRate
	}
	if opts.PerChatRate <= 0 {
		opts.PerChatRate = DefaultPerChatRate
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if len(opts.Languages) == 0 {
		opts.Languages = []string{"ru", "en"}
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if opts.Takeover <= 0 {
		opts.Takeover = DefaultTakeover
	}
	if opts.OutboxMaxAge <= 0 {
		opts.OutboxMaxAge = DefaultOutboxMaxAge
	}
	if opts.Owner == "" {
		opts.Owner = store.NewOwner()
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	hc := opts.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = maxInflight
		hc = &http.Client{Transport: tr}
	}
	t := &Transport{
		token:    token,
		apiURL:   opts.APIURL,
		endpoint: opts.APIURL + "/bot%s/%s",
		hc:       hc,
		log:      opts.Logger,
		opts:     opts,
		global:   rate.NewLimiter(opts.GlobalRate, burst(opts.GlobalRate)),
		inflight: make(chan struct{}, maxInflight),
		chats:    make(map[int64]*chatQueue),
		drainCh:  make(chan struct{}),
	}
	t.closeCtx, t.closeFn = context.WithCancel(context.Background())
	if opts.Outbox != nil {
		t.keeper = &keeper{t: t, ob: opts.Outbox, owner: opts.Owner, ttl: opts.Takeover, maxAge: opts.OutboxMaxAge}
	}
	if opts.WebhookURL != "" {
		u, err := url.Parse(opts.WebhookURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("telegram: webhook URL %q is not an absolute http(s) URL", opts.WebhookURL)
		}
		if !secretRE.MatchString(opts.WebhookSecret) {
			return nil, errors.New("telegram: a webhook needs a secret of 1-256 characters A-Z, a-z, 0-9, _ or -")
		}
		t.hookPath = u.Path
		if t.hookPath == "" {
			t.hookPath = "/"
		}
	}

	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	me, err := t.api(ctx).GetMe()
	if err != nil {
		var te *tgbotapi.Error
		if errors.As(err, &te) && (te.Code == http.StatusUnauthorized || te.Code == http.StatusNotFound) {
			return nil, fmt.Errorf("%w (%s); check it with @BotFather: %w", ErrTokenRejected, te.Message, err)
		}
		return nil, fmt.Errorf("telegram: cannot reach the Bot API at %s: %w", opts.APIURL, err)
	}
	t.username = me.UserName
	return t, nil
}

// burst lets a limiter of r per second send r at once (at least one).
func burst(r rate.Limit) int {
	if r == rate.Inf || r < 1 {
		return 1
	}
	return int(r)
}

// Username is the bot's @username without the @, for links like https://t.me/<bot>?start=<code>.
func (t *Transport) Username() string { return t.username }

// WebhookPath is the path of WebhookURL, where cmd mounts WebhookHandler; "" without a webhook.
func (t *Transport) WebhookPath() string { return t.hookPath }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{
		Updates:    t.nUpdates.Load(),
		Sent:       t.nSent.Load(),
		Retries429: t.nRetries429.Load(),
		Failed:     t.nFailed.Load(),
	}
}

// api returns a client whose requests end with ctx: tgbotapi builds requests without a
// context, so the context travels in the HTTP client.
func (t *Transport) api(ctx context.Context) *tgbotapi.BotAPI {
	b := &tgbotapi.BotAPI{Token: t.token, Client: ctxClient{ctx: ctx, hc: t.hc, token: t.token}, Buffer: 100}
	b.SetAPIEndpoint(t.endpoint)
	return b
}

type ctxClient struct {
	ctx   context.Context
	hc    *http.Client
	token string
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req.WithContext(c.ctx))
	if err != nil {
		return nil, redact(err, c.token)
	}
	return resp, nil
}

// redact keeps the token (part of every request URL) out of errors and so out of logs.
func redact(err error, token string) error {
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, token) {
		c := *ue
		c.URL = strings.ReplaceAll(ue.URL, token, "<token>")
		return &c
	}
	return err
}

type runState struct {
	ctx     context.Context
	h       Handler
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func (rs *runState) enter() bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.stopped {
		return false
	}
	rs.wg.Add(1)
	return true
}

func (rs *runState) stop() {
	rs.mu.Lock()
	rs.stopped = true
	rs.mu.Unlock()
	rs.wg.Wait()
}

// Run sets the command menus, then receives updates until ctx is cancelled: by long
// polling, or, with a WebhookURL, by registering the webhook and serving
// WebhookHandler. Replies are queued, not awaited: the per-chat queue keeps their order.
// An update is confirmed to Telegram only after its handler returned, so a crash
// redelivers it. When ctx ends, the updates being handled are finished, the queued
// messages are sent for up to Options.DrainTimeout, and Run returns nil; with an
// Outbox, what is left is sent by the next start. Run may be called once.
func (t *Transport) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("telegram: Run needs a handler")
	}
	if !t.started.CompareAndSwap(false, true) {
		return errors.New("telegram: Run was already called on this transport")
	}
	defer t.shutdown()
	rs := &runState{ctx: ctx, h: h}
	t.active.Store(rs)
	defer func() {
		rs.stop()
		t.active.Store(nil)
	}()
	if t.keeper != nil {
		t.keeper.start(ctx) // queues what a stop or a crash left
	}

	t.setCommands(ctx, h)
	t.setMenuButton(ctx)
	if t.opts.WebhookURL != "" {
		if err := t.setWebhook(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		t.log.Info("telegram: webhook set", "path", t.hookPath, "bot", t.username)
		<-ctx.Done()
		return nil
	}
	if err := t.setup(ctx, "deleteWebhook", func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.DeleteWebhookConfig{})
		return err
	}); err != nil && ctx.Err() == nil {
		t.log.Warn("telegram: deleteWebhook failed; polling anyway", "err", err)
	}
	t.log.Info("telegram: long polling", "bot", t.username)
	t.poll(ctx, h)
	return nil
}

// shutdown sends what is queued within the drain's bound, then refuses new messages,
// drops what is left and waits for the senders.
func (t *Transport) shutdown() {
	crashed := t.crashed.Load()
	if !crashed {
		t.drain()
	}
	t.qmu.Lock()
	t.closed = true
	t.qmu.Unlock()
	t.closeFn()
	t.workers.Wait()
	if t.keeper != nil {
		t.keeper.stop(crashed)
	}
	if n := t.nKeptLeft.Load(); n > 0 {
		t.log.Info("telegram: messages not sent before the stop stay in the outbox for the next start", "count", n)
	}
	if n := t.nLeft.Load(); n > 0 {
		t.log.Warn("telegram: messages not sent before the stop were dropped", "count", n)
	}
}

// drain waits until every chat's queue is empty, or Options.DrainTimeout passed.
// Messages may still be queued meanwhile (a reminder going out); a message whose
// turn (the chat's pace, a 429 pause, a retry) comes after the drain's end stops
// waiting at once.
func (t *Transport) drain() {
	bound := t.opts.DrainTimeout
	if bound < 0 {
		return
	}
	t.qmu.Lock()
	t.drainBy = time.Now().Add(bound)
	close(t.drainCh)
	var idle chan struct{}
	if t.busy > 0 {
		idle = make(chan struct{})
		t.idle = idle
	}
	t.qmu.Unlock()
	if idle == nil {
		return
	}
	tm := time.NewTimer(bound)
	defer tm.Stop()
	select {
	case <-idle:
	case <-tm.C:
		t.log.Warn("telegram: the messages queued at the stop were not all sent in time", "bound", bound)
	}
}

func (t *Transport) setCommands(ctx context.Context, h Handler) {
	scope := tgbotapi.BotCommandScope{Type: "default"}
	for i, lang := range t.opts.Languages {
		var cmds []tgbotapi.BotCommand
		for _, c := range h.Commands(lang) {
			cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: c.Description})
		}
		if len(cmds) == 0 {
			continue
		}
		configs := []tgbotapi.SetMyCommandsConfig{tgbotapi.NewSetMyCommandsWithScopeAndLanguage(scope, lang, cmds...)}
		if i == 0 {
			configs = append(configs, tgbotapi.NewSetMyCommandsWithScope(scope, cmds...))
		}
		for _, c := range configs {
			err := t.setup(ctx, "setMyCommands", func(api *tgbotapi.BotAPI) error {
				_, err := api.Request(c)
				return err
			})
			if err != nil && ctx.Err() == nil {
				t.log.Warn("telegram: setMyCommands failed; the menu may be stale", "lang", c.LanguageCode, "err", err)
			}
		}
	}
}

// setMenuButton makes the bot's menu button open the Mini App (v5.5.1 has no config
// for setChatMenuButton, so the call is made by name). A failure leaves the old button.
func (t *Transport) setMenuButton(ctx context.Context) {
	if t.opts.MiniAppURL == "" {
		return
	}
	button, _ := json.Marshal(map[string]any{"type": "web_app", "text": "CRM", "web_app": map[string]string{"url": t.opts.MiniAppURL}})
	err := t.setup(ctx, "setChatMenuButton", func(api *tgbotapi.BotAPI) error {
		_, err := api.MakeRequest("setChatMenuButton", tgbotapi.Params{"menu_button": string(button)})
		return err
	})
	if err != nil && ctx.Err() == nil {
		t.log.Warn("telegram: setChatMenuButton failed; the menu button does not open the web workspace", "err", err)
	}
}

func (t *Transport) setWebhook(ctx context.Context) error {
	au, _ := json.Marshal(allowedUpdates)
	params := tgbotapi.Params{
		"url":             t.opts.WebhookURL,
		"secret_token":    t.opts.WebhookSecret, // v5.5.1's WebhookConfig has no field for it
		"allowed_updates": string(au),
	}
	err := t.setup(ctx, "setWebhook", func(api *tgbotapi.BotAPI) error {
		_, err := api.MakeRequest("setWebhook", params)
		return err
	})
	if err != nil {
		return fmt.Errorf("telegram: setWebhook failed; check CRM's public webhook URL: %w", err)
	}
	return nil
}

// setup runs a start-up call, retrying a few times on 429 and network errors.
func (t *Transport) setup(ctx context.Context, method string, fn func(*tgbotapi.BotAPI) error) error {
	wait := time.Second
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		err = fn(t.api(rctx))
		cancel()
		k, after := classify(err)
		switch {
		case k == kindOK:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case k == kindPermanent:
			return err
		case k == kind429:
			wait = after
		}
		t.log.Warn("telegram: call failed; retrying", "method", method, "err", err, "retry_in", wait)
		if sleep(ctx, wait) != nil {
			return ctx.Err()
		}
		wait = min(wait*2, maxBackoff)
	}
	return err
}

// WebhookHandler serves Telegram's webhook calls while Run runs in webhook mode. It
// answers 401 without the right X-Telegram-Bot-Api-Secret-Token, 503 when Run is not
// running (Telegram retries), 413 for a body over 1 MB, and 200 once the update was
// handled.
func (t *Transport) WebhookHandler() http.Handler {
	secret := []byte(t.opts.WebhookSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if len(secret) == 0 || subtle.ConstantTimeCompare(got, secret) != 1 {
			t.log.Warn("telegram: webhook call with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		rs := t.active.Load()
		if rs == nil || !rs.enter() {
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
		defer rs.wg.Done()
		var raw tgbotapi.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody)).Decode(&raw); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if u, ok := t.convert(raw); ok {
			// Telegram may deliver over several connections; keep each chat in order.
			unlock := t.locks.lock(u.ChatID)
			t.handle(rs.ctx, rs.h, u)
			unlock()
		}
		w.WriteHeader(http.StatusOK)
	})
}

type chatLocks struct {
	mu sync.Mutex
	m  map[int64]*chatLock
}

type chatLock struct {
	mu   sync.Mutex
	refs int
}

func (l *chatLocks) lock(chat int64) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[int64]*chatLock)
	}
	c := l.m[chat]
	if c == nil {
		c = &chatLock{}
		l.m[chat] = c
	}
	c.refs++
	l.mu.Unlock()
	c.mu.Lock()
	return func() {
		c.mu.Unlock()
		l.mu.Lock()
		if c.refs--; c.refs == 0 {
			delete(l.m, chat)
		}
		l.mu.Unlock()
	}
}

// errNoTurn says a message's turn comes after the drain's end.
var errNoTurn = fmt.Errorf("telegram: its turn comes after the stop: %w", context.DeadlineExceeded)

// waitUntil sleeps until at, unless ctx ends first or at is after the end of the
// drain, which may begin meanwhile.
func (t *Transport) waitUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		return fmt.Errorf("the turn comes after the caller's deadline: %w", context.DeadlineExceeded)
	}
	drain := t.drainCh
	if t.tooLate(at) {
		return errNoTurn
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-drain:
			if t.tooLate(at) {
				return errNoTurn
			}
			drain = nil
		}
	}
}

// tooLate says the drain began and at is after its end.
func (t *Transport) tooLate(at time.Time) bool {
	select {
	case <-t.drainCh:
		return at.After(t.drainBy)
	default:
		return false
	}
}

// turn waits for a limiter's next turn within waitUntil's bounds.
func (t *Transport) turn(ctx context.Context, lim *rate.Limiter) error {
	r := lim.Reserve()
	if err := t.waitUntil(ctx, time.Now().Add(r.Delay())); err != nil {
		r.Cancel()
		return err
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
