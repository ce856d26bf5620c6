package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
)

// Greeter sends birthday greetings from templates/mail/birthday.<lang>.tmpl.
type Greeter struct {
	st        *store.Store
	opts      GreeterOptions
	templates map[string]*campaign.Template
}

// GreeterOptions say whom greetings come from and how they are unsubscribed from.
type GreeterOptions struct {
	// From is the company's address; the display name is the client's manager.
	From string
	// SenderName signs greetings to clients without a manager, and is their display
	// name (default: campaign.DefaultSenderName of From).
	SenderName string
	// Links signs each greeting's unsubscribe link, in its text and one-click
	// List-Unsubscribe, as a mailing's; nil: greetings go without one.
	Links *campaign.Unsubscriber
}

// NewGreeter parses the greeting templates (ru and en) from fsys: each file defines
// "subject", "text" and "html".
func NewGreeter(st *store.Store, fsys fs.FS, opts GreeterOptions) (*Greeter, error) {
	if strings.TrimSpace(opts.SenderName) == "" {
		opts.SenderName = campaign.DefaultSenderName(opts.From)
	}
	g := &Greeter{st: st, opts: opts, templates: map[string]*campaign.Template{}}
	for _, lang := range []string{"ru", "en"} {
		name := "mail/birthday." + lang + ".tmpl"
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("greeting template: %w", err)
		}
		t, err := campaign.ParseTemplateFile(name, string(src))
		if err != nil {
			return nil, err
		}
		g.templates[lang] = t
	}
	return g, nil
}

// GreetingID is the delivery that greets a contact in a year: one per year.
func GreetingID(year int, clientID, contactID string) string {
	return store.DeliveryID("birthday-"+strconv.Itoa(year), clientID, contactID)
}

// Greetings sends the greetings that are due: for each contact whose birthday is today
// in their time zone (the company's by default) and whose greeting hour has come. The
// candidates come from the directory (yesterday to tomorrow in UTC covers every time
// zone); each is then read once.
func (s *Scheduler) Greetings(ctx context.Context) (int, error) {
	g := s.opts.Greeter
	if g == nil {
		return 0, nil
	}
	if ok, err := s.hold(ctx, "greetings"); !ok {
		return 0, err
	}
	now := s.now()
	hits, err := s.st.Birthdays(ctx, store.Viewer{Role: store.RoleAdmin}, now.AddDate(0, 0, -1), 3)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, h := range hits {
		ok, err := g.greet(ctx, s, h, now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// due reads the client of a birthday and tells whether the contact's greeting is due
// now, with the contact and the address to use.
func (g *Greeter) due(ctx context.Context, s *Scheduler, h store.BirthdayHit, now time.Time) (c *store.Client, p store.Contact, email string, status notice.GreetingStatus, err error) {
	c, err = g.st.Client(ctx, h.ClientID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return nil, p, "", "", err
	}
	p, ok := c.Contacts[h.ContactID]
	if !ok || p.Birthday == nil {
		return nil, p, "", "", nil
	}
	local := now.In(s.location(p.TimeZone))
	if !birthdayOn(*p.Birthday, local) {
		return nil, p, "", "", nil
	}
	email, status = eligible(c, p)
	if status == "" && local.Hour() < s.opts.GreetingHour {
		status = notice.GreetingPlanned
	}
	return c, p, email, status, nil
}

// eligible tells the address a contact is greeted at, or why they are not.
func eligible(c *store.Client, p store.Contact) (string, notice.GreetingStatus) {
	if c.GreetingsOff {
		return "", notice.GreetingOff
	}
	switch email, why := store.MailableEmail(p); why {
	case "":
		return email, ""
	case "no consent", "unsubscribed":
		return "", notice.GreetingNoConsent
	}
	return "", notice.GreetingNoEmail
}

// birthdayOn tells whether b falls on day's date; 29 February falls on 28 February in
// other years.
func birthdayOn(b store.Birthday, day time.Time) bool {
	m, d := time.Month(b.Month), b.Day
	if m == time.February && d == 29 && !isLeap(day.Year()) {
		d = 28
	}
	return day.Month() == m && day.Day() == d
}

func isLeap(year int) bool { return year%4 == 0 && (year%100 != 0 || year%400 == 0) }

// status tells the digest what happens to a birthday's greeting today.
func (g *Greeter) status(ctx context.Context, h store.BirthdayHit, now time.Time) (notice.GreetingStatus, error) {
	c, err := g.st.Client(ctx, h.ClientID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return "", err
	}
	p := c.Contacts[h.ContactID]
	if _, why := eligible(c, p); why != "" {
		return why, nil
	}
	d, err := g.st.Delivery(ctx, GreetingID(h.Date.Year(), h.ClientID, h.ContactID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notice.GreetingPlanned, nil
	case err != nil:
		return "", err
	case d.State == store.DeliverySent:
		return notice.GreetingSent, nil
	case d.State == store.DeliveryFailed:
		return notice.GreetingFailed, nil
	}
	return notice.GreetingPlanned, nil
}

// greet sends one contact's greeting if it is due and not sent this year; true when it
// went out now.
func (g *Greeter) greet(ctx context.Context, s *Scheduler, h store.BirthdayHit, now time.Time) (bool, error) {
	c, p, email, status, err := g.due(ctx, s, h, now)
	if c == nil || err != nil || status != "" {
		return false, err
	}
	local := now.In(s.location(p.TimeZone))
	id := GreetingID(local.Year(), c.ID, p.ID)
	if d, err := g.st.Delivery(ctx, id); err == nil && d.State != store.DeliveryQueued && d.State != store.DeliveryDeferred {
		return false, nil // sent, failed, or cut short: once a year means never again
	}
	var m *store.Manager
	if c.ManagerID != "" {
		if m, err = g.st.Manager(ctx, c.ManagerID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	lang := p.Language
	if g.templates[lang] == nil {
		lang = "ru"
	}
	greeting := "birthday-" + strconv.Itoa(local.Year())
	data := campaign.NewMailData(c, p, m, email, g.opts.SenderName)
	if g.opts.Links != nil {
		data.UnsubscribeURL = g.opts.Links.Link(greeting, c.ID, p.ID)
	}
	msg, err := g.message(g.templates[lang], data, m)
	if err != nil {
		return false, err
	}
	out, err := campaign.Deliver(ctx, s.st, s.opts.Sender, s.now, store.Delivery{CampaignID: greeting, ClientID: c.ID, ContactID: p.ID, Email: email}, msg)
	if err != nil || out != store.DeliverySent {
		return false, err
	}
	_, err = g.st.AppendInteraction(ctx, c.ID, store.Interaction{Kind: store.InteractionBirthday, ContactID: p.ID,
		Text: msg.GetGenHeader(gomail.HeaderSubject)[0], SourceKey: id})
	return true, err
}

// message builds a greeting on the manager's behalf, or the company's for a client
// without one.
func (g *Greeter) message(t *campaign.Template, data campaign.MailData, m *store.Manager) (*gomail.Msg, error) {
	r, err := t.Execute(data)
	if err != nil {
		return nil, fmt.Errorf("greeting template: %w", err)
	}
	from, err := mail.ParseAddress(g.opts.From)
	if err != nil {
		return nil, fmt.Errorf("sender address %q: %w", g.opts.From, err)
	}
	from.Name = data.Manager.Name
	return campaign.NewMessage(from, &mail.Address{Name: data.Contact.Name, Address: data.Contact.Email}, r, m)
}
