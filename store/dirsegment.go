package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A campaign's segment is read from the directory when the process keeps one (crm
// serve): reading and decoding every client document costs the embedded engine about
// 140 µs a client, more than a letter costs to send. The directory keeps, for this,
// what the segment's filter and the letters read of each client (its tags, custom
// fields, order count, and each contact's name, position, addresses and consent),
// packed into one string an entry (packMail). Contacts who could no longer be mailed
// since an entry was current (an unsubscribe, a bounce: recordOptOuts) are checked on
// the client itself, read by _id.

// optOutSkew covers the clocks of processes: an opt-out recorded this much before an
// entry was current still has its client read.
const optOutSkew = time.Minute

// SegmentClients streams the clients in a segment, with what a campaign's letters
// read of them: names, city, industry, manager, stage, class, tags, custom fields,
// order count and the contacts (names, positions, addresses, bounces, consent). From
// the client directory when this process keeps it (brought up to date with the
// change log first), else, and for a segment by orders (whose count the change log
// does not follow), from the clients collection.
func (s *Store) SegmentClients(ctx context.Context, seg Segment, fn func(*Client) error) error {
	scan := func() error {
		return s.EachClient(ctx, func(c *Client) error {
			if !seg.Matches(c) {
				return nil
			}
			return fn(c)
		})
	}
	if !s.dir.loaded.Load() || seg.byOrders() {
		return scan()
	}
	if err := s.dir.Sync(ctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.log.Warn("client directory behind: the segment is read from the clients", "err", err)
		return scan()
	}
	// Entries are replaced, never changed: the list is copied under the lock and read
	// after it, the segment's first clients passed on before the last are looked at.
	s.dir.mu.RLock()
	entries := slices.Clone(s.dir.entries.list)
	s.dir.mu.RUnlock()
	oldest := int64(0)
	for _, e := range entries {
		if oldest == 0 || e.at < oldest {
			oldest = e.at
		}
	}
	lost, err := s.optedOutSince(ctx, time.Unix(0, oldest).Add(-optOutSkew))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, r := e.segmentClient()
		if c != nil && !seg.Matches(c) {
			continue
		}
		if c != nil {
			r.contacts(c)
		}
		if c == nil || lost.since(c, time.Unix(0, e.at).Add(-optOutSkew)) {
			// Unknown here, or someone opted out since: the client as stored decides.
			fresh, err := s.Client(ctx, e.id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !seg.Matches(fresh) {
				continue
			}
			c = fresh
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// byOrders says whether the segment, or one of its alternatives, asks for orders.
func (sg Segment) byOrders() bool {
	if sg.HasOrders != nil {
		return true
	}
	for _, alt := range sg.Any {
		if alt.byOrders() {
			return true
		}
	}
	return false
}

// optOutTimes are the latest opt-out of each contact (OptOutKey).
type optOutTimes map[string]time.Time

// since says whether one of c's contacts opted out after t.
func (o optOutTimes) since(c *Client, t time.Time) bool {
	if len(o) == 0 {
		return false
	}
	for id := range c.Contacts {
		if at, ok := o[OptOutKey(c.ID, id)]; ok && at.After(t) {
			return true
		}
	}
	return false
}

// optedOutSince reads the opt-outs recorded after from, a day's document at a time.
func (s *Store) optedOutSince(ctx context.Context, from time.Time) (optOutTimes, error) {
	out := optOutTimes{}
	now := s.now()
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
		entries, err := s.OptOutsOn(ctx, day)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.At.After(from) && e.At.After(out[e.Key]) {
				out[e.Key] = e.At
			}
		}
	}
	return out, nil
}

// segmentClient is the part of the entry's client a segment's filter reads, and the
// reader of its contacts (nil when the entry lacks them).
func (e *dirEntry) segmentClient() (*Client, *mailReader) {
	if e.mail == "" {
		return nil, nil
	}
	c := &Client{ID: e.id, Name: e.name, ManagerID: e.managerID(), Stage: e.stage.Value(), City: e.city.Value(),
		Industry: e.industry.Value(), Class: e.class.Value()}
	r := &mailReader{s: e.mail}
	c.OrdersCount = int(r.num())
	c.Tags = r.strs()
	if n := int(r.num()); n > 0 {
		c.Custom = make(map[string]string, n)
		for range n {
			k := r.str()
			c.Custom[k] = r.str()
		}
	}
	return c, r
}

// tags are the client's tags as the entry keeps them (none when it lacks them: an
// entry from an old change record, replaced at the next full load).
func (e *dirEntry) tags() []string {
	if e.mail == "" {
		return nil
	}
	r := &mailReader{s: e.mail}
	r.num() // the order count
	return r.strs()
}

// contacts reads the contacts into c, the entry's client as a campaign reads it.
func (r *mailReader) contacts(c *Client) {
	n := int(r.num())
	if n == 0 {
		return
	}
	c.Contacts = make(map[string]Contact, n)
	for range n {
		p := Contact{ID: r.str(), Name: r.str(), Position: r.str(), CreatedAt: time.Unix(0, int64(r.num())).UTC()}
		flags := r.num()
		p.Consent.Given = flags&1 != 0
		if flags&2 != 0 {
			at := p.CreatedAt // when is not kept: that they did is what counts
			p.Consent.UnsubscribedAt = &at
		}
		p.Emails = r.strs()
		p.BouncedEmails = r.strs()
		c.Contacts[p.ID] = p
	}
}

// packMail packs what a campaign reads of a client beyond the entry's other fields:
// the order count, tags, custom fields, then each contact (ID, name, position,
// creation, consent and unsubscribe flags, addresses, bounced addresses), each string
// after its length.
func packMail(c *Client) string {
	var b []byte
	num := func(n uint64) { b = binary.AppendUvarint(b, n) }
	str := func(s string) { num(uint64(len(s))); b = append(b, s...) }
	num(uint64(max(c.OrdersCount, 0)))
	num(uint64(len(c.Tags)))
	for _, t := range c.Tags {
		str(t)
	}
	num(uint64(len(c.Custom)))
	for k, v := range c.Custom {
		str(k)
		str(v)
	}
	num(uint64(len(c.Contacts)))
	for _, p := range c.ContactList() {
		str(p.ID)
		str(p.Name)
		str(p.Position)
		num(uint64(p.CreatedAt.UnixNano()))
		flags := uint64(0)
		if p.Consent.Given {
			flags |= 1
		}
		if p.Consent.UnsubscribedAt != nil {
			flags |= 2
		}
		num(flags)
		for _, list := range [][]string{p.Emails, p.BouncedEmails} {
			num(uint64(len(list)))
			for _, s := range list {
				str(s)
			}
		}
	}
	return string(b)
}

// mailReader unpacks packMail's string.
type mailReader struct {
	s   string
	off int
}

func (r *mailReader) num() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		if r.off >= len(r.s) {
			panic(fmt.Sprintf("directory: a packed client is cut at %d bytes", len(r.s)))
		}
		c := r.s[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (r *mailReader) str() string {
	n := int(r.num())
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

func (r *mailReader) strs() []string {
	n := int(r.num())
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}
