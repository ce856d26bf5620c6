package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// ContactPatch names the fields of a contact person to change; nil fields are left as
// they are. Consent, unsubscribing and bounce marks are not here: they change only
// through GiveConsent, WithdrawConsent, Unsubscribe and MarkBounced, so an edit begun
// before someone unsubscribed cannot subscribe them again.
type ContactPatch struct {
	Name, Position, Language, TimeZone *string
	DecisionMaker                      *bool
	Phones, Emails                     *[]string
	Birthday                           *Birthday // a zero Birthday removes it
}

// AddContact adds a contact person to a client.
func (s *Store) AddContact(ctx context.Context, actor, clientID string, p Contact) (*Client, *Contact, error) {
	cur, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, nil, err
	}
	p.ID, p.CreatedAt = newID(), s.now()
	if err := s.normalizeContact(&p); err != nil {
		return nil, nil, err
	}
	next := withContact(cur, p)
	set := bson.D{{Key: "contacts." + p.ID, Value: p}}
	updated, err := s.applyClientUpdate(ctx, actor, cur, next, set, nil, map[string]any{"contact": p.ID, "name": p.Name}, "contact.create")
	if err != nil {
		return nil, nil, err
	}
	saved := updated.Contacts[p.ID]
	return updated, &saved, nil
}

// UpdateContact changes the fields of a contact person that the patch names, each by
// its own $set: two managers editing different fields never overwrite each other.
func (s *Store) UpdateContact(ctx context.Context, actor, clientID, contactID string, patch ContactPatch) (*Client, error) {
	return s.updateContact(ctx, actor, clientID, contactID, "contact.update", func(p *Contact, w *contactWrite) error {
		was := *p
		str := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		str(&p.Name, patch.Name)
		str(&p.Position, patch.Position)
		str(&p.Language, patch.Language)
		str(&p.TimeZone, patch.TimeZone)
		patched(&p.DecisionMaker, patch.DecisionMaker)
		patched(&p.Phones, patch.Phones)
		patched(&p.Emails, patch.Emails)
		if patch.Birthday != nil {
			p.Birthday = patch.Birthday
			if *patch.Birthday == (Birthday{}) {
				p.Birthday = nil
			}
		}
		if err := s.normalizeContact(p); err != nil {
			return err
		}
		// Written from the normalised contact, so stored values are canonical; a field
		// the patch names but leaves as it was is not written.
		for _, f := range []struct {
			given      bool
			path       string
			value, was any
			empty      bool
		}{
			{patch.Name != nil, "name", p.Name, was.Name, false},
			{patch.Position != nil, "position", p.Position, was.Position, p.Position == ""},
			{patch.Language != nil, "language", p.Language, was.Language, p.Language == ""},
			{patch.TimeZone != nil, "timeZone", p.TimeZone, was.TimeZone, p.TimeZone == ""},
			{patch.DecisionMaker != nil, "decisionMaker", p.DecisionMaker, was.DecisionMaker, !p.DecisionMaker},
			{patch.Phones != nil, "phones", p.Phones, was.Phones, len(p.Phones) == 0},
			{patch.Emails != nil, "emails", p.Emails, was.Emails, len(p.Emails) == 0},
			{patch.Birthday != nil, "birthday", p.Birthday, was.Birthday, p.Birthday == nil},
		} {
			switch {
			case !f.given || reflect.DeepEqual(f.value, f.was):
				continue
			case f.empty:
				w.unset(f.path)
			default:
				w.set(f.path, f.value)
			}
			w.note(f.path, f.value)
		}
		return nil
	})
}

// patched sets *dst to *v when a patch names the field (v is not nil).
func patched[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// RemoveContact deletes a contact person and frees its phones and e-mails.
func (s *Store) RemoveContact(ctx context.Context, actor, clientID, contactID string) (*Client, error) {
	cur, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if _, ok := cur.Contacts[contactID]; !ok {
		return nil, fmt.Errorf("contact %s: %w", contactID, ErrNotFound)
	}
	next := *cur
	next.Contacts = map[string]Contact{}
	for k, v := range cur.Contacts {
		if k != contactID {
			next.Contacts[k] = v
		}
	}
	return s.applyClientUpdate(ctx, actor, cur, &next, bson.D{}, bson.D{{Key: "contacts." + contactID, Value: ""}},
		map[string]any{"contact": contactID}, "contact.delete")
}

// contactWrite collects what a write changes in one contact person: the paths under
// the contact to $set and $unset, and what the audit log says about it.
type contactWrite struct {
	id         string
	sets, drop bson.D
	audit      map[string]any
	action     string // the audit entry's; change may name a more precise one
}

func (w *contactWrite) set(path string, v any) {
	w.sets = append(w.sets, bson.E{Key: "contacts." + w.id + "." + path, Value: v})
}

func (w *contactWrite) unset(path string) {
	w.drop = append(w.drop, bson.E{Key: "contacts." + w.id + "." + path, Value: ""})
}

// note says in the audit entry what changed.
func (w *contactWrite) note(key string, v any) { w.audit[key] = v }

// updateContact writes the fields of one contact person that change names: change
// edits a copy of the contact as stored now (the keys and the opt-out log follow it)
// and records in w the paths it changed; nothing else of the contact is written.
func (s *Store) updateContact(ctx context.Context, actor, clientID, contactID, action string, change func(p *Contact, w *contactWrite) error) (*Client, error) {
	cur, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	p, ok := cur.Contacts[contactID]
	if !ok {
		return nil, fmt.Errorf("contact %s of client %q: %w", contactID, cur.Name, ErrNotFound)
	}
	w := &contactWrite{id: contactID, audit: map[string]any{}, action: action}
	if err := change(&p, w); err != nil {
		return nil, err
	}
	if len(w.sets) == 0 && len(w.drop) == 0 {
		return cur, nil
	}
	w.note("contact", contactID)
	return s.applyClientUpdate(ctx, actor, cur, withContact(cur, p), w.sets, w.drop, w.audit, w.action)
}

// withContact returns a copy of c with p in its contacts (c's own map is not changed).
func withContact(c *Client, p Contact) *Client {
	next := *c
	next.Contacts = make(map[string]Contact, len(c.Contacts)+1)
	for k, v := range c.Contacts {
		next.Contacts[k] = v
	}
	next.Contacts[p.ID] = p
	return &next
}
