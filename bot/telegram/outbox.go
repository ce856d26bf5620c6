package telegram

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// Outbox keeps outgoing messages until Telegram took them, so that what a stop or a
// crash left is sent by the next start; *store.Store is one. A message is written
// to a lane this instance holds before it is queued, and deleted once sent. A lane
// left by another instance (released with messages in it, or not renewed for
// Options.Takeover) is adopted and its messages sent.
type Outbox interface {
	TakeOutbox(ctx context.Context, owner string, ttl time.Duration) (*store.OutboxLane, []store.OutMessage, error)
	AdoptOutbox(ctx context.Context, owner string, ttl time.Duration) (*store.OutboxLane, []store.OutMessage, error)
	Now() time.Time
}

// Defaults of the outbox's Options.
const (
	DefaultTakeover     = 30 * time.Second
	DefaultOutboxMaxAge = 24 * time.Hour
)

const (
	// keepBytes is the largest picture or file content kept in the outbox: a
	// report's chart or spreadsheet is tens of kilobytes. A file sent by file_id
	// keeps only that.
	keepBytes = 1 << 20
	// storeTimeout bounds one of the outbox's writes, which a stop does not cancel.
	storeTimeout = 10 * time.Second
)

// keeper holds the transport's lanes of the Outbox: its own, where new messages are
// written, and those adopted from other instances until they are empty.
type keeper struct {
	t      *Transport
	ob     Outbox
	owner  string
	ttl    time.Duration
	maxAge time.Duration

	mu      sync.Mutex
	own     *store.OutboxLane
	lanes   []*store.OutboxLane // held: own and adopted, renewed by tend
	looping bool
	stopped bool
	loop    sync.WaitGroup
}

// lane returns the transport's own lane, taking one (and queueing what it holds)
// the first time and after it was lost; nil when the outbox cannot be reached.
func (k *keeper) lane(ctx context.Context) *store.OutboxLane {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.own != nil && !k.own.Lost() {
		return k.own
	}
	if k.stopped {
		return nil
	}
	l, msgs, err := k.ob.TakeOutbox(ctx, k.owner, k.ttl)
	if err != nil {
		k.t.log.Warn("telegram: the outbox cannot be reached; messages are sent without it", "err", err)
		return nil
	}
	k.own = l
	k.lanes = append(k.lanes, l)
	k.replay(l, msgs)
	k.startLoop()
	return l
}

// startLoop starts tending the lanes, once (k.mu held).
func (k *keeper) startLoop() {
	if !k.looping && !k.stopped {
		k.looping = true
		k.loop.Go(k.tendLoop)
	}
}

// start takes the own lane, queueing what it holds, and starts tending: Run calls it,
// so a start sends what is left even before anything new is sent.
func (k *keeper) start(ctx context.Context) {
	k.lane(ctx)
	k.mu.Lock()
	k.startLoop()
	k.mu.Unlock()
}

// keep writes r's message to the outbox before it is queued; nil when it could not
// be (it is then sent from memory only).
func (k *keeper) keep(ctx context.Context, r bot.Reply) (*store.OutboxLane, string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	m := toOutbox(ctx, r)
	for range 2 { // a lane taken over meanwhile is replaced once
		l := k.lane(ctx)
		if l == nil {
			return nil, ""
		}
		err := l.Put(ctx, m)
		if err == nil {
			return l, m.ID
		}
		if !errors.Is(err, store.ErrLaneLost) {
			k.t.log.Warn("telegram: a message was not written to the outbox; a crash now would lose it", "chat", r.ChatID, "err", err)
			return nil, ""
		}
	}
	return nil, ""
}

// replay queues a lane's messages left by a stop or a crash, in the order they were
// written; those older than Options.OutboxMaxAge are dropped.
func (k *keeper) replay(l *store.OutboxLane, msgs []store.OutMessage) {
	if len(msgs) == 0 {
		return
	}
	now, queued := k.ob.Now(), 0
	for _, m := range msgs {
		r := fromOutbox(m)
		if age := now.Sub(m.At); age > k.maxAge || !hasMessage(r) {
			k.t.log.Warn("telegram: a message left in the outbox is dropped: too old, or nothing of it was kept",
				"chat", m.Chat, "written", m.At, "age", age.Round(time.Minute))
			k.done(l, m.ID)
			continue
		}
		if m.Photo != nil && r.Photo == nil || m.Document != nil && r.Document == nil {
			k.t.log.Warn("telegram: a file of a message left in the outbox was too large to keep; sent without it",
				"chat", m.Chat, "written", m.At)
		}
		if !k.t.enqueue(&item{ctx: context.Background(), reply: r, lane: l, id: m.ID}) {
			break // stopping: they stay in the outbox
		}
		queued++
	}
	k.t.log.Info("telegram: sending the messages left in the outbox by a stop or a crash", "lane", l.Name(), "count", queued)
}

// done deletes a message that was sent or refused for good. A failed delete leaves
// it to be sent again by the next start.
func (k *keeper) done(l *store.OutboxLane, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := l.Done(ctx, id); err != nil {
		k.t.log.Warn("telegram: a sent message stays in the outbox; the next start may send it again", "id", id, "err", err)
	}
}

// await waits until this instance's hold on the lane is fresh enough to send its
// message; false when the lane is another instance's now (which sends it).
func (k *keeper) await(ctx context.Context, l *store.OutboxLane) (bool, error) {
	for !l.Held() {
		if l.Lost() {
			return false, nil
		}
		if err := k.t.waitUntil(ctx, time.Now().Add(time.Second)); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (k *keeper) tendLoop() {
	tick := time.NewTicker(k.ttl / 4)
	defer tick.Stop()
	for {
		select {
		case <-k.t.closeCtx.Done():
			return
		case <-tick.C:
			k.tend(k.t.closeCtx)
		}
	}
}

// tend renews the lanes held, releases adopted ones once empty, and adopts a lane
// another instance left with messages in it; an own lane not taken yet (the
// database did not answer) is taken.
func (k *keeper) tend(ctx context.Context) {
	k.lane(ctx)
	k.mu.Lock()
	lanes, own := slices.Clone(k.lanes), k.own
	k.mu.Unlock()
	var gone []*store.OutboxLane
	for _, l := range lanes {
		if l != own && l.Idle() {
			if err := l.Release(ctx); err != nil {
				k.t.log.Warn("telegram: release an outbox lane", "lane", l.Name(), "err", err)
				continue
			}
			gone = append(gone, l)
			continue
		}
		ok, err := l.Renew(ctx)
		switch {
		case err != nil:
			k.t.log.Warn("telegram: renew the hold on an outbox lane", "lane", l.Name(), "err", err)
		case !ok:
			k.t.log.Warn("telegram: another instance took an outbox lane over; it sends what is left there", "lane", l.Name())
			gone = append(gone, l)
		}
	}
	k.mu.Lock()
	k.lanes = slices.DeleteFunc(k.lanes, func(l *store.OutboxLane) bool { return slices.Contains(gone, l) })
	stopped := k.stopped
	k.mu.Unlock()
	if stopped {
		return
	}
	l, msgs, err := k.ob.AdoptOutbox(ctx, k.owner, k.ttl)
	if err != nil {
		if ctx.Err() == nil {
			k.t.log.Warn("telegram: look for outbox lanes other instances left", "err", err)
		}
		return
	}
	if l != nil {
		k.mu.Lock()
		k.lanes = append(k.lanes, l)
		k.mu.Unlock()
		k.replay(l, msgs)
	}
}

// stop ends the tending (the transport stopped sending) and releases the lanes, so
// the next start takes what is left in them at once. After a crash nothing is
// released: the lanes are taken over when their hold runs out.
func (k *keeper) stop(crashed bool) {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.loop.Wait()
	if crashed {
		return
	}
	k.mu.Lock()
	lanes := k.lanes
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	for _, l := range lanes {
		if err := l.Release(ctx); err != nil {
			k.t.log.Warn("telegram: release an outbox lane; it is taken over when its hold runs out", "lane", l.Name(), "err", err)
		}
	}
}

// toOutbox is r's message as the outbox keeps it.
func toOutbox(ctx context.Context, r bot.Reply) *store.OutMessage {
	m := &store.OutMessage{Chat: r.ChatID, Text: r.Text, Edit: r.EditMessageID}
	for _, row := range r.Buttons {
		out := make([]store.OutButton, 0, len(row))
		for _, b := range row {
			out = append(out, store.OutButton{Text: b.Text, Data: b.Data, URL: b.URL})
		}
		m.Rows = append(m.Rows, store.OutRow{Buttons: out})
	}
	if p := r.Photo; p != nil {
		m.Photo = &store.OutFile{Name: p.Name}
		if len(p.PNG) <= keepBytes {
			m.Photo.Data = p.PNG
		}
	}
	if d := r.Document; d != nil {
		m.Document = &store.OutFile{Name: d.Name, MIME: d.MIME, FileID: d.FileID}
		if d.FileID == "" && d.Load != nil {
			// A file made for the reply (a report's spreadsheet) exists nowhere else.
			if data, err := d.Load(ctx); err == nil && len(data) <= keepBytes {
				m.Document.Data = data
			}
		}
	}
	return m
}

// fromOutbox is a kept message as the transport sends it; a file whose content was not
// kept is left out.
func fromOutbox(m store.OutMessage) bot.Reply {
	r := bot.Reply{ChatID: m.Chat, Text: m.Text, EditMessageID: m.Edit}
	for _, row := range m.Rows {
		out := make([]bot.Button, 0, len(row.Buttons))
		for _, b := range row.Buttons {
			out = append(out, bot.Button{Text: b.Text, Data: b.Data, URL: b.URL})
		}
		r.Buttons = append(r.Buttons, out)
	}
	if p := m.Photo; p != nil && len(p.Data) > 0 {
		r.Photo = &bot.Photo{Name: p.Name, PNG: p.Data}
	}
	if f := m.Document; f != nil && (f.FileID != "" || len(f.Data) > 0) {
		r.Document = &bot.Document{Name: f.Name, MIME: f.MIME, FileID: f.FileID}
		if data := f.Data; len(data) > 0 {
			r.Document.Load = func(context.Context) ([]byte, error) { return data, nil }
		}
	}
	return r
}
