package campaign

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crm-team/crm/store"
)

// How campaigns go out. A run's recipients are queued in batches by a runner's
// preparation (prepare), which hands each batch to its instance's worker as soon as
// it is stored, so that the first letters leave while later ones are rendered. Every
// instance sends batches it takes (sendBatch) through its pipeline: before a group of
// messages is handed over, their "sending" marks are written in one write with the
// outcomes so far, so the database costs one write a group, not two a message. A
// crash leaves the groups marked "sending": those messages are never sent again and
// are reported, as the rule "never twice" requires. A batch sent to the end gets its
// "mailing sent" lines (lines.go) while the next ones go out.

const (
	// PauseServerDown is the pause reason of a campaign whose SMTP server is down; such
	// a campaign resumes by itself.
	PauseServerDown = "the SMTP server is not reachable"
	// RefusalsToPause is how many letters in a row the SMTP server may refuse (5xx)
	// before the campaign pauses: a server that refuses everyone (a blocked sender, a
	// wrong login) would otherwise mark the whole list failed in seconds. A person
	// resumes it once the server accepts mail again.
	RefusalsToPause = 20
)

// refusedPrefix begins the pause reason of a campaign paused for refusals; the
// server's last reply follows it.
func refusedPrefix() string {
	return fmt.Sprintf("the SMTP server refused %d letters in a row; its last reply: ", RefusalsToPause)
}

// RefusedReply says whether a campaign paused because the server refused letter
// after letter, and returns the server's last reply.
func RefusedReply(pauseReason string) (string, bool) {
	return strings.CutPrefix(pauseReason, refusedPrefix())
}

func prepareKey(c *store.Campaign) string { return "prepare/" + c.ID + "/" + strconv.Itoa(c.Run) }

// runCampaign prepares the current run if nobody does, sends batches until none is
// left to take, and writes the lines of the batches it sent. It moves the campaign
// on as its run goes: sending once it takes a batch, finishing once every letter is
// out (only lines are left), done once every line is written.
func (rn *Runner) runCampaign(ctx context.Context, id string) (err error) {
	c, err := rn.st.Campaign(ctx, id)
	if err != nil || !c.State.Active() {
		return err
	}
	t, err := rn.cs.template(c)
	if err != nil {
		return rn.pause(ctx, c, err.Error(), nil)
	}
	lk := rn.link(c)
	// One pipeline for the worker: the next batch is taken while the last messages of
	// the previous one are on their way, so the connections never wait for a take.
	pl := rn.startPipeline(ctx, c, t, newManagers(rn.st))
	var draining sync.WaitGroup
	var inFlight atomic.Int32 // batches still going out
	var failed error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		failed = errors.Join(failed, err)
		mu.Unlock()
	}
	lines := newLineQueue()
	var writer sync.WaitGroup
	writer.Go(func() { rn.writeLines(ctx, c, lines, lk, fail) })
	w := newWalk(rn.opts.Owner)
	running := rn.runningCheck(id)
	opted := newOptOuts(rn.st)
	camp := c            // c is read again below, and nil after a failed read
	prepStarted := false // by this worker
	defer func() {
		draining.Wait()
		pl.finish()
		lines.close()
		writer.Wait()
		select { // a batch offered and not taken is read from the database by the next worker
		case <-lk.fresh:
		default:
		}
		if err == nil {
			err = failed
		}
		// Paused once every batch is released, so the letters not begun wait queued.
		if reason := pl.haltReason(); reason != "" {
			err = errors.Join(err, rn.pause(context.WithoutCancel(ctx), camp, reason, nil))
		}
	}()
	for ctx.Err() == nil {
		if mu.Lock(); failed != nil || pl.halted.Load() {
			mu.Unlock()
			return nil
		}
		mu.Unlock()
		if c, err = rn.st.Campaign(ctx, id); err != nil {
			return err
		}
		if !c.State.Active() {
			return nil
		}
		camp = c
		if !c.Prepared && !prepStarted {
			// Once a worker: a preparation that stopped on an error is tried again
			// at the next wake, not over and over.
			rn.prepareInBackground(ctx, c, lk)
			prepStarted = true
		}
		// Seen before the heads are read: a batch of ours that finishes after the read
		// leaves those heads stale.
		busy := inFlight.Load() > 0 || !lines.idle()
		b, list, round, err := rn.next(ctx, c, &w, lk, lines)
		if err != nil {
			return err
		}
		if b == nil {
			if c.Prepared && round.allSent {
				// Every letter is out: the state says so before the last lines begin.
				if err := rn.advance(ctx, c, store.CampaignFinishing, store.CampaignPreparing, store.CampaignSending); err != nil {
					return err
				}
				lines.handOver(round.lines...)
			} else if c.Prepared && inFlight.Load() == 0 {
				// Nothing of ours goes out now (the rest waits for a retry, or for
				// another instance): the lines use the time.
				lines.handOver()
			}
			switch {
			case busy || !lines.idle():
			case c.Prepared && round.allDone:
				return rn.finishRun(ctx, c)
			case !rn.isWorking(prepareKey(c)):
				// Nothing to take now: batches are sent by others or wait for a retry;
				// the next look starts the worker again. Batches this instance is
				// still queueing are worth waiting for.
				return nil
			}
			lk.wait(ctx, 200*time.Millisecond)
			continue
		}
		if err := rn.advance(ctx, c, store.CampaignSending, store.CampaignPreparing); err != nil {
			return errors.Join(err, rn.st.ReleaseBatch(context.WithoutCancel(ctx), b, rn.opts.Owner, rn.opts.Takeover))
		}
		fed := make(chan struct{})
		inFlight.Add(1)
		draining.Go(func() {
			defer lk.poke()
			defer inFlight.Add(-1)
			done, err := rn.sendBatch(ctx, c, pl, running, opted, b, list, fed)
			if err != nil {
				fail(err)
			}
			if done {
				lines.finished(b.ID)
			}
		})
		<-fed
	}
	return nil
}

// advance moves the campaign to state when it is in one of from, and notes it in c;
// a pause, or a move another instance made first, is left as it is.
func (rn *Runner) advance(ctx context.Context, c *store.Campaign, to store.CampaignState, from ...store.CampaignState) error {
	if !slices.Contains(from, c.State) {
		return nil
	}
	_, err := rn.st.MoveCampaign(ctx, "scheduler", c.ID, "", from, func(c *store.Campaign) { c.State = to })
	if errors.Is(err, store.ErrCampaignState) {
		return nil
	}
	if err == nil {
		c.State = to
		rn.log.Info("campaign "+string(to), "campaign", c.Name, "run", c.Run)
	}
	return err
}

// walk is a worker's place in its run's batches. The worker goes round them reading
// heads by _id, from a place that depends on the instance, so that taking a batch
// costs a read or two whatever the size of the run, and instances spread over a
// campaign instead of racing for its first batch. Heads known to be sent and lined
// are not read again.
type walk struct {
	next  int
	lined map[int]bool
}

func newWalk(owner string) walk {
	h := fnv.New32a()
	_, _ = h.Write([]byte(owner))
	return walk{next: int(h.Sum32() % 1024), lined: map[int]bool{}}
}

// round is what a walk over every head of the run found when it took nothing.
type round struct {
	allSent bool     // every batch is queued and sent (done)
	allDone bool     // and has its lines
	lines   []string // done batches whose lines nobody writes (another instance stopped)
}

// next takes a batch to send: the one this instance just queued, else the next in
// the database. When it takes nothing, the round says where the run is.
func (rn *Runner) next(ctx context.Context, c *store.Campaign, w *walk, lk *link, lines *lineQueue) (*store.Batch, *store.BatchList, round, error) {
	select {
	case q := <-lk.fresh:
		ok, err := rn.st.TakeBatch(ctx, q.head, rn.opts.Owner, rn.opts.Takeover)
		if err != nil || ok {
			return q.head, q.list, round{}, err
		}
	default:
	}
	b, r, err := rn.takeNext(ctx, c, w, lines)
	return b, nil, r, err
}

// takeNext takes the next batch with letters to send, reading each head of the run
// at most once.
func (rn *Runner) takeNext(ctx context.Context, c *store.Campaign, w *walk, lines *lineQueue) (*store.Batch, round, error) {
	n := c.Batches
	now := rn.now()
	r := round{allSent: true, allDone: true}
	for i := range n {
		seq := (w.next + i) % n
		id := store.BatchID(c.ID, c.Run, seq)
		if sent, lined := lines.state(id); lined || w.lined[seq] {
			continue
		} else if sent {
			r.allDone = false // sent here: its lines are this worker's
			continue
		}
		h, err := rn.st.Batch(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			r.allSent, r.allDone = false, false
			continue
		}
		if err != nil {
			return nil, round{}, err
		}
		if h.State == store.BatchDone {
			switch {
			case h.Timelined:
				w.lined[seq] = true
			case h.Takeable("", now):
				r.allDone = false
				r.lines = append(r.lines, h.ID)
			default:
				r.allDone = false // another instance writes its lines
			}
			continue
		}
		r.allSent, r.allDone = false, false
		// A batch this instance still sends from is held: not taken again.
		if !h.Takeable("", now) {
			continue
		}
		if ok, err := rn.st.TakeBatch(ctx, h, rn.opts.Owner, rn.opts.Takeover); err != nil || ok {
			w.next = seq + 1
			return h, round{}, err
		}
	}
	return nil, r, nil
}

// finishRun ends a run: the campaign is done, or scheduled for its next run.
func (rn *Runner) finishRun(ctx context.Context, c *store.Campaign) error {
	next := nextRun(c.Schedule, rn.now(), rn.cs.loc)
	_, err := rn.st.MoveCampaign(ctx, "scheduler", c.ID, "finish/"+c.ID+"/"+strconv.Itoa(c.Run),
		store.ActiveCampaignStates(), func(c *store.Campaign) {
			c.State, c.RunAt = store.CampaignDone, nil
			if next != nil {
				c.State, c.RunAt = store.CampaignScheduled, next
			}
		})
	if errors.Is(err, store.ErrCampaignState) {
		return nil
	}
	if err != nil {
		return err
	}
	rn.dropLink(c)
	rn.log.Info("campaign run finished", "campaign", c.Name, "run", c.Run)
	// Every batch is sent and has its timeline lines: the letters are not needed
	// again, who they went to is (the report). Letters a crash leaves cost space only.
	if err := rn.st.DropBatchLetters(ctx, c.ID, c.Run, c.Batches); err != nil && ctx.Err() == nil {
		rn.log.Warn("drop a finished run's letters", "campaign", c.Name, "run", c.Run, "err", err)
	}
	return nil
}

// pause stops a campaign for a reason; resumeAt set means it resumes by itself.
func (rn *Runner) pause(ctx context.Context, c *store.Campaign, reason string, resumeAt *time.Time) error {
	_, err := rn.st.MoveCampaign(ctx, "scheduler", c.ID, "", store.ActiveCampaignStates(), func(c *store.Campaign) {
		c.State, c.PauseReason, c.ResumeAt = store.CampaignPaused, reason, resumeAt
	})
	if errors.Is(err, store.ErrCampaignState) {
		return nil
	}
	rn.log.Warn("campaign paused", "campaign", c.Name, "reason", reason)
	return err
}

// prepareInBackground queues the run's recipients on this instance when it gets the
// preparation's lease; sending goes on meanwhile.
func (rn *Runner) prepareInBackground(ctx context.Context, c *store.Campaign, lk *link) {
	key := prepareKey(c)
	rn.spawn(key, func() {
		defer lk.poke()
		defer rn.leases.Release(key)
		if err := rn.prepare(ctx, c, key, lk); err != nil && ctx.Err() == nil {
			rn.log.Warn("campaign preparation stopped; it goes on later", "campaign", c.Name, "err", err)
		}
	})
}

// prepare queues a run's recipients, handing each batch to this instance's worker as
// it is stored. Progress is saved after each batch; a preparation resumed after a
// crash skips the clients already queued.
func (rn *Runner) prepare(ctx context.Context, c *store.Campaign, lease string, lk *link) error {
	if ok, err := rn.leases.Hold(ctx, lease); !ok || err != nil {
		return err
	}
	done, seq, err := rn.st.QueuedClients(ctx, c.ID, c.Run, c.Batches)
	if err != nil {
		return err
	}
	t, err := rn.cs.template(c)
	if err != nil {
		return err
	}
	seq, _, err = rn.cs.queueRun(ctx, c, c.Run, seq, done, t, func(b *store.Batch, list *store.BatchList) error {
		lk.hand(queued{head: b, list: list})
		if err := rn.st.SetPrepared(ctx, c.ID, c.Run, b.Seq+1, false); err != nil {
			return err
		}
		if ok, err := rn.leases.Hold(ctx, lease); !ok || err != nil {
			return errors.Join(errors.New("lost the preparation's lease"), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rn.st.SetPrepared(ctx, c.ID, c.Run, seq, true)
}

// sendBatch hands a taken batch's messages to the pipeline, group by group, and
// closes fed when it has handed over all it will; then it waits for them, and records
// and releases the batch. list is the batch's list when this instance just queued it
// (nil: read it). It stops at a pause, a lost hold, a dead server or the end of ctx;
// messages under way finish, the rest go back to the queue. done says the batch is
// sent to the end and its lines are left to write.
func (rn *Runner) sendBatch(ctx context.Context, c *store.Campaign, pl *pipeline, running func(context.Context) bool, opted *optOuts, b *store.Batch, list *store.BatchList, fed chan<- struct{}) (done bool, err error) {
	closeFed := sync.OnceFunc(func() { close(fed) })
	defer closeFed()
	if list == nil {
		if list, err = rn.st.BatchList(ctx, b.ID); err != nil {
			return false, err
		}
	}
	if len(list.Recipients) != len(b.States) {
		return false, fmt.Errorf("batch %s lists %d recipients for %d states", b.ID, len(list.Recipients), len(b.States))
	}
	bctx, stop := context.WithCancel(ctx)
	defer stop()
	var lost atomic.Bool
	go func() { // renew the hold while messages are slow (rate limits); losing it stops the sending
		tick := time.NewTicker(rn.opts.Takeover / 3)
		defer tick.Stop()
		for {
			select {
			case <-bctx.Done():
				return
			case <-tick.C:
				ok, err := rn.st.RenewBatch(bctx, b.ID, rn.opts.Owner, b.Takes, rn.opts.Takeover)
				if bctx.Err() == nil && (err != nil || !ok) {
					lost.Store(true)
					stop()
					return
				}
			}
		}
	}()
	p := &progress{ctx: bctx, list: list, states: []byte(b.States), tries: b.Tries, halt: &pl.halted}
	if p.tries == nil {
		p.tries = map[string]store.Try{}
	}
	// The head is written while the end of a group goes out: the outcomes so far and
	// the "sending" marks of the next group, which is handed over only once that
	// write is done. So writes never hold the connections up, and a crash leaves
	// "sending" the unstarted part of one group, and at worst (during that write) the
	// next group too, plus the last messages still in the pipeline (two a connection).
	// Those are reported as cut, never sent again. A write costs the embedded engine
	// close to a millisecond of CPU, so a group is large enough (at least 128
	// messages) for the writes to stay a small part of a campaign's CPU.
	group := max(8*rn.conns(), 128)
	tail := max(2*rn.conns(), 16) // enough to cover the write
	pick := func() ([]int, error) {
		now := rn.now()
		skip, err := opted.since(bctx, b.Queued, now)
		if err != nil {
			return nil, err
		}
		return p.pick(now, group, skip), nil
	}
	window, err := pick()
	if err != nil {
		return false, err
	}
	if ok, err := rn.save(ctx, b, p); err != nil || !ok {
		p.unpick(window)
		return false, err
	}
	var saveErr error
	for len(window) > 0 {
		if p.stopping() || !running(bctx) {
			p.unpick(window)
			break
		}
		split := max(len(window)-tail, 0)
		pl.feed(p, window[:split])
		next, err := pick()
		saved := make(chan error, 1)
		if err != nil {
			saved <- err
		} else if len(next) == 0 {
			saved <- nil // nothing more to mark: the release writes the outcomes
		} else {
			go func() {
				ok, err := rn.save(context.WithoutCancel(ctx), b, p)
				if err == nil && !ok {
					err = errLost
				}
				saved <- err
			}()
		}
		pl.feed(p, window[split:])
		if saveErr = <-saved; saveErr != nil {
			p.unpick(next)
			break
		}
		window = next
	}
	closeFed()
	p.pending.Wait()
	serverDown := p.down.Load()
	if lost.Load() || errors.Is(saveErr, errLost) {
		return false, nil // another instance has the batch now; these outcomes are lost with the hold
	}
	if saveErr != nil {
		if _, err := rn.save(context.WithoutCancel(ctx), b, p); err != nil {
			return false, errors.Join(saveErr, err)
		}
		return false, saveErr
	}
	p.settle(b, rn.now())
	if err := rn.st.ReleaseBatch(context.WithoutCancel(ctx), b, rn.opts.Owner, rn.opts.Takeover); err != nil {
		return false, err
	}
	if serverDown {
		at := rn.now().Add(rn.opts.ServerRetry)
		return false, rn.pause(ctx, c, PauseServerDown, &at)
	}
	return b.State == store.BatchDone && !b.Timelined, nil
}

// errLost says a batch was taken over while this instance worked on it.
var errLost = errors.New("the batch was taken over")

// runningCheck says whether a campaign still runs, reading it at most once in
// StateEvery (twice a second) for all the worker's batches.
func (rn *Runner) runningCheck(id string) func(context.Context) bool {
	var mu sync.Mutex
	var at time.Time
	running := false
	return func(ctx context.Context) bool {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < rn.opts.StateEvery {
			return running
		}
		c, err := rn.st.Campaign(ctx, id)
		at, running = time.Now(), err == nil && c.State.Active()
		return running
	}
}

// save writes a batch's progress to its head.
func (rn *Runner) save(ctx context.Context, b *store.Batch, p *progress) (bool, error) {
	p.mu.Lock()
	b.States, b.Tries = string(p.states), maps.Clone(p.tries)
	p.mu.Unlock()
	return rn.st.SaveBatchProgress(ctx, b, rn.opts.Owner, rn.opts.Takeover)
}

// progress is a held batch's delivery states while its messages go out.
type progress struct {
	ctx     context.Context // ends when the batch's hold is lost or the worker stops
	list    *store.BatchList
	pending sync.WaitGroup // messages handed to the pipeline and not yet recorded
	down    atomic.Bool    // the server could not be reached
	halt    *atomic.Bool   // the pipeline's: the server refused too many in a row

	mu     sync.Mutex
	states []byte
	tries  map[string]store.Try // by recipient index
}

func (p *progress) stopping() bool { return p.ctx.Err() != nil || p.down.Load() || p.halt.Load() }

func (p *progress) state(i int) store.DeliveryState { return store.LetterState(p.states[i]) }

func (p *progress) set(i int, st store.DeliveryState) { p.states[i] = store.StateLetter(st) }

// pick marks up to n messages that are due "sending" and returns them; those whose
// contact is in skip (opted out since the batch was queued) are marked skipped.
func (p *progress) pick(now time.Time, n int, skip map[string]bool) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var picked []int
	for i := range p.states {
		if p.due(i, now) {
			if r := p.list.Recipients[i]; len(skip) > 0 && skip[store.OptOutKey(r.ClientID, r.ContactID)] {
				p.set(i, store.DeliverySkipped)
				continue
			}
			picked = append(picked, i)
			p.set(i, store.DeliverySending)
			if len(picked) == n {
				break
			}
		}
	}
	return picked
}

// due says whether message i is queued, or deferred and its retry time has come.
func (p *progress) due(i int, now time.Time) bool {
	switch p.state(i) {
	case store.DeliveryQueued:
		return true
	case store.DeliveryDeferred:
		next := p.tries[strconv.Itoa(i)].NextTry
		return next == nil || !next.After(now)
	}
	return false
}

// unpick puts messages that were not begun back where they were.
func (p *progress) unpick(picked []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unpickLocked(picked)
}

func (p *progress) unpickLocked(picked []int) {
	for _, i := range picked {
		if _, tried := p.tries[strconv.Itoa(i)]; tried {
			p.set(i, store.DeliveryDeferred)
		} else {
			p.set(i, store.DeliveryQueued)
		}
	}
}

// record notes the outcome of message i's attempt.
func (p *progress) record(i int, how outcome, reply string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := strconv.Itoa(i)
	switch how {
	case notStarted: // nothing was sent: as it was before, the attempt not counted
		p.unpickLocked([]int{i})
		return
	case sent:
		p.set(i, store.DeliverySent)
		delete(p.tries, key)
		return
	}
	try := p.tries[key]
	try.Attempts++
	to, next := transition(how, try.Attempts, now)
	p.set(i, to)
	try.Reply, try.NextTry, try.At = reply, next, &now
	p.tries[key] = try
}

// settle works out a batch's state and counts from its recipients' states.
func (p *progress) settle(b *store.Batch, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b.States, b.Tries = string(p.states), p.tries
	b.NextTry, b.State = nil, store.BatchDone
	for i := range p.states {
		switch p.state(i) {
		case store.DeliveryQueued:
			b.State = store.BatchReady
		case store.DeliveryDeferred:
			if b.State == store.BatchDone {
				b.State = store.BatchWait
			}
			if at := p.tries[strconv.Itoa(i)].NextTry; b.NextTry == nil || at != nil && at.Before(*b.NextTry) {
				b.NextTry = at
			}
		}
	}
	if b.State == store.BatchReady {
		b.NextTry = nil
	}
	if b.State == store.BatchDone {
		b.DoneAt = &now
		b.Timelined = !strings.ContainsRune(b.States, rune(store.StateLetter(store.DeliverySent))) // no lines to write
	}
}
