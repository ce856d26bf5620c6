package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// ErrInviteInvalid means an invite code is unknown, used or expired. One error for all
// three, so that guessing codes teaches nothing.
var ErrInviteInvalid = errors.New("the invitation is not valid")

// CreateInvite makes a one-time code that lets one person join with a role.
func (s *Store) CreateInvite(ctx context.Context, actor string, role Role, name string, ttl time.Duration) (*Invite, error) {
	if !role.Valid() {
		return nil, invalidf("role %q is not one of manager, head, admin", role)
	}
	if ttl <= 0 {
		return nil, invalidf("an invitation must live for some time (got %s)", ttl)
	}
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return nil, err
	}
	now := s.now()
	inv := &Invite{ID: base64.RawURLEncoding.EncodeToString(buf), Role: role, Name: strings.TrimSpace(name),
		CreatedAt: now, CreatedBy: actor, ExpiresAt: now.Add(ttl)}
	if _, err := s.c(colInvites).InsertOne(ctx, inv); err != nil {
		return nil, fmt.Errorf("save invitation: %w", err)
	}
	return inv, s.Audit(ctx, actor, "invite.create", "invite", inv.ID, map[string]any{"role": role, "name": inv.Name, "expires": inv.ExpiresAt})
}

// RedeemInvite makes m a manager with the invite's role. The code works once, even
// with several processes redeeming at the same moment: the redemption is an insert
// of a document whose _id is derived from the code, and only one insert can win.
func (s *Store) RedeemInvite(ctx context.Context, code string, m *Manager) error {
	code = strings.TrimSpace(code)
	if code == "" || strings.Contains(code, "/") {
		return ErrInviteInvalid
	}
	inv, err := getOne[Invite](ctx, s, colInvites, code)
	if errors.Is(err, ErrNotFound) {
		return ErrInviteInvalid
	}
	if err != nil {
		return err
	}
	if inv.UsedAt != nil || !s.now().Before(inv.ExpiresAt) {
		return ErrInviteInvalid
	}
	if m.ID == "" {
		m.ID = newID()
	}
	used := code + "/used"
	if _, err := s.c(colInvites).InsertOne(ctx, bson.D{{Key: "_id", Value: used}, {Key: "manager", Value: m.ID}, {Key: "at", Value: s.now()}}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrInviteInvalid
		}
		return fmt.Errorf("redeem invitation: %w", err)
	}
	m.Role = inv.Role
	if inv.Name != "" {
		m.Name = inv.Name // the admin's name for the person beats their Telegram nickname
	}
	if err := s.CreateManager(ctx, "invite:"+code, m); err != nil {
		// Give the code back: the person may fix what failed and try again.
		_, _ = s.c(colInvites).DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: used}})
		return err
	}
	now := s.now()
	_, err = s.c(colInvites).UpdateOne(ctx, bson.D{{Key: "_id", Value: code}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}, {Key: "usedBy", Value: m.ID}}}})
	return err
}
