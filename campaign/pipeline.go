package campaign

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/store"
)

// pipeline builds letters and sends them, one goroutine a connection of the pool, for
// every batch a worker holds. Every message handed to it ends recorded (sent, failed,
// deferred, cut) or, when its batch stops before the message began, put back. The
// letters were rendered when the run was queued, so building one is a few
// microseconds: a stage of its own cost more in handing messages between goroutines.
type pipeline struct {
	todo chan piped
	done sync.WaitGroup
	// halted is set once the server refused RefusalsToPause letters in a row: every
	// batch fed to the pipeline stops, and the worker pauses the campaign.
	halted atomic.Bool

	mu      sync.Mutex
	refused int    // letters refused in a row
	reason  string // the pause's, once halted
}

// note counts the server's refusals in a row, in the order the outcomes come in over
// all connections: a letter sent ends the row; a deferral, a cut or a letter that
// could not be rendered neither counts nor ends it.
func (pl *pipeline) note(how outcome, reply string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	switch how {
	case sent:
		pl.refused = 0
	case refused:
		if pl.refused++; pl.refused >= RefusalsToPause && pl.reason == "" {
			pl.reason = refusedPrefix() + reply
			pl.halted.Store(true)
		}
	}
}

// haltReason is why the pipeline halted ("" while it has not).
func (pl *pipeline) haltReason() string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.reason
}

type piped struct {
	p *progress
	i int
}

func (rn *Runner) startPipeline(ctx context.Context, c *store.Campaign, t *Template, ms *managers) *pipeline {
	pl := &pipeline{todo: make(chan piped, rn.conns())}
	for range rn.conns() {
		pl.done.Go(func() {
			for l := range pl.todo {
				if l.p.stopping() {
					l.p.putBack(l.i)
					continue
				}
				msg, err := rn.letterFor(ctx, c, t, ms, l.p.list, l.i)
				switch {
				case err != nil && l.p.ctx.Err() != nil:
					l.p.putBack(l.i)
					continue
				case err != nil: // the letter could not be rendered when queued
					l.p.done(l.i, refused, err.Error(), rn.now())
					continue
				}
				how, reply := classify(rn.sender.Send(l.p.ctx, msg))
				if how == notStarted && l.p.ctx.Err() == nil {
					l.p.down.Store(true)
				}
				pl.note(how, reply)
				l.p.done(l.i, how, reply, rn.now())
			}
		})
	}
	return pl
}

// feed hands a batch's messages over; those left when the batch stops are put back.
func (pl *pipeline) feed(p *progress, picked []int) {
	for k, i := range picked {
		if p.stopping() {
			p.unpick(picked[k:])
			return
		}
		p.pending.Add(1)
		pl.todo <- piped{p: p, i: i}
	}
}

// finish stops the pipeline once every batch fed to it is done.
func (pl *pipeline) finish() {
	close(pl.todo)
	pl.done.Wait()
}

// putBack returns a message handed to the pipeline that did not begin.
func (p *progress) putBack(i int) {
	p.unpick([]int{i})
	p.pending.Done()
}

// done records the outcome of a message handed to the pipeline.
func (p *progress) done(i int, how outcome, reply string, now time.Time) {
	p.record(i, how, reply, now)
	p.pending.Done()
}

// letterFor builds recipient i's message from the letter rendered when the run was
// queued (rendering it now for a list queued before letters were kept), with the
// Message-ID the batch's record of sent letters gives it.
func (rn *Runner) letterFor(ctx context.Context, c *store.Campaign, t *Template, ms *managers, list *store.BatchList, i int) (*gomail.Msg, error) {
	r := list.Recipients[i]
	var msg *gomail.Msg
	var err error
	switch l := r.Letter; {
	case r.Problem != "":
		return nil, errors.New(r.Problem)
	case l != nil:
		msg, err = rn.cs.Message(c, Rendered{Subject: l.Subject, Text: l.Text, HTML: l.HTML}, MailData{Contact: ContactData{Name: r.ContactName}, UnsubscribeURL: l.Unsubscribe}, r.Email)
	default:
		var out Rendered
		var data MailData
		if out, data, err = rn.cs.letter(ctx, t, c, r, ms, false); err != nil {
			return nil, err
		}
		msg, err = rn.cs.Message(c, out, data, r.Email)
	}
	if err == nil {
		recordedID(msg, list.Sent, i)
	}
	return msg, err
}
