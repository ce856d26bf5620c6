package telegram

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// chatQueue holds one chat's pending messages; one worker goroutine drains it while it
// is not empty, so a chat waiting for its slot holds up only itself.
type chatQueue struct {
	lim       *rate.Limiter
	items     []*item
	running   bool
	idleSince time.Time
}

type item struct {
	ctx   context.Context
	reply bot.Reply
	done  chan error        // nil when nobody waits
	lane  *store.OutboxLane // not nil: kept in the outbox as id
	id    string
}

func report(ch chan error, err error) {
	if ch != nil {
		ch <- err
	}
}

// Send queues r like a handler's reply and waits until it was sent, given up, or ctx
// is done. A callback answer goes out at once; the text and document wait for the
// chat's turn. With an Outbox, a message written to it goes out even when ctx ends
// first, by the drain or the next start: Send then returns nil.
func (t *Transport) Send(ctx context.Context, r bot.Reply) error {
	chs, kept, err := t.submit(ctx, r, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, ch := range chs {
		select {
		case err := <-ch:
			errs = append(errs, err)
		case <-ctx.Done():
			if kept {
				return nil
			}
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

func hasMessage(r bot.Reply) bool {
	return r.Text != "" || r.Photo != nil || r.Document != nil || (r.EditMessageID != 0 && len(r.Buttons) > 0)
}

// submit queues r; with wait it returns channels that report each part's outcome.
// kept says its message was written to the outbox.
func (t *Transport) submit(ctx context.Context, r bot.Reply, wait bool) (chs []chan error, kept bool, err error) {
	if r.ChatID == 0 && hasMessage(r) {
		return nil, false, errors.New("telegram: a reply without a chat")
	}
	newDone := func() chan error {
		if wait {
			return make(chan error, 1)
		}
		return nil
	}
	var it *item
	if hasMessage(r) {
		msg := r
		msg.CallbackID, msg.Notice = "", ""
		it = &item{ctx: ctx, reply: msg, done: newDone()}
		if t.keeper != nil && !t.isClosed() {
			// Written before it is queued; then it goes out whatever happens to ctx.
			if it.lane, it.id = t.keeper.keep(ctx, msg); it.lane != nil {
				it.ctx = context.WithoutCancel(ctx)
			}
		}
	}
	t.qmu.Lock()
	defer t.qmu.Unlock()
	if t.closed {
		return nil, false, ErrClosed // a message kept meanwhile goes out at the next start
	}
	if r.CallbackID != "" {
		// Not a message: no per-chat turn, so the spinner on the button stops promptly.
		done, ans := newDone(), r
		t.workers.Add(1)
		go func() {
			defer t.workers.Done()
			ctx, cancel := t.bound(ctx)
			defer cancel()
			report(done, t.answer(ctx, ans))
		}()
		if done != nil {
			chs = append(chs, done)
		}
	}
	if it != nil {
		t.push(it)
		if it.done != nil {
			chs = append(chs, it.done)
		}
	}
	return chs, it != nil && it.lane != nil, nil
}

func (t *Transport) isClosed() bool {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	return t.closed
}

// enqueue queues an item; false once the transport stopped.
func (t *Transport) enqueue(it *item) bool {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	if t.closed {
		return false
	}
	t.push(it)
	return true
}

// push appends an item to its chat's queue and starts the chat's worker (t.qmu held).
func (t *Transport) push(it *item) {
	q := t.queue(it.reply.ChatID)
	q.items = append(q.items, it)
	if !q.running {
		q.running = true
		t.busy++
		t.workers.Add(1)
		go t.worker(q)
	}
}

// queue returns the chat's queue (t.qmu held). Idle queues are kept for a while so a
// chat's limiter is not reset by a quick next message.
func (t *Transport) queue(chat int64) *chatQueue {
	if q := t.chats[chat]; q != nil {
		return q
	}
	now := time.Now()
	if now.Sub(t.lastSweep) > time.Minute {
		t.lastSweep = now
		ttl := time.Minute
		if t.opts.PerChatRate != rate.Inf {
			ttl = max(ttl, time.Duration(float64(time.Second)/float64(t.opts.PerChatRate)))
		}
		for id, q := range t.chats {
			if !q.running && now.Sub(q.idleSince) > ttl {
				delete(t.chats, id)
			}
		}
	}
	q := &chatQueue{lim: rate.NewLimiter(t.opts.PerChatRate, burst(t.opts.PerChatRate))}
	t.chats[chat] = q
	return q
}

func (t *Transport) worker(q *chatQueue) {
	defer t.workers.Done()
	for {
		t.qmu.Lock()
		if len(q.items) == 0 {
			q.running = false
			q.idleSince = time.Now()
			q.items = nil
			if t.busy--; t.busy == 0 && t.idle != nil {
				close(t.idle)
				t.idle = nil
			}
			t.qmu.Unlock()
			return
		}
		it := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		t.qmu.Unlock()

		ctx, cancel := t.bound(it.ctx)
		err := t.send(ctx, q, it)
		if err != nil && (errors.Is(err, errNoTurn) || t.closeCtx.Err() != nil && stopping(ctx, err)) {
			if it.lane != nil {
				t.nKeptLeft.Add(1)
			} else {
				t.nLeft.Add(1)
			}
		}
		cancel()
		report(it.done, err)
	}
}

// send delivers an item. A kept one goes out only while this instance holds its
// lane, and is deleted from the outbox once sent or refused for good; one the stop
// cut stays there.
func (t *Transport) send(ctx context.Context, q *chatQueue, it *item) error {
	if it.lane == nil {
		return t.deliver(ctx, q, it.reply)
	}
	if held, err := t.keeper.await(ctx, it.lane); !held {
		return err // nil: another instance took the lane over and sends it
	}
	err := t.deliver(ctx, q, it.reply)
	if err == nil || !stopping(ctx, err) {
		t.keeper.done(it.lane, it.id)
	}
	return err
}

// bound ends ctx also when the transport stops.
func (t *Transport) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(t.closeCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// deliver sends or edits the text, then sends the picture and the document. A
// picture takes a new text as its caption when it fits, and takes the buttons: they
// belong under the last message, where the eye lands.
func (t *Transport) deliver(ctx context.Context, q *chatQueue, r bot.Reply) error {
	buttons, caption := r.Buttons, ""
	if r.Photo != nil {
		buttons = nil
		if r.EditMessageID == 0 && captionFits(r.Text) {
			caption, r.Text = r.Text, ""
		}
	}
	if r.Text != "" || (r.EditMessageID != 0 && len(buttons) > 0) {
		var c call
		markup := keyboard(buttons)
		if r.EditMessageID != 0 && r.Text == "" {
			cfg := tgbotapi.NewEditMessageReplyMarkup(r.ChatID, r.EditMessageID, *markup)
			c = t.call("editMessageReplyMarkup", r.ChatID, q, cfg)
		} else if r.EditMessageID != 0 {
			cfg := tgbotapi.NewEditMessageText(r.ChatID, r.EditMessageID, r.Text)
			cfg.ParseMode = tgbotapi.ModeHTML
			cfg.DisableWebPagePreview = true
			cfg.ReplyMarkup = markup
			c = t.call("editMessageText", r.ChatID, q, cfg)
		} else {
			cfg := tgbotapi.NewMessage(r.ChatID, r.Text)
			cfg.ParseMode = tgbotapi.ModeHTML
			cfg.DisableWebPagePreview = true
			if markup != nil {
				cfg.ReplyMarkup = markup
			}
			c = t.call("sendMessage", r.ChatID, q, cfg)
		}
		if err := t.do(ctx, c); err != nil {
			return t.gaveUp(ctx, c.method, r.ChatID, err)
		}
	}
	if r.Photo != nil {
		cfg := tgbotapi.NewPhoto(r.ChatID, tgbotapi.FileBytes{Name: r.Photo.Name, Bytes: r.Photo.PNG})
		if caption != "" {
			cfg.Caption, cfg.ParseMode = caption, tgbotapi.ModeHTML
		}
		if markup := keyboard(r.Buttons); markup != nil {
			cfg.ReplyMarkup = markup
		}
		c := t.call("sendPhoto", r.ChatID, q, cfg)
		c.timeout = uploadTimeout
		if err := t.do(ctx, c); err != nil {
			return t.gaveUp(ctx, "sendPhoto", r.ChatID, err)
		}
	}
	if r.Document != nil {
		if err := t.sendDocument(ctx, q, r.ChatID, r.Document); err != nil {
			return t.gaveUp(ctx, "sendDocument", r.ChatID, err)
		}
	}
	return nil
}

// maxCaption is Telegram's limit on a caption, in UTF-16 code units of the visible
// text (markup aside).
const maxCaption = 1024

// captionFits tells whether an HTML text can be a picture's caption.
func captionFits(text string) bool {
	if text == "" {
		return false
	}
	if len(text) <= maxCaption {
		return true // bytes never undercount UTF-16 units, nor markup the visible text
	}
	visible := html.UnescapeString(tag.ReplaceAllString(text, ""))
	n := 0
	for _, r := range visible {
		n += utf16.RuneLen(r)
	}
	return n <= maxCaption
}

// tag is an HTML tag of the bot's texts; their values never hold a bare '>'.
var tag = regexp.MustCompile(`<[^>]*>`)

// stopping says err is the end of the wait, not Telegram's answer: the transport
// stops or the caller gave up.
func stopping(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func (t *Transport) gaveUp(ctx context.Context, method string, chat int64, err error) error {
	if stopping(ctx, err) {
		return err
	}
	t.nFailed.Add(1)
	t.opts.Metrics.GaveUp()
	t.log.Warn("telegram: message given up", "method", method, "chat", chat, "err", err)
	return fmt.Errorf("telegram: %s to chat %d: %w", method, chat, err)
}

// sendDocument sends by file_id; when Telegram rejects it (a new bot token, say) and a
// stored copy exists, the bytes are uploaded instead.
func (t *Transport) sendDocument(ctx context.Context, q *chatQueue, chat int64, d *bot.Document) error {
	lim := q
	if d.FileID != "" {
		c := t.call("sendDocument", chat, q, tgbotapi.NewDocument(chat, tgbotapi.FileID(d.FileID)))
		err := t.do(ctx, c)
		if err == nil || d.Load == nil || !badFileID(err) {
			return err
		}
		t.log.Info("telegram: file_id rejected; uploading the stored copy", "chat", chat, "name", d.Name, "err", err)
		lim = nil // the rejected attempt already took the chat's turn
	}
	if d.Load == nil {
		return errors.New("telegram: a document with neither a file_id nor content")
	}
	data, err := d.Load(ctx)
	if err != nil {
		return fmt.Errorf("reading the stored copy of %q: %w", d.Name, err)
	}
	c := t.call("sendDocument", chat, lim, tgbotapi.NewDocument(chat, tgbotapi.FileBytes{Name: d.Name, Bytes: data}))
	c.timeout = uploadTimeout
	return t.do(ctx, c)
}

func badFileID(err error) bool {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return false
	}
	bad := te.Code == http.StatusBadRequest || (te.Code == 0 && strings.HasPrefix(te.Message, "Bad Request"))
	return bad && !strings.Contains(te.Message, "chat not found")
}

func (t *Transport) answer(ctx context.Context, r bot.Reply) error {
	c := call{method: "answerCallbackQuery", chat: r.ChatID, cfg: tgbotapi.NewCallback(r.CallbackID, r.Notice)}
	err := t.do(ctx, c)
	if err != nil && ctx.Err() == nil {
		// Usually an answer too late (after a restart): the user just sees the spinner stop.
		t.log.Info("telegram: callback answer failed", "chat", r.ChatID, "err", err)
	}
	return err
}

func keyboard(rows [][]bot.Button) *tgbotapi.InlineKeyboardMarkup {
	if len(rows) == 0 {
		return nil
	}
	m := &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: make([][]tgbotapi.InlineKeyboardButton, 0, len(rows))}
	for _, row := range rows {
		out := make([]tgbotapi.InlineKeyboardButton, 0, len(row))
		for _, b := range row {
			if b.URL != "" {
				out = append(out, tgbotapi.NewInlineKeyboardButtonURL(b.Text, b.URL))
			} else {
				out = append(out, tgbotapi.NewInlineKeyboardButtonData(b.Text, b.Data))
			}
		}
		m.InlineKeyboard = append(m.InlineKeyboard, out)
	}
	return m
}

// call is one API request as the send loop sees it.
type call struct {
	method  string
	chat    int64
	q       *chatQueue // not nil: a message, which takes the chat's and the global turn
	cfg     tgbotapi.Chattable
	global  bool
	timeout time.Duration
}

func (t *Transport) call(method string, chat int64, q *chatQueue, cfg tgbotapi.Chattable) call {
	return call{method: method, chat: chat, q: q, cfg: cfg, global: true}
}

type kind int

const (
	kindOK kind = iota
	kind429
	kindTransient
	kindPermanent
)

// classify tells how to react to a Bot API result.
func classify(err error) (kind, time.Duration) {
	if err == nil {
		return kindOK, 0
	}
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return kindTransient, 0 // network, timeout, a proxy's HTML page
	}
	if te.Code == http.StatusTooManyRequests || te.RetryAfter > 0 || strings.HasPrefix(te.Message, "Too Many Requests") {
		return kind429, max(time.Duration(te.RetryAfter)*time.Second, time.Second)
	}
	switch {
	case te.Code >= 500:
		return kindTransient, 0
	case te.Code >= 400:
		return kindPermanent, 0
	}
	// UploadFiles leaves Code at 0; go by the description.
	for _, p := range []string{"Bad Request", "Unauthorized", "Forbidden", "Not Found", "Conflict"} {
		if strings.HasPrefix(te.Message, p) {
			return kindPermanent, 0
		}
	}
	return kindTransient, 0
}

// do sends one request within the limits: the chat's turn once, then the global turn
// and any 429 pause before every attempt. A 429 is retried after retry_after, network
// and server errors with backoff, until ctx ends; a permanent error is returned.
func (t *Transport) do(ctx context.Context, c call) error {
	if c.q != nil {
		if err := t.turn(ctx, c.q.lim); err != nil {
			return fmt.Errorf("waiting for the chat's turn: %w", err)
		}
	}
	backoff := time.Second
	for {
		if c.global {
			if err := t.turn(ctx, t.global); err != nil {
				return err
			}
		}
		if err := t.waitPause(ctx); err != nil {
			return err
		}
		err := t.request(ctx, c)
		k, after := classify(err)
		if k == kindPermanent && strings.HasPrefix(c.method, "editMessage") && isNotModified(err) {
			k = kindOK // the message already says this
		}
		switch k {
		case kindOK:
			t.nSent.Add(1)
			t.opts.Metrics.Sent()
			return nil
		case kindPermanent:
			return err
		case kind429:
			t.nRetries429.Add(1)
			t.opts.Metrics.RateLimited()
			t.opts.Metrics.Retried()
			t.pause(after)
			t.log.Warn("telegram: too many requests; pausing all sends", "method", c.method, "chat", c.chat, "retry_after", after)
		case kindTransient:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.log.Warn("telegram: request failed; retrying", "method", c.method, "chat", c.chat, "err", err, "retry_in", backoff)
			t.opts.Metrics.Retried()
			if err := t.waitUntil(ctx, time.Now().Add(backoff)); err != nil {
				return err
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

func isNotModified(err error) bool {
	var te *tgbotapi.Error
	return errors.As(err, &te) && strings.Contains(te.Message, "message is not modified")
}

func (t *Transport) request(ctx context.Context, c call) error {
	select {
	case t.inflight <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-t.inflight }()
	timeout := c.timeout
	if timeout == 0 {
		timeout = requestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := t.api(ctx).Request(c.cfg)
	return err
}

// pause stops all sends for d, as a 429 asks for the whole bot.
func (t *Transport) pause(d time.Duration) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if until := time.Now().Add(d); until.After(t.pausedUntil) {
		t.pausedUntil = until
	}
}

func (t *Transport) waitPause(ctx context.Context) error {
	for {
		t.pmu.Lock()
		until := t.pausedUntil
		t.pmu.Unlock()
		if !time.Now().Before(until) {
			return nil
		}
		if err := t.waitUntil(ctx, until); err != nil {
			return err
		}
	}
}

// Blocked tells whether err means the chat cannot be written to any more (the user
// blocked the bot, deleted the account, or the chat does not exist): stop sending there.
func Blocked(err error) bool {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return false
	}
	return te.Code == http.StatusForbidden || strings.HasPrefix(te.Message, "Forbidden") ||
		strings.Contains(te.Message, "chat not found")
}
