// Sign-in to the web workspace: one-time links the bot sends, and the sessions they
// (or a Telegram Mini App's init data) open. Only hashes of the secrets are stored,
// as _id, so a copy of the database signs nobody in and every look-up is one _id read.

package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// ErrWebLinkInvalid means a sign-in link is unknown, used or expired: one error for
// all three, so that trying links teaches nothing.
var ErrWebLinkInvalid = errors.New("the sign-in link is not valid")

// WebSession is a signed-in browser.
type WebSession struct {
	ID        string    `bson:"_id"` // hash of the cookie's secret
	ManagerID string    `bson:"manager"`
	CSRF      string    `bson:"csrf"` // the token every change must carry
	Via       string    `bson:"via"`  // "link" or "telegram"
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

type webLink struct {
	ID        string    `bson:"_id"` // hash of the token
	ManagerID string    `bson:"manager"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// secretHash is how a secret is kept: its SHA-256, hex.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewSecret makes a random URL-safe secret of 32 bytes.
func NewSecret() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// CreateWebLink makes a one-time sign-in token for a manager, valid for ttl.
func (s *Store) CreateWebLink(ctx context.Context, managerID string, ttl time.Duration) (string, error) {
	token, err := NewSecret()
	if err != nil {
		return "", err
	}
	now := s.now()
	if _, err := s.c(colWebLogins).InsertOne(ctx, webLink{ID: secretHash(token), ManagerID: managerID, CreatedAt: now,
		ExpiresAt: now.Add(ttl)}); err != nil {
		return "", fmt.Errorf("save sign-in link: %w", err)
	}
	return token, nil
}

// WebLinkValid tells, without using it, whether a sign-in token would work now.
func (s *Store) WebLinkValid(ctx context.Context, token string) (bool, error) {
	_, err := s.webLink(ctx, token)
	if errors.Is(err, ErrWebLinkInvalid) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) webLink(ctx context.Context, token string) (*webLink, error) {
	if token == "" {
		return nil, ErrWebLinkInvalid
	}
	l, err := getOne[webLink](ctx, s, colWebLogins, secretHash(token))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrWebLinkInvalid
	case err != nil:
		return nil, err
	case !s.now().Before(l.ExpiresAt):
		return nil, ErrWebLinkInvalid
	}
	return l, nil
}

// UseWebLink spends a sign-in token and returns its manager's ID. It works once,
// also with several processes at the same moment: the use is an insert under an _id
// derived from the token, and only one insert can win.
func (s *Store) UseWebLink(ctx context.Context, token string) (string, error) {
	l, err := s.webLink(ctx, token)
	if err != nil {
		return "", err
	}
	if _, err := s.c(colWebLogins).InsertOne(ctx, bson.D{{Key: "_id", Value: "used/" + l.ID}, {Key: "at", Value: s.now()},
		{Key: "expiresAt", Value: l.ExpiresAt}}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return "", ErrWebLinkInvalid
		}
		return "", fmt.Errorf("use sign-in link: %w", err)
	}
	// The link goes; a crash before this leaves it with its use, which refuses it.
	_, _ = s.c(colWebLogins).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.ID}})
	return l.ManagerID, nil
}

// CreateWebSession opens a session for a manager and returns the cookie's secret.
func (s *Store) CreateWebSession(ctx context.Context, managerID, via string, ttl time.Duration) (string, *WebSession, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	csrf, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	ws := &WebSession{ID: secretHash(secret), ManagerID: managerID, CSRF: csrf, Via: via, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if _, err := s.c(colWebSessions).InsertOne(ctx, ws); err != nil {
		return "", nil, fmt.Errorf("save web session: %w", err)
	}
	return secret, ws, s.Audit(ctx, managerID, "web.signin", "manager", managerID, map[string]any{"via": via})
}

// WebSession finds the session of a cookie's secret; an expired one is ErrNotFound.
func (s *Store) WebSession(ctx context.Context, secret string) (*WebSession, error) {
	if secret == "" {
		return nil, fmt.Errorf("web session: %w", ErrNotFound)
	}
	ws, err := getOne[WebSession](ctx, s, colWebSessions, secretHash(secret))
	if err != nil {
		return nil, err
	}
	if !s.now().Before(ws.ExpiresAt) {
		_ = s.EndWebSession(ctx, ws.ID)
		return nil, fmt.Errorf("web session: %w", ErrNotFound)
	}
	return ws, nil
}

// EndWebSession ends a session (by its ID, not the cookie's secret).
func (s *Store) EndWebSession(ctx context.Context, id string) error {
	_, err := s.c(colWebSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// PruneWeb deletes the sign-in links, their uses and the sessions that have expired,
// and returns how many. It reads both collections whole (a cold path, run at start).
func (s *Store) PruneWeb(ctx context.Context) (int, error) {
	n := 0
	for _, col := range []string{colWebLogins, colWebSessions} {
		res, err := s.c(col).DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: s.now()}}}})
		if err != nil {
			return n, fmt.Errorf("prune %s: %w", col, err)
		}
		n += int(res.DeletedCount)
	}
	return n, nil
}
