package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The unsorted queue (colUnsorted) has a document per letter, by the letter's _id. It
// can hold years of mail when a mailbox is read before the clients are entered, so
// the letters waiting from one address or company domain are not found by reading it
// (a scan, which grows with it: BenchmarkWaitingLetters). A sender index in colWaiting
// finds them by _id:
//
//	a:<address>       letters queued from the address: {letters, spill}
//	d:<domain>        letters queued from a company domain (never a free mail service's)
//	b:<nn>:<key>      once a head holds waitingHeadCap letters, the rest go to 256
//	                  buckets by a hash of the letter's ID, and the head says spill
//
// The index only hints: a letter waits while its queue entry exists, and every reader
// checks that. Hints are written before the queue entry and removed after it, so a
// crash leaves a hint too many, which the next claim of that sender drops, never one
// too few. Bounces of unknown origin are not indexed: they wait for a person.
const (
	waitingHeadCap = 200
	waitingBuckets = 256
	// waitingIndexed marks a base whose queue BackfillWaitingIndex has indexed.
	waitingIndexed = "!indexed"
)

type waitingDoc struct {
	ID      string   `bson:"_id"`
	Letters []string `bson:"letters"`
	Spill   bool     `bson:"spill,omitempty"`
}

// waitingKeys are the index keys of a letter from an address: the address and its
// company domain.
func waitingKeys(from string) []string {
	addr := strings.ToLower(strings.TrimSpace(from))
	if addr == "" {
		return nil
	}
	keys := []string{"a:" + addr}
	if d := CompanyMailDomain(addr); d != "" {
		keys = append(keys, "d:"+d)
	}
	return keys
}

// clientWaitingKeys are the index keys of the letters a client takes: from each of its
// and its contacts' addresses and, for a company, from their company domains.
func clientWaitingKeys(c *Client) []string {
	var keys []string
	add := func(email string) {
		for i, k := range waitingKeys(email) {
			if (i == 0 || c.Kind != KindPerson) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	for _, em := range c.Emails {
		add(em)
	}
	for _, p := range c.ContactList() {
		for _, em := range p.Emails {
			add(em)
		}
	}
	return keys
}

func waitingBucket(key, letterID string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(letterID))
	return fmt.Sprintf("b:%02x:%s", h.Sum32()%waitingBuckets, key)
}

// hintWaiting adds a queued letter to its sender's index documents.
func (s *Store) hintWaiting(ctx context.Context, l *Letter) error {
	for _, key := range waitingKeys(l.From.Email) {
		if err := s.hintWaitingKey(ctx, key, l.ID); err != nil {
			return fmt.Errorf("index the unsorted letter: %w", err)
		}
	}
	return nil
}

func (s *Store) hintWaitingKey(ctx context.Context, key, letterID string) error {
	defer s.locks.lock(colWaiting, key)()
	var head waitingDoc
	if err := s.getByID(ctx, colWaiting, key, &head); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if slices.Contains(head.Letters, letterID) {
		return nil
	}
	target := key
	if head.Spill || len(head.Letters) >= waitingHeadCap {
		if !head.Spill {
			if _, err := s.c(colWaiting).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "spill", Value: true}}}}); err != nil {
				return err
			}
		}
		target = waitingBucket(key, letterID)
	}
	_, err := s.c(colWaiting).UpdateOne(ctx, bson.D{{Key: "_id", Value: target}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "letters", Value: letterID}}}}, options.Update().SetUpsert(true))
	return err
}

// unhintWaiting removes letters from one index key; a head left empty goes.
func (s *Store) unhintWaiting(ctx context.Context, key string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	defer s.locks.lock(colWaiting, key)()
	var head waitingDoc
	err := s.c(colWaiting).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "letters", Value: ids}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&head)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update the unsorted letters' index: %w", err)
	}
	if !head.Spill {
		if len(head.Letters) == 0 {
			_, err = s.c(colWaiting).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
		}
		return err
	}
	byBucket := map[string][]string{}
	for _, id := range ids {
		b := waitingBucket(key, id)
		byBucket[b] = append(byBucket[b], id)
	}
	for b, in := range byBucket {
		if _, err := s.c(colWaiting).UpdateOne(ctx, bson.D{{Key: "_id", Value: b}},
			bson.D{{Key: "$pullAll", Value: bson.D{{Key: "letters", Value: in}}}}); err != nil {
			return fmt.Errorf("update the unsorted letters' index: %w", err)
		}
	}
	return nil
}

// waitingHinted reads the letters an index key hints at: its head, and when the head
// spilled, its buckets (concurrent _id reads).
func (s *Store) waitingHinted(ctx context.Context, key string) ([]string, error) {
	var head waitingDoc
	err := s.getByID(ctx, colWaiting, key, &head)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil || !head.Spill {
		return head.Letters, err
	}
	buckets := make([][]string, waitingBuckets)
	err = parallel(ctx, waitingBuckets, func(i int) error {
		var b waitingDoc
		err := s.getByID(ctx, colWaiting, fmt.Sprintf("b:%02x:%s", i, key), &b)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		buckets[i] = b.Letters
		return err
	})
	return append(head.Letters, slices.Concat(buckets...)...), err
}

// ClaimWaitingLetters moves into a client's history every letter waiting in the
// unsorted queue from one of the client's or its contacts' addresses and, for a
// company, from their company domains: each gets its entry in the client's timeline
// (oldest first, by actor), is marked the client's and leaves the queue. It returns
// the letters it moved.
//
// It reads the sender index and each hinted letter and queue entry by _id. A letter
// already attached to another client is left for a person. Running it again moves
// nothing twice: the order is the entries (found again among the client's newest by
// their source keys), the letters' marks, the queue entries, the hints; a crash
// leaves a letter in the queue that the next claim of its sender, or an attach from
// /inbox, finishes. The letters it returns are read without their text.
func (s *Store) ClaimWaitingLetters(ctx context.Context, actor string, c *Client) ([]*Letter, error) {
	keys := clientWaitingKeys(c)
	hinted := make([][]string, len(keys))
	if err := parallel(ctx, len(keys), func(i int) (err error) {
		hinted[i], err = s.waitingHinted(ctx, keys[i])
		return err
	}); err != nil {
		return nil, fmt.Errorf("read the unsorted letters' index: %w", err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, list := range hinted {
		for _, id := range list {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	letters := make([]*Letter, len(ids))
	queued := make([]bool, len(ids))
	if err := parallel(ctx, len(ids), func(i int) error {
		var entry bson.M
		err := s.getByID(ctx, colUnsorted, ids[i], &entry)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		queued[i] = err == nil
		// Without the text: a prolific sender's thousands of letters stay small.
		var l Letter
		err = s.c(colLetters).FindOne(ctx, bson.D{{Key: "_id", Value: ids[i]}},
			options.FindOne().SetProjection(bson.D{{Key: "text", Value: 0}, {Key: "html", Value: 0}})).Decode(&l)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil // queued and not yet stored: the mailbox is writing it
		}
		letters[i] = &l
		return err
	}); err != nil {
		return nil, fmt.Errorf("read unsorted letters: %w", err)
	}
	var claimed, gone []*Letter // gone: hinted, no longer queued
	var goneIDs []string
	for i, l := range letters {
		switch {
		case !queued[i]:
			goneIDs = append(goneIDs, ids[i])
			if l != nil {
				gone = append(gone, l)
			}
		case l == nil || l.UnknownBounce || (len(l.Clients) > 0 && !slices.Contains(l.Clients, c.ID)):
		case slices.ContainsFunc(waitingKeys(l.From.Email), func(k string) bool { return slices.Contains(keys, k) }):
			claimed = append(claimed, l)
		}
	}
	slices.SortFunc(claimed, func(a, b *Letter) int { return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ID, b.ID)) })
	if err := s.linkClaimed(ctx, actor, c.ID, claimed); err != nil {
		return nil, err
	}
	// The hints last: until here a crash leaves every claimed letter findable again.
	if err := s.crashPoint("claim:dequeued"); err != nil {
		return claimed, err
	}
	// A letter found by its domain is also hinted under its address.
	done := map[string][]string{}
	for _, key := range keys {
		done[key] = slices.Clone(goneIDs)
	}
	for _, l := range slices.Concat(claimed, gone) {
		for _, key := range waitingKeys(l.From.Email) {
			done[key] = append(done[key], l.ID)
		}
	}
	for key, ids := range done {
		if err := s.unhintWaiting(ctx, key, ids); err != nil {
			return claimed, err
		}
	}
	return claimed, nil
}

// linkClaimed writes the claimed letters' timeline entries in one append, then marks
// each letter the client's and takes it off the queue.
func (s *Store) linkClaimed(ctx context.Context, actor, clientID string, claimed []*Letter) error {
	if len(claimed) == 0 {
		return nil
	}
	recent, err := s.RecentSourceKeys(ctx, clientID, len(claimed)+2*timelineBucket)
	if err != nil {
		return err
	}
	var items []Interaction
	for _, l := range claimed {
		it := LetterInteraction(l)
		it.AuthorID = actor
		if !slices.Contains(l.Linked, clientID) && !recent[it.SourceKey] {
			items = append(items, it)
		}
	}
	if err := s.AppendInteractions(ctx, clientID, items); err != nil {
		return err
	}
	if err := s.crashPoint("claim:entries"); err != nil {
		return err
	}
	var mu sync.Mutex
	return parallel(ctx, len(claimed), func(i int) error {
		l := claimed[i]
		if err := s.markLetterLinked(ctx, l.ID, clientID); err != nil {
			return err
		}
		if _, err := s.c(colUnsorted).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.ID}}); err != nil {
			return fmt.Errorf("take letter off the queue: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		l.Unsorted = false
		if !slices.Contains(l.Linked, clientID) {
			l.Linked = append(l.Linked, clientID)
		}
		if !slices.Contains(l.Clients, clientID) {
			l.Clients = append(l.Clients, clientID)
		}
		return nil
	})
}

// markLetterLinked records that a letter is a client's and shows in its timeline.
func (s *Store) markLetterLinked(ctx context.Context, letterID, clientID string) error {
	defer s.locks.lock(colLetters, letterID)()
	_, err := s.c(colLetters).UpdateOne(ctx, bson.D{{Key: "_id", Value: letterID}}, bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "linked", Value: clientID}, {Key: "clients", Value: clientID}}},
		{Key: "$set", Value: bson.D{{Key: "unsorted", Value: false}}},
	})
	if err != nil {
		return fmt.Errorf("mark letter linked: %w", err)
	}
	return nil
}

// WaitingSenders are the index keys with letters waiting, read at one moment.
type WaitingSenders struct{ keys map[string]bool }

// WaitingSenders reads the unsorted queue's sender index whole: a scan of a document
// per sender address and company domain with letters waiting. An import reads it once
// and claims letters only for the clients it names (Any), instead of reading the
// index for every client it creates.
func (s *Store) WaitingSenders(ctx context.Context) (*WaitingSenders, error) {
	cur, err := s.c(colWaiting).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read the unsorted letters' index: %w", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read the unsorted letters' index: %w", err)
	}
	w := &WaitingSenders{keys: map[string]bool{}}
	for _, d := range docs {
		key := d.ID
		if strings.HasPrefix(key, "b:") && len(key) > 5 {
			key = key[5:]
		}
		w.keys[key] = true
	}
	return w, nil
}

// Any tells whether letters may wait for the client (ClaimWaitingLetters has hints to
// read).
func (w *WaitingSenders) Any(c *Client) bool {
	for _, k := range clientWaitingKeys(c) {
		if w.keys[k] {
			return true
		}
	}
	return false
}

// BackfillWaitingIndex indexes the letters a version without the sender index left in
// the unsorted queue, once per base: it reads the queue whole (a cold path, at start
// and in crm migrate) and returns how many letters it indexed.
func (s *Store) BackfillWaitingIndex(ctx context.Context) (int, error) {
	var marker waitingDoc
	err := s.getByID(ctx, colWaiting, waitingIndexed, &marker)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	cur, err := s.c(colUnsorted).Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, fmt.Errorf("read the unsorted queue: %w", err)
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		var e UnsortedLetter
		if err := cur.Decode(&e); err != nil {
			return n, fmt.Errorf("read the unsorted queue: %w", err)
		}
		if e.UnknownBounce {
			continue
		}
		if err := s.hintWaiting(ctx, &Letter{ID: e.LetterID, From: e.From}); err != nil {
			return n, err
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read the unsorted queue: %w", err)
	}
	_, err = s.c(colWaiting).UpdateOne(ctx, bson.D{{Key: "_id", Value: waitingIndexed}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: s.now()}}}}, options.Update().SetUpsert(true))
	return n, err
}
