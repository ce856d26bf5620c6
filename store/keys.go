package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A key document says which client (and contact) owns a natural key. The write order
// keeps keys and clients consistent without transactions:
//
//   - a key is inserted before the client document that lists it, and removed after
//     the client stops listing it;
//   - so a crash can leave only a stale key (one its client does not list), never a
//     client whose key is missing;
//   - every look-up checks the client still lists the key, so a stale key is never
//     followed, and RepairKeys deletes stale keys and recreates missing ones.
type keyDoc struct {
	ID         string    `bson:"_id"`
	ClientID   string    `bson:"client"`
	ContactID  string    `bson:"contact,omitempty"`
	ClientName string    `bson:"name"`
	CreatedAt  time.Time `bson:"createdAt"`
}

// staleGrace protects a key that was just inserted for a client whose document is
// being written: it is not taken over or repaired away before this has passed.
const staleGrace = 2 * time.Minute

// KeyTakenError says that a phone, e-mail or INN already belongs to another client.
type KeyTakenError struct {
	Key        string // e.g. "email:anna@romashka.ru"
	ClientID   string
	ClientName string
}

func (e *KeyTakenError) Error() string {
	kind, value, _ := strings.Cut(e.Key, ":")
	what := map[string]string{"email": "e-mail", "phone": "phone", "inn": "INN", "tg": "Telegram account"}[kind]
	return fmt.Sprintf("%s %s already belongs to client %q; open that card, or remove it there first", what, value, e.ClientName)
}

// keysOf lists the natural keys a client document owns, with the contact of each.
func keysOf(c *Client) (map[string]string, error) {
	keys := map[string]string{}
	add := func(key, contact string) error {
		if prev, ok := keys[key]; ok && prev != contact {
			kind, value, _ := strings.Cut(key, ":")
			return invalidf("%s %s is given twice in this client's card", kind, value)
		}
		keys[key] = contact
		return nil
	}
	if c.Legal.INN != "" {
		if err := add(keyINN+c.Legal.INN, ""); err != nil {
			return nil, err
		}
	}
	for _, e := range c.Emails {
		if err := add(keyEmail+e, ""); err != nil {
			return nil, err
		}
	}
	for _, p := range c.Phones {
		if err := add(keyPhone+p, ""); err != nil {
			return nil, err
		}
	}
	for _, p := range c.ContactList() {
		for _, e := range p.Emails {
			if err := add(keyEmail+e, p.ID); err != nil {
				return nil, err
			}
		}
		for _, ph := range p.Phones {
			if err := add(keyPhone+ph, p.ID); err != nil {
				return nil, err
			}
		}
	}
	return keys, nil
}

// claim is a request to own some keys for one client.
type claim struct {
	clientID, clientName string
	keys                 map[string]string // key -> contact
}

// claimKeys inserts the key documents of several clients in one batch. A client whose
// keys cannot all be had gets an error (a *KeyTakenError when another client owns one)
// and keeps none of the keys this call inserted for it.
func (s *Store) claimKeys(ctx context.Context, claims []claim) []error {
	errs := make([]error, len(claims))
	now := s.now()
	var docs []any
	var owner []int // docs[i] belongs to claims[owner[i]]
	for i, cl := range claims {
		for k, contact := range cl.keys {
			docs = append(docs, keyDoc{ID: k, ClientID: cl.clientID, ContactID: contact, ClientName: cl.clientName, CreatedAt: now})
			owner = append(owner, i)
		}
	}
	if len(docs) == 0 {
		return errs
	}
	inserted := make([]bool, len(docs))
	for i := range inserted {
		inserted[i] = true
	}
	_, err := s.c(colKeys).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil:
		for _, we := range bwe.WriteErrors {
			inserted[we.Index] = false
			if !mongo.IsDuplicateKeyError(we) {
				errs[owner[we.Index]] = fmt.Errorf("save key: %s", we.Message)
			}
		}
	default:
		// Unknown outcome: give up on the whole batch and take back what may have landed.
		for i := range errs {
			errs[i] = fmt.Errorf("save keys: %w", err)
		}
		s.releaseInserted(ctx, docs, func(int) bool { return true })
		return errs
	}

	// Keys already present: ours from an earlier try, taken by another client, or stale.
	var present []int
	for i, ok := range inserted {
		if !ok && errs[owner[i]] == nil {
			present = append(present, i)
		}
	}
	keyErrs := make([]error, len(present))
	if err := parallel(ctx, len(present), func(k int) error {
		keyErrs[k] = s.takeExistingKey(ctx, docs[present[k]].(keyDoc))
		return nil
	}); err != nil {
		return fillErrs(errs, err)
	}
	for k, err := range keyErrs {
		if i := present[k]; err != nil && errs[owner[i]] == nil {
			errs[owner[i]] = err
		}
	}

	s.releaseInserted(ctx, docs, func(i int) bool { return inserted[i] && errs[owner[i]] != nil })
	return errs
}

// takeExistingKey resolves a duplicate key: fine when it is already ours, taken over
// when stale, a KeyTakenError when another client holds it.
func (s *Store) takeExistingKey(ctx context.Context, want keyDoc) error {
	for attempt := 0; attempt < 3; attempt++ {
		var have keyDoc
		err := s.getByID(ctx, colKeys, want.ID, &have)
		if errors.Is(err, ErrNotFound) {
			if _, err := s.c(colKeys).InsertOne(ctx, want); err == nil || !mongo.IsDuplicateKeyError(err) {
				return err
			}
			continue // someone inserted it meanwhile: look again
		}
		if err != nil {
			return err
		}
		if have.ClientID == want.ClientID {
			if have.ContactID != want.ContactID || have.ClientName != want.ClientName {
				_, err = s.c(colKeys).UpdateOne(ctx, bson.D{{Key: "_id", Value: want.ID}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "contact", Value: want.ContactID}, {Key: "name", Value: want.ClientName}}}})
			}
			return err
		}
		held, err := s.keyHeld(ctx, have)
		if err != nil {
			return err
		}
		if held {
			return &KeyTakenError{Key: want.ID, ClientID: have.ClientID, ClientName: have.ClientName}
		}
		// Stale: left by a crash between writes. Remove it and race for it again.
		if _, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: want.ID}}); err != nil {
			return err
		}
	}
	return fmt.Errorf("key %s is being changed by someone else; try again", want.ID)
}

// keyHeld reports whether a key document is in force: its client lists the key, or it
// is young enough that its client may still be being written.
func (s *Store) keyHeld(ctx context.Context, k keyDoc) (bool, error) {
	var c Client
	err := s.getByID(ctx, colClients, k.ClientID, &c)
	if errors.Is(err, ErrNotFound) {
		return s.now().Sub(k.CreatedAt) < staleGrace, nil
	}
	if err != nil {
		return false, err
	}
	keys, _ := keysOf(&c)
	if _, ok := keys[k.ID]; ok {
		return true, nil
	}
	return s.now().Sub(k.CreatedAt) < staleGrace, nil
}

func (s *Store) releaseInserted(ctx context.Context, docs []any, which func(int) bool) {
	for i, d := range docs {
		if which(i) {
			s.releaseKey(ctx, d.(keyDoc).ID, d.(keyDoc).ClientID)
		}
	}
}

// releaseKey deletes a key if it still belongs to clientID. A failure only leaves a
// stale key, which look-ups ignore and RepairKeys removes.
func (s *Store) releaseKey(ctx context.Context, key, clientID string) {
	ctx = context.WithoutCancel(ctx)
	var have keyDoc
	if err := s.getByID(ctx, colKeys, key, &have); err != nil || have.ClientID != clientID {
		return
	}
	if _, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		s.log.Warn("release key", "key", key, "err", err)
	}
}

// Hit is a client found by a natural key.
type Hit struct {
	Client    *Client
	ContactID string
}

// lookupKey follows a key to its client, ignoring a stale key.
func (s *Store) lookupKey(ctx context.Context, key string) (*Hit, error) {
	var k keyDoc
	if err := s.getByID(ctx, colKeys, key, &k); err != nil {
		return nil, err
	}
	c, err := s.Client(ctx, k.ClientID)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", key, ErrNotFound)
	}
	keys, _ := keysOf(c)
	contact, ok := keys[key]
	if !ok {
		return nil, fmt.Errorf("key %s: %w", key, ErrNotFound)
	}
	return &Hit{Client: c, ContactID: contact}, nil
}

// FindByEmail finds the client (and contact) with an e-mail address.
func (s *Store) FindByEmail(ctx context.Context, email string) (*Hit, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return s.lookupKey(ctx, keyEmail+e)
}

// FindByPhone finds the client (and contact) with a phone number in any format.
func (s *Store) FindByPhone(ctx context.Context, phone string) (*Hit, error) {
	p, err := s.phones.Normalize(phone)
	if err != nil {
		return nil, err
	}
	return s.lookupKey(ctx, keyPhone+p)
}

// FindByINN finds the client with a taxpayer number.
func (s *Store) FindByINN(ctx context.Context, inn string) (*Hit, error) {
	n, err := NormalizeINN(inn)
	if err != nil {
		return nil, err
	}
	return s.lookupKey(ctx, keyINN+n)
}
