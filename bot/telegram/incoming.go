package telegram

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/crm-team/crm/bot"
)

// DefaultWorkers is how many updates are handled at once by default.
const DefaultWorkers = 16

// busyPoll is how soon getUpdates is asked again when it gave back only updates still
// being handled: new ones come after those, in the next answer.
const busyPoll = 200 * time.Millisecond

// Updates are handled side by side, each chat's in order: an update waits in its
// chat's queue, and a goroutine per chat with updates handles them one after
// another, at most Options.Workers at once; a slow update (a year's report) holds its
// own chat only. Telegram is told an update was handled (getUpdates' offset) only once
// it and every update before it were, so a crash redelivers whatever was not; until
// then every answer repeats the updates being handled, which are known by ID and
// handled once.
func (t *Transport) poll(ctx context.Context, h Handler) {
	in := &inbox{t: t, h: h, ctx: ctx, slots: make(chan struct{}, t.opts.Workers),
		queues: map[int64][]queued{}, open: map[int]bool{}, progress: make(chan struct{})}
	defer in.wg.Wait()
	cfg := tgbotapi.UpdateConfig{AllowedUpdates: allowedUpdates}
	var backoff time.Duration
	for ctx.Err() == nil {
		var busy bool
		var progress <-chan struct{}
		cfg.Offset, busy, progress = in.offset()
		cfg.Timeout = max(1, int(t.opts.PollTimeout/time.Second))
		if busy {
			cfg.Timeout = 0 // the updates being handled come back at once anyway
		}
		rctx, cancel := context.WithTimeout(ctx, t.opts.PollTimeout+requestTimeout)
		ups, err := t.api(rctx).GetUpdates(cfg)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, time.Second), maxBackoff)
			wait := backoff
			if k, after := classify(err); k == kind429 {
				wait = after
				t.opts.Metrics.RateLimited()
			}
			t.log.Warn("telegram: getUpdates failed; retrying", "err", err, "retry_in", wait)
			if sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		backoff = 0
		if in.add(ups) == 0 && busy {
			tm := time.NewTimer(busyPoll)
			select {
			case <-progress:
			case <-tm.C:
			case <-ctx.Done():
			}
			tm.Stop()
		}
	}
}

// inbox holds the updates received and not yet confirmed.
type inbox struct {
	t     *Transport
	h     Handler
	ctx   context.Context
	slots chan struct{} // a handler runs while it holds one
	wg    sync.WaitGroup

	mu       sync.Mutex
	queues   map[int64][]queued // per chat with a goroutine: what waits for it
	open     map[int]bool       // IDs of updates not handled yet
	next     int                // one past the highest update ID received
	progress chan struct{}      // closed and replaced whenever an update was handled
}

type queued struct {
	id int
	u  bot.Update
}

// offset is the getUpdates offset that confirms every update handled so far and none
// after the first not handled; busy says some are being handled, and progress is
// closed when one more is.
func (in *inbox) offset() (offset int, busy bool, progress <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	offset = in.next
	for id := range in.open {
		offset = min(offset, id)
	}
	return offset, len(in.open) > 0, in.progress
}

// add queues the updates not received before and says how many there were.
// Telegram answers in update order from the offset, so an ID below next was in an
// earlier answer.
func (in *inbox) add(ups []tgbotapi.Update) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	fresh := 0
	for _, raw := range ups {
		if raw.UpdateID < in.next {
			continue
		}
		fresh++
		in.next = raw.UpdateID + 1
		u, ok := in.t.convert(raw)
		if !ok {
			continue // nothing to handle: confirmed with the ones after it
		}
		in.open[raw.UpdateID] = true
		q, running := in.queues[u.ChatID]
		in.queues[u.ChatID] = append(q, queued{raw.UpdateID, u})
		if !running {
			in.wg.Add(1)
			go in.serve(u.ChatID)
		}
	}
	return fresh
}

// serve handles a chat's updates in order until its queue is empty. Once Run's
// context ends it takes no more: what is left stays unconfirmed.
func (in *inbox) serve(chat int64) {
	defer in.wg.Done()
	for {
		in.mu.Lock()
		q := in.queues[chat]
		if len(q) == 0 || in.ctx.Err() != nil {
			delete(in.queues, chat)
			in.mu.Unlock()
			return
		}
		next := q[0]
		in.queues[chat] = slices.Delete(q, 0, 1)
		in.mu.Unlock()
		select {
		case in.slots <- struct{}{}:
		case <-in.ctx.Done():
			continue // the loop above ends it
		}
		in.t.handle(in.ctx, in.h, next.u)
		<-in.slots
		in.mu.Lock()
		delete(in.open, next.id)
		close(in.progress)
		in.progress = make(chan struct{})
		in.mu.Unlock()
	}
}

// handle runs the handler and queues its replies. A panic is logged and the update
// counts as handled, so one bad update cannot be redelivered forever.
func (t *Transport) handle(ctx context.Context, h Handler, u bot.Update) {
	t.nUpdates.Add(1)
	var replies []bot.Reply
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.log.Error("telegram: handler panicked", "chat", u.ChatID, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		replies = h.Handle(ctx, u)
	}()
	for _, r := range replies {
		if r.ChatID == 0 {
			r.ChatID = u.ChatID
		}
		// Sent even when ctx ends meanwhile: a stop drains the queue.
		if _, _, err := t.submit(context.WithoutCancel(ctx), r, false); err != nil && !errors.Is(err, ErrClosed) {
			t.log.Warn("telegram: reply not queued", "chat", r.ChatID, "err", err)
		}
	}
	t.opts.Metrics.UpdateHandled(time.Since(start)) // with its replies queued, not sent
}
