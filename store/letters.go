package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// MailAddress is a mailbox in a letter's header.
type MailAddress struct {
	Name  string `bson:"name,omitempty"`
	Email string `bson:"email"`
}

// LetterAttachment is a letter's file: its content lives in the files collection.
type LetterAttachment struct {
	Name      string `bson:"name"`
	MIME      string `bson:"mime,omitempty"`
	Size      int64  `bson:"size"`
	FileID    string `bson:"fileId,omitempty"`
	NotStored string `bson:"notStored,omitempty"`
}

// Letter is an e-mail kept whole. Its _id comes from the Message-ID (or the raw
// content's hash), so the same letter read twice is stored once.
type Letter struct {
	ID          string             `bson:"_id"`
	MessageID   string             `bson:"messageId,omitempty"`
	InReplyTo   string             `bson:"inReplyTo,omitempty"`
	References  []string           `bson:"references,omitempty"`
	ThreadID    string             `bson:"threadId,omitempty"` // ThreadID of the conversation
	Subject     string             `bson:"subject"`
	From        MailAddress        `bson:"from"`
	To          []MailAddress      `bson:"to,omitempty"`
	Cc          []MailAddress      `bson:"cc,omitempty"`
	Date        time.Time          `bson:"date"`
	Text        string             `bson:"text,omitempty"`
	HTML        string             `bson:"html,omitempty"`
	Preview     string             `bson:"preview,omitempty"`
	Attachments []LetterAttachment `bson:"attachments,omitempty"`
	Outgoing    bool               `bson:"outgoing,omitempty"` // read from a Sent folder
	Mailbox     string             `bson:"mailbox"`
	Folder      string             `bson:"folder"`
	UID         uint32             `bson:"uid"`
	Problems    []string           `bson:"problems,omitempty"`
	StoredAt    time.Time          `bson:"storedAt"`
	// Clients the letter belongs to, and those whose timeline already shows it.
	Clients []string `bson:"clients,omitempty"`
	Linked  []string `bson:"linked,omitempty"`
	// Unsorted: no client matched; the letter waits in the queue until linked or ignored.
	Unsorted bool `bson:"unsorted,omitempty"`
	// UnknownBounce: a delivery report about no letter the CRM sent to the addresses it
	// names; it marks none of them and waits in the queue.
	UnknownBounce bool `bson:"unknownBounce,omitempty"`
	// HandledAt: a manager marked it dealt with.
	HandledAt *time.Time `bson:"handledAt,omitempty"`
	HandledBy string     `bson:"handledBy,omitempty"`
}

// Recipients lists the addresses in the letter's To and Cc, lower case.
func (l *Letter) Recipients() []string {
	var to []string
	for _, a := range append(slices.Clone(l.To), l.Cc...) {
		to = append(to, strings.ToLower(a.Email))
	}
	return to
}

// LetterID derives a letter's _id from its Message-ID, or from its content's hash
// when it has none.
func LetterID(messageID, hash string) string {
	if messageID = strings.ToLower(strings.Trim(strings.TrimSpace(messageID), "<>")); messageID != "" {
		sum := sha256.Sum256([]byte(messageID))
		return "mid:" + hex.EncodeToString(sum[:16])
	}
	if len(hash) > 32 {
		hash = hash[:32] // 128 bits: enough, and short enough for a button's data
	}
	return "raw:" + hash
}

// ThreadID names a letter's conversation: the LetterID of its first letter, as named
// by References (first the oldest), else In-Reply-To, else the letter itself.
func ThreadID(ownID, inReplyTo string, references []string) string {
	for _, r := range references {
		if strings.Trim(strings.TrimSpace(r), "<>") != "" {
			return LetterID(r, "")
		}
	}
	if strings.Trim(strings.TrimSpace(inReplyTo), "<>") != "" {
		return LetterID(inReplyTo, "")
	}
	return ownID
}

// SaveLetters stores letters in one round trip; stored[i] is false when letter i was
// already there (read before, from another folder, or before a crash).
func (s *Store) SaveLetters(ctx context.Context, letters []*Letter) (stored []bool, err error) {
	stored = make([]bool, len(letters))
	if len(letters) == 0 {
		return stored, nil
	}
	docs := make([]any, len(letters))
	sizes := make([]int, len(letters))
	now := s.now()
	for i, l := range letters {
		l.StoredAt = now
		docs[i] = l
		sizes[i] = len(l.Text) + len(l.HTML) + len(l.Preview)
	}
	there, err := s.insertNew(ctx, colLetters, docs, sizes)
	if err != nil {
		return nil, fmt.Errorf("save letters: %w", err)
	}
	for i := range stored {
		stored[i] = !there[i]
	}
	return stored, nil
}

// LettersExist tells which of the letters are stored (concurrent _id reads).
func (s *Store) LettersExist(ctx context.Context, ids []string) (map[string]bool, error) {
	found := make([]bool, len(ids))
	err := parallel(ctx, len(ids), func(i int) error {
		var doc struct {
			ID string `bson:"_id"`
		}
		err := s.c(colLetters).FindOne(ctx, bson.D{{Key: "_id", Value: ids[i]}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&doc)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		found[i] = err == nil
		return err
	})
	out := make(map[string]bool, len(ids))
	for i, id := range ids {
		if found[i] {
			out[id] = true
		}
	}
	return out, err
}

// PendingLink is a stored letter on its way into clients' timelines: written before
// the letter and removed once every entry is there, so that a crash in between leaves
// a note of what is left to do.
type PendingLink struct {
	LetterID string      `bson:"_id"`
	Clients  []string    `bson:"clients"`
	Entry    Interaction `bson:"entry"`
	At       time.Time   `bson:"at"`
}

// BeginLinks records links to be made, in one round trip, and tells which were
// recorded already: a run that stopped half-way may have made some of them.
func (s *Store) BeginLinks(ctx context.Context, links []PendingLink) (retried map[string]bool, err error) {
	retried = map[string]bool{}
	if len(links) == 0 {
		return retried, nil
	}
	docs := make([]any, len(links))
	now := s.now()
	for i := range links {
		links[i].At = now
		docs[i] = links[i]
	}
	there, err := s.insertNew(ctx, colIngesting, docs, nil)
	if err != nil {
		return nil, fmt.Errorf("record letters to link: %w", err)
	}
	for i := range there {
		retried[links[i].LetterID] = true
	}
	return retried, nil
}

// EndLinks removes the records of links made. The collection holds only links in
// flight, so the filter's scan is short.
func (s *Store) EndLinks(ctx context.Context, letterIDs []string) error {
	if len(letterIDs) == 0 {
		return nil
	}
	if _, err := s.c(colIngesting).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: letterIDs}}}}); err != nil {
		return fmt.Errorf("clear linked letters: %w", err)
	}
	return nil
}

// PendingLinks lists the links recorded and not yet ended: after a restart, what a
// stopped run left to do.
func (s *Store) PendingLinks(ctx context.Context) ([]PendingLink, error) {
	cur, err := s.c(colIngesting).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read letters to link: %w", err)
	}
	var out []PendingLink
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read letters to link: %w", err)
	}
	return out, nil
}

// RecentSourceKeys lists the source keys of a client's newest n timeline entries: what
// an interrupted ingestion may already have written.
func (s *Store) RecentSourceKeys(ctx context.Context, clientID string, n int) (map[string]bool, error) {
	items, _, err := s.Timeline(ctx, clientID, 0, n)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, it := range items {
		if it.SourceKey != "" {
			out[it.SourceKey] = true
		}
	}
	return out, nil
}

// LetterInteraction is the timeline entry that shows a letter.
func LetterInteraction(l *Letter) Interaction {
	kind := InteractionEmailIn
	if l.Outgoing {
		kind = InteractionEmailOut
	}
	at := l.Date
	if at.IsZero() {
		at = l.StoredAt
	}
	// The first lines only: the bucket holding it is read and rewritten whole on every
	// append, and the card shows a few lines; the letter keeps the rest.
	text := l.Preview
	if r := []rune(text); len(r) > 300 {
		text = string(r[:300]) + "…"
	}
	return Interaction{Kind: kind, At: at, AuthorID: "mail", Text: text, SourceKey: "letter:" + l.ID,
		Mail: &MailRef{LetterID: l.ID, MessageID: l.MessageID, Subject: l.Subject, From: l.From.Email}}
}

// SaveFiles stores many files in few round trips; files already stored (same _id) are
// left as they are, so an attachment saved before a crash is not saved twice.
func (s *Store) SaveFiles(ctx context.Context, files []*File) error {
	docs := make([]any, len(files))
	sizes := make([]int, len(files))
	for i, f := range files {
		capContent(f)
		f.At = s.now()
		docs[i], sizes[i] = f, len(f.Data)
	}
	if _, err := s.insertNew(ctx, colFiles, docs, sizes); err != nil {
		return fmt.Errorf("save files: %w", err)
	}
	return nil
}

// Letter reads a stored letter.
func (s *Store) Letter(ctx context.Context, id string) (*Letter, error) {
	return getOne[Letter](ctx, s, colLetters, id)
}

// LetterFor reads a letter for a viewer: one of a client the viewer may see, or one no
// client claims that waits in the unsorted queue (anybody's to sort). Another
// manager's letter is ErrNotFound, like a missing one, so that a forged button can
// neither read it nor tell it exists. The queue entry, not the letter's flag, says it
// waits: it is written before the letter and removed after the flag, so a crash in
// between leaves the letter where a manager can finish sorting it.
func (s *Store) LetterFor(ctx context.Context, v Viewer, id string) (*Letter, error) {
	l, err := s.Letter(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, cid := range l.Clients {
		c, err := s.Client(ctx, cid)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil && v.CanSee(c) {
			return l, nil
		}
	}
	if len(l.Clients) == 0 {
		var queued bson.M
		err := s.getByID(ctx, colUnsorted, l.ID, &queued)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("letter %s: %w", id, ErrNotFound)
}

// LinkLetter puts a letter into a client's timeline once. The timeline entry carries
// the letter's ID as its source key: an entry left by a crash before the letter was
// marked linked is found in the client's newest entries and not added again.
func (s *Store) LinkLetter(ctx context.Context, actor string, l *Letter, clientID string) error {
	if slices.Contains(l.Linked, clientID) {
		return nil
	}
	it := LetterInteraction(l)
	it.AuthorID = actor
	recent, err := s.RecentSourceKeys(ctx, clientID, 2*timelineBucket)
	if err != nil {
		return err
	}
	if !recent[it.SourceKey] {
		if _, err := s.AppendInteraction(ctx, clientID, it); err != nil {
			return err
		}
	}
	l.Linked = append(l.Linked, clientID)
	if !slices.Contains(l.Clients, clientID) {
		l.Clients = append(l.Clients, clientID)
	}
	return s.markLetterLinked(ctx, l.ID, clientID)
}

// SetLetterUnsorted puts a letter in (or takes it out of) the queue of letters no
// client matched. The queue is a document per letter in its own collection, with its
// sender index (waiting.go) written before the entry and cleared after it.
func (s *Store) SetLetterUnsorted(ctx context.Context, l *Letter, unsorted bool) error {
	l.Unsorted = unsorted
	if unsorted && !l.UnknownBounce {
		if err := s.hintWaiting(ctx, l); err != nil {
			return err
		}
	}
	if _, err := s.c(colLetters).UpdateOne(ctx, bson.D{{Key: "_id", Value: l.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "unsorted", Value: unsorted}}}}); err != nil {
		return err
	}
	if !unsorted {
		if _, err := s.c(colUnsorted).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.ID}}); err != nil {
			return err
		}
		for _, key := range waitingKeys(l.From.Email) {
			if err := s.unhintWaiting(ctx, key, []string{l.ID}); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := s.c(colUnsorted).UpdateOne(ctx, bson.D{{Key: "_id", Value: l.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "from", Value: l.From}, {Key: "subject", Value: l.Subject}, {Key: "date", Value: l.Date},
		{Key: "unknownBounce", Value: l.UnknownBounce}}}},
		options.Update().SetUpsert(true))
	return err
}

// UnsortedLetter is an entry of the unsorted queue.
type UnsortedLetter struct {
	LetterID string      `bson:"_id"`
	From     MailAddress `bson:"from"`
	Subject  string      `bson:"subject"`
	Date     time.Time   `bson:"date"`
	// UnknownBounce: see Letter.
	UnknownBounce bool `bson:"unknownBounce,omitempty"`
}

// UnsortedLetters lists the queue, newest first (the queue is small: it is worked off).
func (s *Store) UnsortedLetters(ctx context.Context, limit int64) ([]UnsortedLetter, error) {
	cur, err := s.c(colUnsorted).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "date", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	var out []UnsortedLetter
	return out, cur.All(ctx, &out)
}

// IgnoreSender stops letters from an address (or a whole domain, "@example.com") from
// entering the unsorted queue.
func (s *Store) IgnoreSender(ctx context.Context, actor, address string) error {
	address = strings.ToLower(strings.TrimSpace(address))
	if address == "" {
		return invalidf("an address to ignore is needed")
	}
	_, err := s.c(colIgnored).UpdateOne(ctx, bson.D{{Key: "_id", Value: address}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "by", Value: actor}, {Key: "at", Value: s.now()}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return err
	}
	return s.Audit(ctx, actor, "mail.ignore", "sender", address, nil)
}

// SenderIgnored tells whether letters from an address are ignored (the address or its
// domain): two _id reads.
func (s *Store) SenderIgnored(ctx context.Context, address string) (bool, error) {
	address = strings.ToLower(address)
	_, domain, _ := strings.Cut(address, "@")
	for _, id := range []string{address, "@" + domain} {
		var doc bson.M
		err := s.getByID(ctx, colIgnored, id, &doc)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// MarkBounced records that mail to an address bounced, on the contact that has it, so
// mailings skip it. It returns the client, or ErrNotFound when no contact has it.
func (s *Store) MarkBounced(ctx context.Context, address string) (*Client, error) {
	hit, err := s.FindByEmail(ctx, address)
	if err != nil {
		return nil, err
	}
	email, _ := NormalizeEmail(address)
	p, ok := hit.Client.Contacts[hit.ContactID]
	if !ok || slices.Contains(p.BouncedEmails, email) {
		return hit.Client, nil
	}
	if was, _ := MailableEmail(p); was == email {
		if err := s.recordOptOuts(ctx, OptOutKey(hit.Client.ID, hit.ContactID)); err != nil {
			return nil, err
		}
	}
	defer s.locks.lock(colClients, hit.Client.ID)()
	_, err = s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: hit.Client.ID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "contacts." + hit.ContactID + ".bouncedEmails", Value: email}}}})
	if err != nil {
		return nil, fmt.Errorf("mark bounced: %w", err)
	}
	return hit.Client, s.Audit(ctx, "mail", "contact.bounced", "client", hit.Client.ID, map[string]any{"email": email})
}

// MarkLetterHandled records that someone dealt with a letter (the reply-time control
// stops counting for it).
func (s *Store) MarkLetterHandled(ctx context.Context, actor, id string) error {
	res, err := s.c(colLetters).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "handledAt", Value: s.now()}, {Key: "handledBy", Value: actor}}}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("letter %s: %w", id, ErrNotFound)
	}
	if err := s.MarkAnswered(ctx, []string{id}, actor); err != nil {
		return err
	}
	return s.Audit(ctx, actor, "letter.handled", "letter", id, nil)
}
