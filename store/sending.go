package store

import (
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A campaign run's deliveries are kept in batches (the bucket pattern): the list of a
// batch's recipients in "batchLists", written once when the run is queued, and a small
// head in "batches" that instances take, renew and release, holding each recipient's
// delivery state as one letter. A sender writes the head once before a group of
// messages and once after, not once per message, and never rewrites the list.

// BatchSize is how many recipients a batch holds at most (a client's contacts stay
// together, so a batch may hold a few more). Taking, reading and releasing a batch
// costs the embedded engine about ten operations of close to a millisecond each, the
// same for 500 recipients as for 2,000; a held batch's list is a few megabytes at
// most.
const BatchSize = 2000

// FirstBatchSize is how many recipients a run's first batch holds at most: sending
// begins once it is queued, while the rest are still being rendered, so the first
// letters leave a fraction of a second after the start.
const FirstBatchSize = 250

// BatchLetterBytes is how much rendered letter text a batch holds at most: a held
// batch's list is in memory whole, and it is stored as one document, which MongoDB
// caps at 16 MB. A newsletter of 100 KB makes batches of about 40.
const BatchLetterBytes = 4 << 20

// BatchState is where a batch is.
type BatchState string

// Batch states.
const (
	BatchReady BatchState = "ready" // something to send now
	BatchWait  BatchState = "wait"  // only deferred messages left, due at NextTry
	BatchDone  BatchState = "done"  // every message sent, failed, or cut
)

// DeliveryCounts counts a batch's or a campaign's messages by state. Sending counts
// messages whose SMTP transaction was cut (or whose sender died in it): they may have
// arrived, so they are never sent again and are reported.
type DeliveryCounts struct {
	Queued   int `bson:"queued"`
	Sending  int `bson:"sending"`
	Sent     int `bson:"sent"`
	Failed   int `bson:"failed"`
	Deferred int `bson:"deferred"`
	Skipped  int `bson:"skipped"`
}

// Add adds one state.
func (c *DeliveryCounts) Add(s DeliveryState) {
	switch s {
	case DeliveryQueued:
		c.Queued++
	case DeliverySending:
		c.Sending++
	case DeliverySent:
		c.Sent++
	case DeliveryFailed:
		c.Failed++
	case DeliveryDeferred:
		c.Deferred++
	case DeliverySkipped:
		c.Skipped++
	}
}

// Plus adds another count to this one.
func (c *DeliveryCounts) Plus(o DeliveryCounts) {
	c.Queued += o.Queued
	c.Sending += o.Sending
	c.Sent += o.Sent
	c.Failed += o.Failed
	c.Deferred += o.Deferred
	c.Skipped += o.Skipped
}

// Total is the number of messages counted.
func (c DeliveryCounts) Total() int {
	return c.Queued + c.Sending + c.Sent + c.Failed + c.Deferred + c.Skipped
}

// Batch is a batch's head.
type Batch struct {
	ID         string     `bson:"_id"` // campaign/run/seq
	CampaignID string     `bson:"campaignId"`
	Run        int        `bson:"run"`
	Seq        int        `bson:"seq"`
	State      BatchState `bson:"state"`
	Owner      string     `bson:"owner,omitempty"`
	Until      time.Time  `bson:"until"`
	Takes      int        `bson:"takes"`
	NextTry    *time.Time `bson:"nextTry,omitempty"`
	// Queued is when the list's snapshot was taken: opt-outs since then are skipped.
	Queued time.Time `bson:"queued"`
	// Excluded counts the contacts of the batch's clients that got no letter from the
	// start (no consent, unsubscribed, bounced, no e-mail): the list's Skipped.
	Excluded int `bson:"excluded,omitempty"`
	// States holds recipient i's delivery state as letter i (see StateLetter).
	States string `bson:"states"`
	// Tries keeps, by recipient index, what more than a plain first attempt left:
	// retries, refusals, cut transactions, and why a recipient was skipped when
	// queued.
	Tries     map[string]Try `bson:"tries,omitempty"`
	Counts    DeliveryCounts `bson:"counts"`
	Timelined bool           `bson:"timelined"`        // the "mailing sent" entries are written
	Lining    bool           `bson:"lining,omitempty"` // their writing has begun
	// Lines counts the entries written so far while Lining, for the campaign's
	// status; a batch Timelined has one for each letter sent.
	Lines  int        `bson:"lines,omitempty"`
	DoneAt *time.Time `bson:"doneAt,omitempty"`
	// wrote is when this process last sent a write of the head under its hold, which
	// renewed the hold until wrote+ttl: see SaveBatchProgress.
	wrote time.Time
}

// LinesWritten is how many "mailing sent" entries of the batch are written.
func (b *Batch) LinesWritten() int {
	if b.Timelined {
		return b.Counts.Sent
	}
	return b.Lines
}

// Try is a recipient's attempts so far, the server's last reply, when it came (At) and
// when to try again.
type Try struct {
	Attempts int        `bson:"attempts"`
	Reply    string     `bson:"reply,omitempty"`
	NextTry  *time.Time `bson:"nextTry,omitempty"`
	At       *time.Time `bson:"at,omitempty"`
}

// StateLetter is a delivery state as Batch.States keeps it.
func StateLetter(s DeliveryState) byte {
	switch s {
	case DeliverySending:
		return 's'
	case DeliverySent:
		return 'S'
	case DeliveryFailed:
		return 'f'
	case DeliveryDeferred:
		return 'd'
	case DeliverySkipped:
		return 'x'
	}
	return 'q'
}

// LetterState reads a letter of Batch.States (read for every recipient at every
// group, so a switch, not a map).
func LetterState(l byte) DeliveryState {
	switch l {
	case 's':
		return DeliverySending
	case 'S':
		return DeliverySent
	case 'f':
		return DeliveryFailed
	case 'd':
		return DeliveryDeferred
	case 'x':
		return DeliverySkipped
	}
	return DeliveryQueued
}

// Takeable says whether owner may take the batch now: it has messages to send or
// "mailing sent" lines to write, it is not waiting for a retry, and nobody else holds
// it.
func (b *Batch) Takeable(owner string, now time.Time) bool {
	switch {
	case b.State == BatchDone && b.Timelined,
		b.State == BatchWait && b.NextTry != nil && b.NextTry.After(now),
		b.Owner != "" && b.Owner != owner && b.Until.After(now):
		return false
	}
	return true
}

// CountStates counts a Batch.States.
func CountStates(states string) DeliveryCounts {
	var n DeliveryCounts
	for i := range len(states) {
		n.Add(LetterState(states[i]))
	}
	return n
}

// ReplyCount is a server's reply and how many letters got it.
type ReplyCount struct {
	Reply string
	N     int
}

// FailureReplies counts the replies the failed letters of batches got (a refusal's
// text), the most frequent first, at most top of them; a failure without a reply is
// left out.
func FailureReplies(heads []Batch, top int) []ReplyCount {
	return stateReplies(heads, DeliveryFailed, top)
}

// SkipReasons counts why letters were skipped when they were queued (their letter
// could not be rendered for them), the most frequent first, at most top of them.
// Those skipped because their contact opted out since have no reason and are left
// out.
func SkipReasons(heads []Batch, top int) []ReplyCount {
	return stateReplies(heads, DeliverySkipped, top)
}

func stateReplies(heads []Batch, state DeliveryState, top int) []ReplyCount {
	n := map[string]int{}
	for _, b := range heads {
		for i := range len(b.States) {
			if reply := b.Tries[strconv.Itoa(i)].Reply; reply != "" && LetterState(b.States[i]) == state {
				n[reply]++
			}
		}
	}
	out := make([]ReplyCount, 0, len(n))
	for reply, k := range n {
		out = append(out, ReplyCount{Reply: reply, N: k})
	}
	slices.SortFunc(out, func(a, b ReplyCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Reply, b.Reply))
	})
	return out[:min(len(out), top)]
}

// BatchList is a batch's recipients.
type BatchList struct {
	ID         string           `bson:"_id"`
	Recipients []BatchRecipient `bson:"recipients"`
	// Skipped are the contacts of the batch's clients that get no letter, each with
	// why (BatchRecipient.Skip): the report of a campaign's outcomes lists them.
	Skipped []BatchRecipient `bson:"skipped,omitempty"`
	// Sent makes recipient i's Message-ID (Sent.MessageID(i, …)), recorded with the
	// batch; lists queued before letters were recorded have none.
	Sent SentKey `bson:"sent"`
}

// BatchRecipient is one message of a batch: who gets it, and a snapshot of what the
// template shows, taken when the run was queued.
type BatchRecipient struct {
	ClientID    string            `bson:"client"`
	ContactID   string            `bson:"contact"`
	Email       string            `bson:"email"`
	ManagerID   string            `bson:"manager,omitempty"`
	ContactName string            `bson:"contactName"`
	Position    string            `bson:"position,omitempty"`
	ClientName  string            `bson:"clientName"`
	City        string            `bson:"city,omitempty"`
	Industry    string            `bson:"industry,omitempty"`
	Custom      map[string]string `bson:"custom,omitempty"`
	// Letter is the recipient's letter as rendered when the run was queued: what
	// start checked is what goes out, and sending renders nothing again; the fields
	// above it that only the template reads are then left empty. Lists queued before
	// letters were kept have none; theirs are rendered when sent.
	Letter *BatchLetter `bson:"letter,omitempty"`
	// Problem says why the letter could not be rendered when the run was queued:
	// the recipient is skipped with it as the reason, the others get theirs.
	Problem string `bson:"problem,omitempty"`
	// Skip says why a contact of the segment gets no letter (in BatchList.Skipped).
	Skip string `bson:"skip,omitempty"`
}

// Who is the recipient without their letter and what only the template reads: what
// a finished run keeps.
func (r BatchRecipient) Who() BatchRecipient {
	return BatchRecipient{ClientID: r.ClientID, ContactID: r.ContactID, Email: r.Email, ContactName: r.ContactName,
		ClientName: r.ClientName, Problem: r.Problem, Skip: r.Skip}
}

// BatchLetter is a rendered campaign letter and its recipient's unsubscribe link.
type BatchLetter struct {
	Subject     string `bson:"subject"`
	Text        string `bson:"text"`
	HTML        string `bson:"html,omitempty"`
	Unsubscribe string `bson:"unsubscribe,omitempty"`
}

// BatchID names batch seq of a campaign's run.
func BatchID(campaignID string, run, seq int) string {
	return campaignID + "/" + strconv.Itoa(run) + "/" + strconv.Itoa(seq)
}

// QueueBatch stores a batch: the record of its letters first (see Sent), then its
// list, then its head, so a head always has its list and a list its record. A batch
// already stored (a preparation resumed after a crash) is kept as it is; the record
// written for it again is never used. A recipient with a Problem is queued skipped,
// with the problem as the reason.
func (s *Store) QueueBatch(ctx context.Context, b *Batch, list *BatchList) error {
	b.ID = BatchID(b.CampaignID, b.Run, b.Seq)
	list.ID = b.ID
	if list.Sent.ID == "" {
		list.Sent = NewSentKey()
	}
	rec := &Sent{SentKey: list.Sent, What: "batch " + b.ID, To: make([]string, len(list.Recipients))}
	for i, r := range list.Recipients {
		rec.To[i] = r.Email
	}
	if err := s.RecordSent(ctx, rec); err != nil {
		return fmt.Errorf("queue batch: %w", err)
	}
	b.State, b.Queued = BatchReady, s.now()
	states := []byte(strings.Repeat(string(StateLetter(DeliveryQueued)), len(list.Recipients)))
	for i, r := range list.Recipients {
		if r.Problem != "" {
			states[i] = StateLetter(DeliverySkipped)
			if b.Tries == nil {
				b.Tries = map[string]Try{}
			}
			b.Tries[strconv.Itoa(i)] = Try{Reply: r.Problem}
		}
	}
	b.States = string(states)
	b.Counts, b.Excluded = CountStates(b.States), len(list.Skipped)
	if len(list.Recipients) == 0 { // skipped contacts only: nothing to send or line
		b.State, b.Timelined, b.DoneAt = BatchDone, true, &b.Queued
	}
	doc, err := encodeList(list)
	if err != nil {
		return err
	}
	if _, err := s.insertNew(ctx, colBatchLists, []any{doc}, nil); err != nil {
		return fmt.Errorf("queue batch: %w", err)
	}
	if _, err := s.insertNew(ctx, colBatches, []any{b}, nil); err != nil {
		return fmt.Errorf("queue batch: %w", err)
	}
	return nil
}

// QueuedClients lists the clients already in a run's batches and the number the next
// batch takes: a preparation resumed after a crash skips those clients. n is the
// number of batches recorded; one more may have been stored just before the crash.
func (s *Store) QueuedClients(ctx context.Context, campaignID string, run, n int) (map[string]bool, int, error) {
	out, next := map[string]bool{}, 0
	for seq := range n + 1 {
		list, err := s.BatchList(ctx, BatchID(campaignID, run, seq))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		for _, r := range slices.Concat(list.Recipients, list.Skipped) {
			out[r.ClientID] = true
		}
		next = seq + 1
	}
	return out, next, nil
}

// SetPrepared records how many batches a run has queued so far, and whether that is
// all of them.
func (s *Store) SetPrepared(ctx context.Context, campaignID string, run, batches int, done bool) error {
	// The engine writes the whole campaign back: a move written meanwhile would be lost.
	defer s.locks.lock(colCampaigns, campaignID)()
	_, err := s.c(colCampaigns).UpdateOne(ctx, bson.D{{Key: "_id", Value: campaignID}, {Key: "run", Value: run}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "batches", Value: batches}, {Key: "prepared", Value: done}, {Key: "updatedAt", Value: s.now()}}}})
	return err
}

// Batch reads a batch's head.
func (s *Store) Batch(ctx context.Context, id string) (*Batch, error) {
	return getOne[Batch](ctx, s, colBatches, id)
}

// Batches reads the heads of a run's first n batches, by _id: a query on the
// campaign would read every head of every campaign on the embedded engine. A batch
// not stored (yet) is left out.
func (s *Store) Batches(ctx context.Context, campaignID string, run, n int) ([]Batch, error) {
	out := make([]Batch, 0, n)
	for seq := range n {
		b, err := s.Batch(ctx, BatchID(campaignID, run, seq))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read batches: %w", err)
		}
		out = append(out, *b)
	}
	return out, nil
}

// BatchList reads a batch's recipients.
func (s *Store) BatchList(ctx context.Context, id string) (*BatchList, error) {
	var doc batchListDoc
	if err := s.getByID(ctx, colBatchLists, id, &doc); err != nil {
		return nil, err
	}
	data := doc.Data
	if doc.Deflated {
		// Sized once: growing the buffer as it fills allocated twice the list again.
		buf := bytes.NewBuffer(make([]byte, 0, doc.Size+bytes.MinRead))
		if _, err := buf.ReadFrom(flate.NewReader(bytes.NewReader(doc.Data))); err != nil {
			return nil, fmt.Errorf("batch %s: %w", id, err)
		}
		data = buf.Bytes()
	}
	var body listBody
	if err := bson.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("batch %s: %w", id, err)
	}
	list := &BatchList{ID: doc.ID, Recipients: body.R, Skipped: body.X}
	if doc.Sent != nil {
		list.Sent = *doc.Sent
	}
	return list, nil
}

// batchListDoc stores a list as one BSON blob: it is written once and read whole, and
// the embedded engine reads one binary field far faster than hundreds of documents.
// The blob is deflated: the embedded engine keeps binary data as base64 in JSON and
// reads it a character at a time, so the fewer bytes, the faster a list is read.
// Deflated false marks a list stored plain; it is read as it is.
type batchListDoc struct {
	ID       string   `bson:"_id"`
	N        int      `bson:"n"`
	Data     []byte   `bson:"data"`
	Deflated bool     `bson:"deflated,omitempty"`
	Size     int      `bson:"size,omitempty"` // of the list inflated
	Sent     *SentKey `bson:"sent,omitempty"`
}

// listBody is what a list's blob holds.
type listBody struct {
	R []BatchRecipient `bson:"r"`
	X []BatchRecipient `bson:"x,omitempty"` // BatchList.Skipped
}

func encodeList(list *BatchList) (*batchListDoc, error) {
	data, err := bson.Marshal(listBody{R: list.Recipients, X: list.Skipped})
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", list.ID, err)
	}
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestSpeed)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", list.ID, err)
	}
	doc := &batchListDoc{ID: list.ID, N: len(list.Recipients), Data: z.Bytes(), Deflated: true, Size: len(data)}
	if list.Sent.ID != "" {
		doc.Sent = &list.Sent
	}
	return doc, nil
}

// DropBatches removes a run's batches: a start refused after they were queued.
func (s *Store) DropBatches(ctx context.Context, campaignID string, run, n int) error {
	return s.dropBatchDocs(ctx, campaignID, run, n, colBatches, colBatchLists)
}

// DropBatchLetters keeps of the lists of a run that is over only who each recipient
// is (BatchRecipient.Who): the letters are sent and their timeline lines written, and
// a list keeps every recipient's letter, about 130 KB for 2,000. Who they went to,
// with the heads' states, is the run's report.
func (s *Store) DropBatchLetters(ctx context.Context, campaignID string, run, n int) error {
	for seq := range n {
		id := BatchID(campaignID, run, seq)
		list, err := s.BatchList(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for i, r := range list.Recipients {
			list.Recipients[i] = r.Who()
		}
		doc, err := encodeList(list)
		if err != nil {
			return err
		}
		if _, err := s.c(colBatchLists).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc); err != nil {
			return fmt.Errorf("drop the letters of batch %s: %w", id, err)
		}
	}
	return nil
}

func (s *Store) dropBatchDocs(ctx context.Context, campaignID string, run, n int, cols ...string) error {
	for seq := range n {
		id := BatchID(campaignID, run, seq)
		for _, col := range cols {
			if _, err := s.c(col).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
				return fmt.Errorf("drop batch %s: %w", id, err)
			}
		}
	}
	return nil
}

// TakeBatch gives the batch whose head the caller read to owner for ttl, when nobody
// works on it and it has something to do: messages to send now, or "mailing sent"
// entries to write. Each take is claimed, so two instances never take one batch at
// once (a head read before someone else's take loses the claim); one whose owner
// stopped renewing is taken over when its time runs out. On success b is the head
// taken.
func (s *Store) TakeBatch(ctx context.Context, b *Batch, owner string, ttl time.Duration) (bool, error) {
	now := s.now()
	if !b.Takeable(owner, now) {
		return false, nil
	}
	won, err := s.Claim(ctx, "batch/"+b.ID+"/"+strconv.Itoa(b.Takes))
	if err != nil || !won {
		return false, err
	}
	b.Takes++
	b.Owner, b.Until, b.wrote = owner, now.Add(ttl), now
	if err := s.writeHead(ctx, b.ID, bson.D{{Key: "owner", Value: owner}, {Key: "until", Value: b.Until}, {Key: "takes", Value: b.Takes}}); err != nil {
		return false, fmt.Errorf("take batch: %w", err)
	}
	return true, nil
}

// RenewBatch extends owner's hold on a batch; false means the batch was taken over
// (its owner must stop at once).
func (s *Store) RenewBatch(ctx context.Context, id, owner string, takes int, ttl time.Duration) (bool, error) {
	if ok, err := s.stillHeld(ctx, id, owner, takes); !ok || err != nil {
		return false, err
	}
	return true, s.writeHead(ctx, id, bson.D{{Key: "until", Value: s.now().Add(ttl)}})
}

// SaveBatchProgress writes a held batch's delivery states and renews the hold; false
// means the batch was taken over. It is written once per group of messages, so the
// hold is checked only when this process's last write of the head is older than a
// third of ttl: until then that write's renewal keeps everyone else off, with room
// for the instances' clocks to differ by as much again.
func (s *Store) SaveBatchProgress(ctx context.Context, b *Batch, owner string, ttl time.Duration) (bool, error) {
	b.Counts = CountStates(b.States)
	return s.writeHeld(ctx, b, owner, ttl, bson.D{{Key: "states", Value: b.States}, {Key: "tries", Value: b.Tries},
		{Key: "counts", Value: b.Counts}})
}

// BeginLines records that a held batch's "mailing sent" entries are being written, so
// that a later take knows some may be written already; false means the batch was
// taken over.
func (s *Store) BeginLines(ctx context.Context, b *Batch, owner string, ttl time.Duration) (bool, error) {
	b.Lining = true
	return s.writeHeld(ctx, b, owner, ttl, bson.D{{Key: "lining", Value: true}})
}

// SaveLines records how many of a held batch's "mailing sent" entries are written and
// renews the hold; false means the batch was taken over.
func (s *Store) SaveLines(ctx context.Context, b *Batch, owner string, ttl time.Duration) (bool, error) {
	return s.writeHeld(ctx, b, owner, ttl, bson.D{{Key: "lines", Value: b.Lines}})
}

// writeHeld writes fields of a head that owner holds and renews the hold.
func (s *Store) writeHeld(ctx context.Context, b *Batch, owner string, ttl time.Duration, set bson.D) (bool, error) {
	now := s.now()
	if ok, err := s.holdsFresh(ctx, b, owner, ttl, now); !ok || err != nil {
		return false, err
	}
	if err := s.writeHead(ctx, b.ID, append(set, bson.E{Key: "until", Value: now.Add(ttl)})); err != nil {
		return false, err
	}
	b.wrote = now
	return true, nil
}

// holdsFresh says whether owner still holds b: known without a read while this
// process's last write of the head is younger than a third of ttl (see
// SaveBatchProgress), read back otherwise.
func (s *Store) holdsFresh(ctx context.Context, b *Batch, owner string, ttl time.Duration, now time.Time) (bool, error) {
	if now.Sub(b.wrote) < ttl/3 {
		return true, nil
	}
	return s.stillHeld(ctx, b.ID, owner, b.Takes)
}

// ReleaseBatch records where owner left a batch and frees it for any instance; the
// hold is checked as SaveBatchProgress does.
func (s *Store) ReleaseBatch(ctx context.Context, b *Batch, owner string, ttl time.Duration) error {
	if ok, err := s.holdsFresh(ctx, b, owner, ttl, s.now()); !ok || err != nil {
		return err
	}
	b.Counts = CountStates(b.States)
	return s.writeHead(ctx, b.ID, bson.D{
		{Key: "state", Value: b.State}, {Key: "nextTry", Value: b.NextTry}, {Key: "states", Value: b.States}, {Key: "tries", Value: b.Tries},
		{Key: "counts", Value: b.Counts}, {Key: "timelined", Value: b.Timelined}, {Key: "lines", Value: b.Lines}, {Key: "doneAt", Value: b.DoneAt},
		{Key: "owner", Value: ""}, {Key: "until", Value: time.Time{}},
	})
}

// stillHeld says whether a batch's head still names owner and its takes-th take.
// Writes under a hold are then filtered by _id alone: a filter with owner and takes
// in it reads every head of every campaign on the embedded engine.
// Takes are claimed, and a hold is taken over only after its owner stopped writing
// for a whole ttl, so an owner that still renews is never overwritten between the
// read and the write.
func (s *Store) stillHeld(ctx context.Context, id, owner string, takes int) (bool, error) {
	var h struct {
		Owner string `bson:"owner"`
		Takes int    `bson:"takes"`
	}
	err := s.c(colBatches).FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "owner", Value: 1}, {Key: "takes", Value: 1}})).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read batch %s: %w", id, err)
	}
	return h.Owner == owner && h.Takes == takes, nil
}

func (s *Store) writeHead(ctx context.Context, id string, set bson.D) error {
	if _, err := s.c(colBatches).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		return fmt.Errorf("write batch %s: %w", id, err)
	}
	return nil
}

// AppendMailings writes one "mailing sent" entry per item into a client's timeline.
// With again set (a batch whose entries were being written when its instance
// stopped) it skips those the client's newest entries already hold.
func (s *Store) AppendMailings(ctx context.Context, clientID string, items []Interaction, again bool) error {
	if again {
		recent, err := s.RecentSourceKeys(ctx, clientID, len(items)+timelineBucket)
		if errors.Is(err, ErrNotFound) {
			return nil // the client was deleted since
		}
		if err != nil {
			return err
		}
		fresh := items[:0]
		for _, it := range items {
			if !recent[it.SourceKey] {
				fresh = append(fresh, it)
			}
		}
		items = fresh
	}
	err := s.AppendInteractions(ctx, clientID, items)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Campaigns lists campaigns in the given states (all when none is given).
func (s *Store) Campaigns(ctx context.Context, states ...CampaignState) ([]Campaign, error) {
	filter := bson.D{}
	if len(states) > 0 {
		filter = bson.D{{Key: "state", Value: bson.D{{Key: "$in", Value: states}}}}
	}
	cur, err := s.c(colCampaigns).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Campaign
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	return out, nil
}

// migrateCampaignStates moves the campaigns an earlier version left "running" to
// where their run is: preparing while nothing is queued, sending otherwise (a runner
// moves one whose letters are all out on to finishing). Campaigns are few: the scan
// is cheap, and finds nothing once done.
func (s *Store) migrateCampaignStates(ctx context.Context) error {
	for _, m := range []struct {
		filter bson.D
		to     CampaignState
	}{
		{bson.D{{Key: "state", Value: campaignRunning}, {Key: "batches", Value: 0}}, CampaignPreparing},
		{bson.D{{Key: "state", Value: campaignRunning}}, CampaignSending},
	} {
		if _, err := s.c(colCampaigns).UpdateMany(ctx, m.filter, bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: m.to}}}}); err != nil {
			return fmt.Errorf("move running campaigns to %s: %w", m.to, err)
		}
	}
	return nil
}

// ErrCampaignState says a campaign is not in a state that allows the change.
var ErrCampaignState = errors.New("the campaign cannot do that now")

// MoveCampaign moves a campaign from one of the states in from to the state the
// change sets, and writes the change (run, schedule, reasons) with it. The move is
// claimed under key (empty: no claim), so when several instances see a scheduled run
// come due, one starts it.
func (s *Store) MoveCampaign(ctx context.Context, actor, id, key string, from []CampaignState, change func(*Campaign)) (*Campaign, error) {
	c, old, err := s.moveCampaign(ctx, id, key, from, change)
	if err != nil {
		return c, err
	}
	return c, s.Audit(ctx, actor, "campaign."+string(c.State), "campaign", c.ID, map[string]any{"from": old, "run": c.Run, "reason": c.PauseReason})
}

// moveCampaign reads, checks and writes a move under the campaign's lock: the
// embedded engine's update reads the document and writes it back whole, so a
// preparation's progress written meanwhile (SetPrepared) would undo the move.
func (s *Store) moveCampaign(ctx context.Context, id, key string, from []CampaignState, change func(*Campaign)) (*Campaign, CampaignState, error) {
	defer s.locks.lock(colCampaigns, id)()
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, "", err
	}
	ok := false
	for _, st := range from {
		ok = ok || c.State == st
	}
	if !ok {
		return c, "", fmt.Errorf("%w: campaign %q is %s", ErrCampaignState, c.Name, c.State)
	}
	if key != "" {
		won, err := s.Claim(ctx, key)
		if err != nil {
			return nil, "", err
		}
		if !won {
			return c, "", fmt.Errorf("%w: someone else just changed campaign %q", ErrCampaignState, c.Name)
		}
	}
	old, oldRun := c.State, c.Run
	change(c)
	c.UpdatedAt = s.now()
	// Only what a move changes is written: the preparation's progress, written by
	// another instance meanwhile, stays.
	set := bson.D{{Key: "state", Value: c.State}, {Key: "run", Value: c.Run}, {Key: "runAt", Value: c.RunAt},
		{Key: "pauseReason", Value: c.PauseReason}, {Key: "resumeAt", Value: c.ResumeAt}, {Key: "updatedAt", Value: c.UpdatedAt}}
	if c.Run != oldRun { // a new run: the change says what is queued for it
		set = append(set, bson.E{Key: "prepared", Value: c.Prepared}, bson.E{Key: "batches", Value: c.Batches})
	}
	r, err := s.c(colCampaigns).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: old}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return nil, "", fmt.Errorf("change campaign: %w", err)
	}
	if r.MatchedCount == 0 {
		return c, "", fmt.Errorf("%w: someone else just changed campaign %q", ErrCampaignState, c.Name)
	}
	return c, old, nil
}
