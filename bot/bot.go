package bot

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/crm-team/crm/store"
)

// Options configure the conversation core.
type Options struct {
	// Texts holds bot/<lang>.txt (templates.FS).
	Texts fs.FS
	// InviteLink makes the deep link for an invite code; nil shows the bare command.
	InviteLink func(code string) string
	// FileLimit is the largest file whose content is kept in the database (default
	// store.DefaultFileLimit); larger ones are kept by Telegram's handle only.
	FileLimit int64
	// InviteTTL is how long an invite made in the chat works (default 72 h).
	InviteTTL time.Duration
	// IdleDialog is how long a dialog waits for an answer (default 1 h).
	IdleDialog time.Duration
	// Outbox sends messages nobody asked for (notifications); nil: none are sent.
	Outbox Outbox

	// ReplySLA and Calendar start the reply clock of a client's letter attached from
	// /inbox, as the mailbox's reading does for the letters it matches itself; 0: none.
	// Calendar's zone is the company's: the reports' days, and a manager's whose own
	// is not known (default UTC).
	ReplySLA time.Duration
	Calendar store.WorkCalendar

	// Campaigns starts, pauses and reads mailings for heads and admins; nil: mailings
	// are not set up, and /campaigns says what to set.
	Campaigns CampaignControl

	// Reports draws the reports of /report (a manager gets their own figures); nil:
	// there is no /report.
	Reports Reports

	// Invoices makes an order's invoice as a PDF; nil: orders have no invoice button.
	Invoices Invoices

	// Web makes /web's sign-in links to the web workspace; nil: /web says it is off.
	Web WebLinks

	Logger *slog.Logger
	Now    func() time.Time
}

// Bot is the conversation core: it turns a manager's update into replies, whatever the
// transport. Safe for concurrent use; updates of one manager are handled one at a time.
type Bot struct {
	st        *store.Store
	texts     texts
	parser    *TimeParser
	taps      map[tap]tapRoute
	sessions  *sessions
	refusals  *refusals
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	locations sync.Map // time zone name -> *time.Location
}

// New builds the core over a store.
func New(st *store.Store, opts Options) (*Bot, error) {
	t, err := loadTexts(opts.Texts)
	if err != nil {
		return nil, err
	}
	if opts.FileLimit <= 0 {
		opts.FileLimit = store.DefaultFileLimit
	}
	if opts.InviteTTL <= 0 {
		opts.InviteTTL = 72 * time.Hour
	}
	if opts.IdleDialog <= 0 {
		opts.IdleDialog = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Outbox != nil {
		opts.Outbox = finishingOutbox{opts.Outbox}
	}
	return &Bot{st: st, texts: t, parser: NewTimeParser(), taps: tapRoutes(), sessions: newSessions(opts.IdleDialog),
		refusals: newRefusals(time.Minute), opts: opts, log: opts.Logger, now: opts.Now}, nil
}

// Commands lists the command menu in a language.
func (b *Bot) Commands(lang string) []Command {
	names := []string{"find", "new", "today", "overdue", "tasks", "remind", "clients", "inbox", "lang", "cancel", "help"}
	if b.opts.Reports != nil {
		names = slices.Insert(names, slices.Index(names, "inbox"), "report")
	}
	out := make([]Command, 0, len(names))
	for _, n := range names {
		out = append(out, Command{Name: n, Description: b.texts.get(lang, "cmd."+n)})
	}
	return out
}

// Languages lists the languages the bot speaks.
func (b *Bot) Languages() []string { return b.texts.langs() }

// Handle answers an update from a messenger user: a registered, active manager gets the
// conversation, a stranger may only join with a valid invite.
func (b *Bot) Handle(ctx context.Context, u Update) []Reply {
	m, err := b.st.ManagerByTelegram(ctx, u.User.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return b.stranger(ctx, u)
	case err != nil:
		b.log.Error("look up manager", "telegram_user", u.User.ID, "err", err)
		return finish(u, []Reply{{ChatID: u.ChatID, Text: b.texts.get(b.texts.pickLang(u.User.LanguageCode), "error.internal")}})
	case !m.Active:
		// Not the stranger's text: they were on the team.
		return b.refuse(u, b.texts.get(m.Language, "access.off"))
	}
	return b.HandleAs(ctx, m, u)
}

// HandleAs answers an update from a known manager (the terminal chat calls it directly).
func (b *Bot) HandleAs(ctx context.Context, m *store.Manager, u Update) []Reply {
	now := b.now()
	s, unlock := b.sessions.get(m.ID, now)
	defer unlock()
	t := &turn{Bot: b, ctx: ctx, m: m, u: u, s: s, now: now, lang: m.Language}
	if _, ok := b.texts[t.lang]; !ok {
		t.lang = fallbackLang
	}
	t.loc = b.location(m.TimeZone)
	defer func() {
		// A panic in one handler must not take down the transport's loop.
		if r := recover(); r != nil {
			b.log.Error("handler panic", "manager", m.ID, "panic", r)
			t.out = append(t.out, Reply{ChatID: u.ChatID, Text: t.tr("error.internal")})
		}
	}()
	t.route()
	if t.tapAnswered {
		u.Callback = nil
		for i := range t.out {
			t.out[i].CallbackID, t.out[i].Notice = "", ""
		}
	}
	return finish(u, t.out)
}

// answerNow answers the tap at once with a pop-up, before work that may take a while
// (a year's report on a large base): the button stops spinning and the manager sees
// that the bot is on it. Without an outbox the tap is answered with the reply.
func (t *turn) answerNow(text string) {
	if t.u.Callback == nil || t.opts.Outbox == nil || t.tapAnswered {
		return
	}
	if err := t.opts.Outbox.Send(t.ctx, Reply{ChatID: t.u.ChatID, CallbackID: t.u.Callback.ID, Notice: text}); err != nil {
		t.log.Warn("answer a tap early", "manager", t.m.ID, "err", err)
		return
	}
	t.tapAnswered = true
}

// finish makes sure a button tap is answered (or the phone shows a spinner), first,
// and that every reply is finished (finishReply).
func finish(u Update, out []Reply) []Reply {
	for i := range out {
		out[i] = finishReply(out[i])
	}
	if u.Callback == nil {
		return out
	}
	for _, r := range out {
		if r.CallbackID == u.Callback.ID {
			return out
		}
	}
	return append([]Reply{{ChatID: u.ChatID, CallbackID: u.Callback.ID}}, out...)
}

// finishReply is the last step of every reply and notification, whatever built it: no
// text longer than Telegram takes, and no empty row of buttons (a menu whose optional
// row, a pager say, came out empty).
func finishReply(r Reply) Reply {
	r.Text = fit(r.Text)
	var kept [][]Button
	for _, line := range r.Buttons {
		if len(line) > 0 {
			kept = append(kept, line)
		}
	}
	r.Buttons = kept
	return r
}

// finishingOutbox finishes the notifications sent through the Outbox as finish does
// the replies.
type finishingOutbox struct{ Outbox }

func (o finishingOutbox) Send(ctx context.Context, r Reply) error {
	return o.Outbox.Send(ctx, finishReply(r))
}

// maxText is Telegram's limit on a message, in UTF-16 code units.
const maxText = 4096

// fit cuts a text that is too long at a line break (tags never span lines here, so
// the HTML stays whole) and marks the cut.
func fit(text string) string {
	if len(text) <= maxText {
		return text // bytes never undercount UTF-16 units
	}
	units, end := 0, -1
	for i, r := range text {
		units += utf16.RuneLen(r)
		if units > maxText-2 && end < 0 {
			end = i // room for the mark of the cut
		}
	}
	if units <= maxText {
		return text
	}
	cut := text[:end]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + "\n…"
}

func (b *Bot) location(name string) *time.Location {
	if l, ok := b.locations.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		loc = b.opts.Calendar.Loc // the company's
		if loc == nil {
			loc = time.UTC
		}
	}
	b.locations.Store(name, loc)
	return loc
}

// turn is one update being handled for one manager.
type turn struct {
	*Bot
	ctx  context.Context
	m    *store.Manager
	u    Update
	s    *session
	now  time.Time
	lang string
	loc  *time.Location
	out  []Reply
	// tapAnswered: the tap was answered already (answerNow), so the replies must not
	// answer it again.
	tapAnswered bool
}

func (t *turn) tr(key string, args ...any) string { return t.texts.get(t.lang, key, args...) }

func (t *turn) viewer() store.Viewer { return store.Viewer{ManagerID: t.m.ID, Role: t.m.Role} }

// say sends a new message.
func (t *turn) say(text string, kb ...[]Button) {
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, Text: text, Buttons: kb})
}

// show replaces the tapped message when answering a tap, and sends otherwise.
func (t *turn) show(text string, kb ...[]Button) {
	r := Reply{ChatID: t.u.ChatID, Text: text, Buttons: kb}
	if t.u.Callback != nil && t.u.Callback.MessageID != 0 {
		r.EditMessageID = t.u.Callback.MessageID
	}
	t.out = append(t.out, r)
}

// notice answers a tap with a short pop-up.
func (t *turn) notice(text string) {
	if t.u.Callback == nil {
		t.say(text)
		return
	}
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, CallbackID: t.u.Callback.ID, Notice: text})
}

// fail reports an unexpected error: logged with details, the manager told that nothing
// was changed.
func (t *turn) fail(what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	t.log.Error(what, "manager", t.m.ID, "err", err)
	t.say(t.tr("error.internal"))
}

// route dispatches the update.
func (t *turn) route() {
	u := t.u
	switch {
	case u.Callback != nil:
		t.onTap(u.Callback.Data)
	case u.Contact != nil:
		t.s.dialog = nil
		t.onSharedContact(u.Contact)
	case u.File != nil:
		t.onFile(u.File)
	case strings.HasPrefix(strings.TrimSpace(u.Text), "/"):
		t.onCommand(strings.TrimSpace(u.Text))
	case t.s.dialog != nil:
		t.onDialogText(strings.TrimSpace(u.Text))
	default:
		t.find(strings.TrimSpace(u.Text))
	}
}

func (t *turn) onCommand(text string) {
	cmd, arg, _ := strings.Cut(text, " ")
	cmd = strings.ToLower(cmd)
	if i := strings.IndexByte(cmd, '@'); i > 0 {
		cmd = cmd[:i] // "/find@crm_bot" in group chats
	}
	arg = strings.TrimSpace(arg)
	if t.s.dialog != nil {
		// A command leaves the dialog: nothing of it was saved.
		t.s.dialog = nil
		if cmd != "/cancel" {
			t.say(t.tr("dialog.left"))
		}
	}
	switch cmd {
	case "/start":
		t.say(t.tr("start.again", "name", t.m.Name) + "\n\n" + t.help())
	case "/help":
		t.say(t.help())
	case "/cancel":
		t.say(t.tr("dialog.cancelled"))
	case "/find":
		t.find(arg)
	case "/new":
		t.startNewClient(nil)
	case "/clients":
		t.clientsPage(0)
	case "/today":
		t.today()
	case "/overdue":
		t.overdue()
	case "/tasks":
		t.tasks()
	case "/remind":
		t.remind(arg)
	case "/lang":
		t.say(t.tr("lang.choose"), row(btn("Русский", tapLang.data("ru")), btn("English", tapLang.data("en"))))
	case "/invite":
		t.invite(arg)
	case "/managers":
		t.managers()
	case "/inbox":
		t.inbox()
	case "/campaigns":
		t.campaigns()
	case "/web":
		t.webLink()
	case "/report":
		if t.opts.Reports == nil {
			t.say(t.tr("command.unknown", "cmd", cmd))
			return
		}
		t.reportMenu(false)
	default:
		t.say(t.tr("command.unknown", "cmd", cmd))
	}
}

// help lists the commands; heads and admins also learn of theirs, which stay out of
// the command menu (it is the same for the whole team).
func (t *turn) help() string {
	text := t.tr("help")
	if t.opts.Reports != nil {
		text += "\n\n" + t.tr("help.report")
	}
	if t.m.Role.SeesAll() {
		text += "\n\n" + t.tr("help.head")
	}
	return text
}
