package campaign

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/crm-team/crm/store"
)

// The "mailing sent" lines of a batch go into its clients' histories once the whole
// run is queued and none of the worker's batches is going out (every letter is out,
// or the rest waits for a retry): one writer per worker takes the batches one after
// another. A batch's lines are one insert of pending lines (store.ShowMailings),
// which the cards show at once; the store numbers them into the timelines later.

// lineQueue is a worker's batches whose letters are all out: finished by its sending
// (held until the worker hands them over) or found so in the database, queued for
// the writer, being written, and written.
type lineQueue struct {
	mu      sync.Mutex
	held    []string
	queued  []string
	writing string
	known   map[string]bool // finished here or handed to the writer: not read again to know it
	written map[string]bool
	closed  bool
	more    chan struct{} // batches were queued, or the queue closed
}

func newLineQueue() *lineQueue {
	return &lineQueue{known: map[string]bool{}, written: map[string]bool{}, more: make(chan struct{}, 1)}
}

// finished notes a batch this worker sent to the end; the worker hands it over.
func (q *lineQueue) finished(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held = append(q.held, id)
	q.known[id] = true
}

// handOver gives the writer the batches finished, and those found in the database
// with their lines left to write.
func (q *lineQueue) handOver(found ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range append(q.held, found...) {
		if id == q.writing || q.written[id] || q.isQueued(id) {
			continue
		}
		q.queued = append(q.queued, id)
		q.known[id] = true
	}
	q.held = q.held[:0]
	if len(q.queued) > 0 {
		select {
		case q.more <- struct{}{}:
		default:
		}
	}
}

func (q *lineQueue) isQueued(id string) bool {
	for _, x := range q.queued {
		if x == id {
			return true
		}
	}
	return false
}

// idle says whether nothing is held, queued or being written.
func (q *lineQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.held) == 0 && len(q.queued) == 0 && q.writing == ""
}

// state says what the worker knows of a batch without reading it: sent (its lines
// are this worker's to write) and lined (written).
func (q *lineQueue) state(id string) (sent, lined bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.known[id], q.written[id]
}

// next waits for a batch to write, and marks it being written; false once the queue
// is closed or ctx ends.
func (q *lineQueue) next(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return "", false
		}
		if len(q.queued) > 0 {
			id := q.queued[0]
			q.queued = q.queued[1:]
			q.writing = id
			q.mu.Unlock()
			return id, true
		}
		q.mu.Unlock()
		select {
		case <-q.more:
		case <-ctx.Done():
			return "", false
		}
	}
}

// wrote ends the writing of a batch; ok says its lines are all written.
func (q *lineQueue) wrote(id string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.writing = ""
	if ok {
		q.written[id] = true
	} else {
		delete(q.known, id) // read again, and taken again, by whoever comes next
	}
}

// close stops the writer once it has written the batch it is on.
func (q *lineQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.more <- struct{}{}:
	default:
	}
}

// writeLines writes the lines of the batches queued, one after another, until the
// queue is closed or ctx ends; it wakes the worker after each.
func (rn *Runner) writeLines(ctx context.Context, c *store.Campaign, q *lineQueue, lk *link, fail func(error)) {
	for {
		id, ok := q.next(ctx)
		if !ok {
			return
		}
		done, err := rn.lineBatch(ctx, c, id)
		q.wrote(id, done)
		lk.poke()
		if err != nil && ctx.Err() == nil {
			fail(err)
		}
	}
}

// lineBatch takes a sent batch and writes its lines; true once they are all written.
// A batch taken meanwhile by another instance, or written already, is left alone.
func (rn *Runner) lineBatch(ctx context.Context, c *store.Campaign, id string) (bool, error) {
	b, err := rn.st.Batch(ctx, id)
	if err != nil {
		return false, err
	}
	if b.State != store.BatchDone || b.Timelined || !b.Takeable("", rn.now()) {
		return b.Timelined, nil
	}
	if ok, err := rn.st.TakeBatch(ctx, b, rn.opts.Owner, rn.opts.Takeover); err != nil || !ok {
		return false, err
	}
	list, err := rn.st.BatchList(ctx, b.ID)
	if err != nil {
		return false, err
	}
	if len(list.Recipients) != len(b.States) {
		return false, fmt.Errorf("batch %s lists %d recipients for %d states", b.ID, len(list.Recipients), len(b.States))
	}
	if ok, err := rn.st.BeginLines(ctx, b, rn.opts.Owner, rn.opts.Takeover); err != nil || !ok {
		return false, err
	}
	if err := rn.writeMailings(ctx, c, b, list); err != nil {
		return false, err
	}
	b.Timelined = true
	return true, rn.st.ReleaseBatch(context.WithoutCancel(ctx), b, rn.opts.Owner, rn.opts.Takeover)
}

// writeMailings puts a "mailing sent" line into the history of each client whose
// contact got the campaign, dated when the batch was finished. Written again (the
// batch's instance stopped meanwhile), each line is still written once.
func (rn *Runner) writeMailings(ctx context.Context, c *store.Campaign, b *store.Batch, list *store.BatchList) error {
	at := rn.now()
	if b.DoneAt != nil {
		at = *b.DoneAt
	}
	byClient := map[string][]store.Interaction{}
	for i, r := range list.Recipients {
		if store.LetterState(b.States[i]) != store.DeliverySent {
			continue
		}
		byClient[r.ClientID] = append(byClient[r.ClientID], store.Interaction{Kind: store.InteractionMailing, At: at,
			ContactID: r.ContactID, AuthorID: "scheduler", Text: fmt.Sprintf("%s → %s", c.Name, r.Email),
			SourceKey: "mailing/" + c.ID + "/" + strconv.Itoa(c.Run) + "/" + r.ContactID})
	}
	if err := rn.st.ShowMailings(ctx, byClient); err != nil {
		return err
	}
	b.Lines = 0
	for _, items := range byClient {
		b.Lines += len(items)
	}
	return nil
}
