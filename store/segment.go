package store

import (
	"slices"
	"strings"
)

// Matches tells whether a client is in the segment: within a field the values are
// alternatives, fields combine with and, and Any adds alternative segments (or). An
// empty segment matches every client.
func (sg Segment) Matches(c *Client) bool {
	if sg.own(c) {
		return true
	}
	for _, alt := range sg.Any {
		if alt.Matches(c) {
			return true
		}
	}
	return false
}

// own checks the segment's own fields; with none set and alternatives given it
// matches nothing by itself (the alternatives decide).
func (sg Segment) own(c *Client) bool {
	if sg.empty() && len(sg.Any) > 0 {
		return false
	}
	fold := func(list []string, v string) bool {
		return len(list) == 0 || slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), v) })
	}
	switch {
	case len(sg.Stages) > 0 && !slices.Contains(sg.Stages, c.Stage):
		return false
	case !fold(sg.Cities, c.City), !fold(sg.Industries, c.Industry), !fold(sg.Managers, c.ManagerID):
		return false
	case len(sg.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool { return fold(sg.Tags, t) }):
		return false
	case sg.HasOrders != nil && *sg.HasOrders != (c.OrdersCount > 0):
		return false
	case len(sg.Classes) > 0 && !slices.ContainsFunc(sg.Classes, func(want string) bool { return InClass(c.Class, want) }):
		return false
	}
	for k, v := range sg.Custom {
		if !strings.EqualFold(strings.TrimSpace(c.Custom[k]), strings.TrimSpace(v)) {
			return false
		}
	}
	return true
}

func (sg Segment) empty() bool {
	return len(sg.Stages) == 0 && len(sg.Cities) == 0 && len(sg.Industries) == 0 && len(sg.Tags) == 0 &&
		len(sg.Managers) == 0 && sg.HasOrders == nil && len(sg.Custom) == 0 && len(sg.Classes) == 0
}

// Validate checks the segment's stages, here and in its alternatives.
func (sg Segment) Validate() error {
	for _, st := range sg.Stages {
		if !st.Valid() {
			return invalidf("unknown funnel stage %q in the segment", st)
		}
	}
	for _, cl := range sg.Classes {
		if !ValidClass(cl) {
			return invalidf("unknown class %q in the segment: use A, B or C, X, Y or Z, or a pair such as AX", cl)
		}
	}
	for _, alt := range sg.Any {
		if err := alt.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// MailableEmail is the address a contact gets mailings at, or "" with the reason they
// get none: no consent, unsubscribed, or no address that does not bounce.
func MailableEmail(p Contact) (string, string) {
	switch {
	case !p.Consent.Given:
		return "", "no consent"
	case p.Consent.UnsubscribedAt != nil:
		return "", "unsubscribed"
	}
	for _, e := range p.Emails {
		if !slices.Contains(p.BouncedEmails, e) {
			return e, ""
		}
	}
	if len(p.Emails) > 0 {
		return "", "bounced"
	}
	return "", "no e-mail"
}

// ValidClass says want names ABC/XYZ classes: one letter of either, or a pair.
func ValidClass(want string) bool {
	want = strings.ToUpper(strings.TrimSpace(want))
	switch len(want) {
	case 1:
		return strings.Contains("ABCXYZ", want)
	case 2:
		return strings.Contains("ABC", want[:1]) && strings.Contains("XYZ", want[1:])
	}
	return false
}

// InClass says a client of class (e.g. "AX") is in want: "A", "X" or "AX".
func InClass(class, want string) bool {
	want = strings.ToUpper(strings.TrimSpace(want))
	if class == "" || !ValidClass(want) {
		return false
	}
	for _, r := range want {
		if !strings.ContainsRune(class, r) {
			return false
		}
	}
	return true
}
