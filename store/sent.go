package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The letters the CRM sends itself (campaign letters, birthday greetings) are recorded
// so that a delivery report about one of them can be told from a forged one: anyone
// can send the shared mailbox a report naming any address. A record is one document
// for many letters (a campaign batch's, or one greeting), written with the batch's
// other writes, and each letter's Message-ID names the record and the letter's place
// in it, signed with the record's key: the report's original Message-ID leads to the
// record by _id, and a recipient, who sees their own Message-ID, cannot make another
// recipient's.

// SentKey names a record of sent letters and signs their Message-IDs.
type SentKey struct {
	ID  string `bson:"_id"`
	Key []byte `bson:"key"`
}

// Sent is a record of letters sent: letter i went to To[i].
type Sent struct {
	SentKey `bson:",inline"`
	To      []string  `bson:"to"`   // lower case
	What    string    `bson:"what"` // the batch or the delivery
	At      time.Time `bson:"at"`
}

// NewSentKey makes a record's random name and key.
func NewSentKey() SentKey {
	var b [26]byte
	_, _ = rand.Read(b[:])
	return SentKey{ID: hex.EncodeToString(b[:10]), Key: b[10:]}
}

// MessageID is letter i's Message-ID (without angle brackets), in the sender's domain.
func (k SentKey) MessageID(i int, domain string) string {
	n := strconv.Itoa(i)
	return k.ID + "." + n + "." + k.sign(n) + "@" + domain
}

func (k SentKey) sign(n string) string {
	m := hmac.New(sha256.New, k.Key)
	m.Write([]byte(k.ID + "." + n))
	return hex.EncodeToString(m.Sum(nil)[:10])
}

// parseSentID reads a Message-ID MessageID made: the record's name, the letter's place
// and its signature.
func parseSentID(messageID string) (id string, i int, sig string, ok bool) {
	local, _, found := strings.Cut(strings.ToLower(strings.Trim(strings.TrimSpace(messageID), "<>")), "@")
	parts := strings.Split(local, ".")
	if !found || len(parts) != 3 || len(parts[0]) != 20 || len(parts[2]) != 20 {
		return "", 0, "", false
	}
	i, err := strconv.Atoi(parts[1])
	if err != nil || i < 0 || strconv.Itoa(i) != parts[1] {
		return "", 0, "", false
	}
	return parts[0], i, parts[2], true
}

// RecordSent stores records of letters about to be sent; a record stored before (a
// retry after a crash) is kept as it is.
func (s *Store) RecordSent(ctx context.Context, recs ...*Sent) error {
	docs := make([]any, len(recs))
	now := s.now()
	for i, r := range recs {
		if r.At.IsZero() {
			r.At = now
		}
		for j, a := range r.To {
			r.To[j] = strings.ToLower(a)
		}
		docs[i] = r
	}
	if _, err := s.insertNew(ctx, colSent, docs, nil); err != nil {
		return fmt.Errorf("record sent letters: %w", err)
	}
	return nil
}

// SentTo lists the addresses the CRM sent the letter with this Message-ID to: its
// recipient when the CRM recorded it (a campaign letter, a greeting), else the To and
// Cc of a letter read from a Sent folder of the shared mailbox. None: the CRM knows of
// no such letter. One or two reads by _id.
func (s *Store) SentTo(ctx context.Context, messageID string) ([]string, error) {
	if id, i, sig, ok := parseSentID(messageID); ok {
		var r Sent
		err := s.getByID(ctx, colSent, id, &r)
		switch {
		case err == nil && i < len(r.To) && hmac.Equal([]byte(sig), []byte(r.sign(strconv.Itoa(i)))):
			return []string{r.To[i]}, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	if strings.Trim(strings.TrimSpace(messageID), "<>") == "" {
		return nil, nil
	}
	var l Letter
	err := s.c(colLetters).FindOne(ctx, bson.D{{Key: "_id", Value: LetterID(messageID, "")}},
		options.FindOne().SetProjection(bson.D{{Key: "outgoing", Value: 1}, {Key: "to", Value: 1}, {Key: "cc", Value: 1}})).Decode(&l)
	if errors.Is(err, mongo.ErrNoDocuments) || err == nil && !l.Outgoing {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read letter: %w", err)
	}
	return l.Recipients(), nil
}
