package scheduler

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/store"
)

// Recipient is one contact a campaign goes to.
type Recipient struct {
	Client  *store.Client
	Contact store.Contact
	Email   string
}

// EachRecipient streams a segment's recipients: the contacts of matching clients who
// consented, did not unsubscribe, and have an address that does not bounce. The
// clients are read one by one, never all at once.
func EachRecipient(ctx context.Context, st *store.Store, seg store.Segment, fn func(Recipient) error) error {
	return st.EachClient(ctx, func(c *store.Client) error {
		if !seg.Matches(c) {
			return nil
		}
		for _, p := range c.ContactList() {
			if email, why := store.MailableEmail(p); why == "" {
				if err := fn(Recipient{Client: c, Contact: p, Email: email}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Campaigns prepares campaign letters: the template, the managers' signatures and the
// unsubscribe links.
type Campaigns struct {
	st    *store.Store
	unsub *Unsubscriber // nil: no links can be made, so nothing can be sent
	from  string        // the company's address, when a campaign names none
}

// NewCampaigns builds the campaign side; unsub may be nil for previews only.
func NewCampaigns(st *store.Store, unsub *Unsubscriber, from string) *Campaigns {
	return &Campaigns{st: st, unsub: unsub, from: from}
}

// ErrTemplate says a campaign's template cannot be used; the message names the part,
// the line, the field and, when it failed for a recipient, who.
var ErrTemplate = errors.New("the template has a problem")

func (cs *Campaigns) template(c *store.Campaign) (*Template, error) {
	t, err := ParseTemplate(c.Subject, c.Text, c.HTML)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	return t, nil
}

// letter renders a campaign for one recipient, with its manager's fields (managers
// are cached: a campaign has thousands of recipients and a few managers).
func (cs *Campaigns) letter(ctx context.Context, t *Template, c *store.Campaign, r Recipient, managers map[string]*store.Manager) (Rendered, MailData, error) {
	m, ok := managers[r.Client.ManagerID]
	if !ok && r.Client.ManagerID != "" {
		var err error
		if m, err = cs.st.Manager(ctx, r.Client.ManagerID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Rendered{}, MailData{}, err
		}
		managers[r.Client.ManagerID] = m
	}
	data := mailData(r.Client, r.Contact, m, r.Email)
	if cs.unsub != nil {
		data.UnsubscribeURL = cs.unsub.Link(c.ID, r.Client.ID, r.Contact.ID)
	}
	out, err := t.Execute(data)
	if err != nil {
		return out, data, fmt.Errorf("%w for %s (%s, client %q): %w", ErrTemplate, r.Contact.Name, r.Email, r.Client.Name, err)
	}
	return out, data, nil
}

// Check renders the campaign for every recipient, as start does before anything is
// sent, and returns how many there are; the first failure is returned.
func (cs *Campaigns) Check(ctx context.Context, c *store.Campaign) (int, error) {
	t, err := cs.template(c)
	if err != nil {
		return 0, err
	}
	n, managers := 0, map[string]*store.Manager{}
	err = EachRecipient(ctx, cs.st, c.Segment, func(r Recipient) error {
		n++
		_, _, err := cs.letter(ctx, t, c, r, managers)
		return err
	})
	return n, err
}

// Preview renders the campaign for one contact of a client (the first recipient when
// contactID is empty).
func (cs *Campaigns) Preview(ctx context.Context, c *store.Campaign, clientID, contactID string) (Rendered, Recipient, error) {
	t, err := cs.template(c)
	if err != nil {
		return Rendered{}, Recipient{}, err
	}
	cl, err := cs.st.Client(ctx, clientID)
	if err != nil {
		return Rendered{}, Recipient{}, err
	}
	for _, p := range cl.ContactList() {
		if contactID != "" && p.ID != contactID {
			continue
		}
		email, _ := store.MailableEmail(p)
		if email == "" && len(p.Emails) > 0 {
			email = p.Emails[0] // a preview shows the letter even to someone who would not get it
		}
		r := Recipient{Client: cl, Contact: p, Email: email}
		out, _, err := cs.letter(ctx, t, c, r, map[string]*store.Manager{})
		return out, r, err
	}
	return Rendered{}, Recipient{}, fmt.Errorf("client %q has no such contact: %w", cl.Name, store.ErrNotFound)
}

// Message builds a campaign letter with List-Unsubscribe and List-Unsubscribe-Post
// (RFC 8058 one-click).
func (cs *Campaigns) Message(c *store.Campaign, r Rendered, data MailData, to string) (*gomail.Msg, error) {
	from, name := cs.from, ""
	if c.Sender != "" {
		a, err := mail.ParseAddress(c.Sender)
		if err != nil {
			return nil, fmt.Errorf("the campaign's sender %q is not an address: %w", c.Sender, err)
		}
		from, name = a.Address, a.Name
	}
	msg, err := buildMessage(from, name, to, r, nil)
	if err != nil {
		return nil, err
	}
	if data.UnsubscribeURL != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+data.UnsubscribeURL+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	return msg, nil
}
