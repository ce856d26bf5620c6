package main

import (
	"context"
	"encoding/json"
	"fmt"
	netmail "net/mail"
	"os"
	"strings"

	"github.com/crm-team/crm/store"
)

// draft builds the campaign the create flags describe; manager names in its segment
// are resolved later, with the store open.
func (f *campaignFlags) draft() (*store.Campaign, error) {
	bad := func(format string, a ...any) error { return campaignUsageError("create", format, a...) }
	switch {
	case strings.TrimSpace(f.name) == "":
		return nil, bad("give the campaign a --name")
	case strings.TrimSpace(f.subject) == "":
		return nil, bad("give the letters a --subject")
	case (f.text == "") == (f.textFile == ""):
		return nil, bad("give the text part with --text or --text-file (one of them)")
	}
	c := &store.Campaign{}
	return c, f.apply(c, "create")
}

// segmentFlags are the flags that make a segment, besides --segment-file.
var segmentFlags = []string{"stage", "city", "industry", "tag", "manager", "has-orders", "class", "custom"}

// checkEdit refuses an edit that changes nothing, or is unclear, before the store is
// opened.
func (f *campaignFlags) checkEdit() error {
	bad := func(format string, a ...any) error { return campaignUsageError("edit", format, a...) }
	switch {
	case len(f.given) == 0 || len(f.given) == 1 && f.given["as"]:
		return bad("say what to change, e.g. --subject \"...\"")
	case f.given["text"] && f.given["text-file"]:
		return bad("give the text part with --text or --text-file, not both")
	case f.given["name"] && strings.TrimSpace(f.name) == "":
		return bad("--name: a campaign needs a name")
	case f.given["subject"] && strings.TrimSpace(f.subject) == "":
		return bad("--subject: the letters need a subject")
	case f.given["text"] && strings.TrimSpace(f.text) == "":
		return bad("--text: the letters need a text part")
	}
	return nil
}

// apply sets the fields of c whose flags were given (all of create's); a segment flag
// given replaces that part of the segment, and an empty value clears it.
func (f *campaignFlags) apply(c *store.Campaign, sub string) error {
	bad := func(format string, a ...any) error { return campaignUsageError(sub, format, a...) }
	given := f.given
	if given["name"] {
		c.Name = f.name
	}
	if given["subject"] {
		c.Subject = f.subject
	}
	if given["text"] {
		c.Text = f.text
	}
	if given["sender"] {
		c.Sender = strings.TrimSpace(f.sender)
		if c.Sender != "" {
			if _, err := netmail.ParseAddress(c.Sender); err != nil {
				return bad("--sender %q: use an address, e.g. \"Sales team <news@company.ru>\"", c.Sender)
			}
		}
	}
	if given["schedule"] {
		c.Schedule = strings.TrimSpace(f.schedule)
	}
	if given["text-file"] {
		b, err := os.ReadFile(f.textFile)
		if err != nil {
			return fmt.Errorf("the text part: %w", err)
		}
		c.Text = string(b)
	}
	if given["html-file"] {
		c.HTML = ""
		if f.htmlFile != "" {
			b, err := os.ReadFile(f.htmlFile)
			if err != nil {
				return fmt.Errorf("the HTML part: %w", err)
			}
			c.HTML = string(b)
		}
	}
	seg := &c.Segment
	if given["stage"] {
		var err error
		if seg.Stages, err = segmentStages(values(f.stages)); err != nil {
			return bad("%v", err)
		}
	}
	for _, l := range []struct {
		flag string
		from repeatedFlag
		to   *[]string
	}{{"city", f.cities, &seg.Cities}, {"industry", f.industries, &seg.Industries}, {"tag", f.tags, &seg.Tags}, {"manager", f.managers, &seg.Managers}} {
		if given[l.flag] {
			*l.to = values(l.from)
		}
	}
	if given["class"] {
		seg.Classes = nil
		for _, v := range values(f.classes) {
			if !store.ValidClass(v) {
				return bad("--class %q: use A, B or C, X, Y or Z, or a pair such as AX", v)
			}
			seg.Classes = append(seg.Classes, strings.ToUpper(v))
		}
	}
	if given["has-orders"] {
		switch strings.ToLower(strings.TrimSpace(f.hasOrders)) {
		case "", "any":
			seg.HasOrders = nil
		case "yes", "true":
			yes := true
			seg.HasOrders = &yes
		case "no", "false":
			no := false
			seg.HasOrders = &no
		default:
			return bad("--has-orders %q: use yes or no", f.hasOrders)
		}
	}
	if given["custom"] {
		seg.Custom = nil
		for _, kv := range values(f.custom) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return bad("--custom %q: use key=value, e.g. --custom car=Toyota", kv)
			}
			if seg.Custom == nil {
				seg.Custom = map[string]string{}
			}
			seg.Custom[strings.TrimSpace(k)] = v
		}
	}
	if given["segment-file"] {
		// Flags and a file together would leave unclear how they combine (and, or).
		for _, name := range segmentFlags {
			if given[name] {
				return bad("give the segment either by flags or by --segment-file, not both")
			}
		}
		r, err := os.Open(f.segmentFile)
		if err != nil {
			return fmt.Errorf("the segment: %w", err)
		}
		defer r.Close()
		*seg = store.Segment{}
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields() // a misspelt field would widen the segment silently
		if err := dec.Decode(seg); err != nil {
			return fmt.Errorf("the segment file %s: %w (fields: stages, cities, industries, tags, managers, hasOrders, custom, any)", f.segmentFile, err)
		}
	}
	return nil
}

// values are a repeated flag's values trimmed, without the empty ones.
func values(f repeatedFlag) []string {
	var out []string
	for _, v := range f {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// edit changes the flags given of a draft and keeps the rest; then the draft is
// checked as a created one is.
func (cc *campaignCmd) edit(ctx context.Context, c *store.Campaign, f *campaignFlags) error {
	actor, err := cc.actor(ctx, f.as)
	if err != nil {
		return err
	}
	if f.given["schedule"] {
		if _, _, err := cc.cs.ReadSchedule(f.schedule); err != nil {
			return err
		}
	}
	got, fields, err := cc.s.EditDraft(ctx, actor, c.ID, func(x *store.Campaign) error {
		if err := f.apply(x, "edit"); err != nil {
			return err
		}
		if f.given["manager"] || f.given["segment-file"] {
			return cc.resolveManagers(ctx, &x.Segment)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("campaign %q not changed: %w", c.Name, err)
	}
	if len(fields) == 0 {
		fmt.Fprintf(cc.e.stdout, "campaign %q already says so: nothing changed\n", c.Name)
		return nil
	}
	fmt.Fprintf(cc.e.stdout, "draft %q changed (%s), id %s\n", got.Name, strings.Join(fields, ", "), got.ID)
	return cc.checkDraft(ctx, got)
}

// putAway deletes a draft or archives a finished campaign; anything else is refused
// with the reason, and nothing changes.
func (cc *campaignCmd) putAway(ctx context.Context, sub string, c *store.Campaign, as string) error {
	actor, err := cc.actor(ctx, as)
	if err != nil {
		return err
	}
	done := "archived"
	if sub == "delete" {
		done = "deleted"
		_, err = cc.s.DeleteDraft(ctx, actor, c.ID)
	} else {
		_, err = cc.s.ArchiveCampaign(ctx, actor, c.ID)
	}
	if err != nil {
		return fmt.Errorf("campaign %q not %s: %w", c.Name, done, err)
	}
	if sub == "delete" {
		fmt.Fprintf(cc.e.stdout, "draft %q deleted\n", c.Name)
	} else {
		fmt.Fprintf(cc.e.stdout, "campaign %q archived: crm campaign list --all shows it, report and status still work\n", c.Name)
	}
	return nil
}

// segmentStages reads --stage values as import reads the stage column: English or
// Russian names ("gold", "золотой", "зелёно-золотой").
func segmentStages(values []string) ([]store.Stage, error) {
	var out []store.Stage
	for _, v := range values {
		st, err := store.ParseStage(v)
		if err != nil {
			return nil, fmt.Errorf("--stage: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}
