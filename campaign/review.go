package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/crm-team/crm/store"
)

// Review is what a check of a campaign found: how many would get it, and the fields
// its template prints that are empty for some of them.
type Review struct {
	Recipients int
	Empty      []EmptyField
}

// EmptyField is a field the template prints ("{{.Contact.FirstName}}") that is empty
// in N letters; Example names one of their recipients.
type EmptyField struct {
	Field   string
	N       int
	Example string
}

// Review renders the campaign for every recipient, as start does before anything is
// sent, and counts the printed fields that came out empty. The first failure to
// render is returned, with the recipients counted so far.
func (cs *Campaigns) Review(ctx context.Context, c *store.Campaign) (Review, error) {
	var rv Review
	t, err := cs.template(c)
	if err != nil {
		return rv, err
	}
	fields := t.printedFields()
	empty := make([]EmptyField, len(fields))
	ms := newManagers(cs.st)
	err = EachRecipient(ctx, cs.st, c.Segment, func(r Recipient) error {
		rv.Recipients++
		_, data, err := cs.letter(ctx, t, c, snapshot(r), ms, false)
		if err != nil {
			return err
		}
		for i, f := range fields {
			if f.empty(data) {
				if empty[i].N++; empty[i].N == 1 {
					empty[i].Example = fmt.Sprintf("%s <%s>, %s", r.Contact.Name, r.Email, r.Client.Name)
				}
			}
		}
		return nil
	})
	for i, f := range fields {
		if empty[i].N > 0 {
			empty[i].Field = f.String()
			rv.Empty = append(rv.Empty, empty[i])
		}
	}
	return rv, err
}

// SegmentCount is who a segment reaches now: the recipients, the contacts who would
// get no letter (no consent, unsubscribed, bounced, no e-mail), and the first
// recipients.
type SegmentCount struct {
	Recipients, Excluded int
	First                []Recipient
}

// Count reads a segment as a run does and counts its contacts, keeping the first keep
// recipients: the editor's live count.
func (cs *Campaigns) Count(ctx context.Context, seg store.Segment, keep int) (SegmentCount, error) {
	var n SegmentCount
	err := eachContact(ctx, cs.st.SegmentClients, seg, func(r Recipient) error {
		if r.Skip != "" {
			n.Excluded++
			return nil
		}
		if n.Recipients++; len(n.First) < keep {
			n.First = append(n.First, r)
		}
		return nil
	})
	return n, err
}

// Sample returns the segment's first n recipients, reading no further: whom a
// preview or a test letter may be rendered for.
func (cs *Campaigns) Sample(ctx context.Context, seg store.Segment, n int) ([]Recipient, error) {
	var out []Recipient
	err := eachRecipient(ctx, cs.st.SegmentClients, seg, func(r Recipient) error {
		if out = append(out, r); len(out) == n {
			return errSampled
		}
		return nil
	})
	if errors.Is(err, errSampled) {
		err = nil
	}
	return out, err
}
