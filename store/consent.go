package store

import (
	"context"
	"errors"
	"time"
)

// A contact person's consent to mailings changes only through these actions, each
// writing the consent's own fields: edits of the person never touch them, so an edit
// begun before someone unsubscribed cannot subscribe them again.

// ErrUnsubscribed is returned by GiveConsent for a person who unsubscribed themselves:
// mailings go back on only when the manager confirms the person asked to come back.
var ErrUnsubscribed = errors.New("the person unsubscribed from mailings")

// ResubscribeConfirmation is what the audit log says of a manager who turned mailings
// back on for a person who had unsubscribed.
const ResubscribeConfirmation = "the person asked to come back"

// GiveConsent records that a contact person agreed to mailings, on a manager's word.
// For a person who unsubscribed, cameBack is the manager's confirmation that they
// asked to come back: without it GiveConsent returns ErrUnsubscribed and changes
// nothing; with it the opt-out is cleared and the audit log says when and how they
// had left and that the manager confirmed their return. Bounce marks stay.
func (s *Store) GiveConsent(ctx context.Context, actor, clientID, contactID string, cameBack bool) (*Client, error) {
	return s.updateContact(ctx, actor, clientID, contactID, "contact.consent", func(p *Contact, w *contactWrite) error {
		was := p.Consent
		if was.UnsubscribedAt != nil && !cameBack {
			return ErrUnsubscribed
		}
		if was.Given && was.UnsubscribedAt == nil {
			return nil
		}
		now := s.now()
		p.Consent = Consent{Given: true, At: &now, Method: "manager"}
		w.set("consent.given", true)
		w.set("consent.at", now)
		w.set("consent.method", p.Consent.Method)
		w.note("consent", true)
		if was.UnsubscribedAt != nil {
			// The one write that clears an opt-out. An unsubscribe that lands after the
			// read above is kept by every other write, which never names these paths.
			w.unset("consent.unsubscribedAt")
			w.unset("consent.unsubscribedVia")
			w.note("leftAt", *was.UnsubscribedAt)
			w.note("leftVia", was.UnsubscribedVia)
			w.note("confirmed", ResubscribeConfirmation)
			w.action = "contact.resubscribe"
		}
		return nil
	})
}

// WithdrawConsent records that a contact person no longer agrees to mailings, on a
// manager's word. A person's own unsubscribing is Unsubscribe, and stays.
func (s *Store) WithdrawConsent(ctx context.Context, actor, clientID, contactID string) (*Client, error) {
	return s.updateContact(ctx, actor, clientID, contactID, "contact.consent", func(p *Contact, w *contactWrite) error {
		if !p.Consent.Given {
			return nil
		}
		p.Consent.Given, p.Consent.At, p.Consent.Method = false, nil, ""
		w.set("consent.given", false)
		w.unset("consent.at")
		w.unset("consent.method")
		w.note("consent", false)
		return nil
	})
}

// Unsubscribe records a contact person's own opt-out from mailings and notes it in the
// timeline; a second call changes nothing. via says how ("link", "one-click").
func (s *Store) Unsubscribe(ctx context.Context, clientID, contactID, via, campaignID string) (*Client, error) {
	var now time.Time
	updated, err := s.updateContact(ctx, "unsubscribe", clientID, contactID, "contact.unsubscribe", func(p *Contact, w *contactWrite) error {
		if p.Consent.UnsubscribedAt != nil {
			return nil
		}
		now = s.now()
		p.Consent.UnsubscribedAt, p.Consent.UnsubscribedVia = &now, via
		w.set("consent.unsubscribedAt", now)
		w.set("consent.unsubscribedVia", via)
		w.note("via", via)
		w.note("campaign", campaignID)
		return nil
	})
	if err != nil || now.IsZero() {
		return updated, err
	}
	_, err = s.AppendInteraction(ctx, clientID, Interaction{Kind: InteractionUnsubscribe, ContactID: contactID, Text: via,
		SourceKey: "unsubscribe/" + campaignID + "/" + contactID + "/" + now.Format(time.RFC3339)})
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return updated, err
}

// SelfResubscribe is what the audit log says of a person who undid their own
// unsubscribe from the page of their own signed link.
const SelfResubscribe = "the person, by their own unsubscribe link"

// Resubscribe undoes a contact person's own unsubscribe, on their word: the undo on
// the page of their signed link. It clears the opt-out and nothing else (consent a
// manager withdrew and bounce marks stay), records it in the audit log as the
// person's, with when and how they had left, and notes it in the timeline; for a
// person not unsubscribed it changes nothing.
func (s *Store) Resubscribe(ctx context.Context, clientID, contactID, campaignID string) (*Client, error) {
	var now time.Time
	updated, err := s.updateContact(ctx, "unsubscribe", clientID, contactID, "contact.resubscribe", func(p *Contact, w *contactWrite) error {
		was := p.Consent
		if was.UnsubscribedAt == nil {
			return nil
		}
		now = s.now()
		p.Consent.UnsubscribedAt, p.Consent.UnsubscribedVia = nil, ""
		w.unset("consent.unsubscribedAt")
		w.unset("consent.unsubscribedVia")
		w.note("leftAt", *was.UnsubscribedAt)
		w.note("leftVia", was.UnsubscribedVia)
		w.note("campaign", campaignID)
		w.note("confirmed", SelfResubscribe)
		return nil
	})
	if err != nil || now.IsZero() {
		return updated, err
	}
	_, err = s.AppendInteraction(ctx, clientID, Interaction{Kind: InteractionResubscribe, ContactID: contactID,
		SourceKey: "resubscribe/" + campaignID + "/" + contactID + "/" + now.Format(time.RFC3339)})
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return updated, err
}
