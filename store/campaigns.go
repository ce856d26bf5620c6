package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Campaigns are named in commands by their ID or their name, so a name belongs to one
// campaign, in any case and spacing. Each name has a key document in keys,
// "campaign-name:<name>", inserted before a campaign takes the name and removed after
// it lets go of it (renamed, deleted): two processes creating one name at once cannot
// both have it. A key whose campaign does not have the name (a crash between the
// writes) is stale, and taken over once older than staleGrace. Campaigns named before
// names were unique have no key; they are found by a scan of campaigns, a collection
// that stays small.

// IsDraft says the campaign was never started: it can be edited, started and deleted.
func (c *Campaign) IsDraft() bool { return c.State == CampaignDraft }

// IsFinished says the campaign sends nothing more: it can be archived.
func (c *Campaign) IsFinished() bool { return c.State == CampaignDone }

// IsArchived says the campaign is put away: lists leave it out unless asked.
func (c *Campaign) IsArchived() bool { return c.ArchivedAt != nil }

func (c *Campaign) check() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return invalidf("a campaign needs a name")
	}
	return c.Segment.Validate()
}

// campaignName is a campaign name as names are compared: in lower case, its words
// separated by one space.
func campaignName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

func campaignNameKey(name string) string { return keyCampaignName + campaignName(name) }

// CampaignNameTakenError says another campaign has the name.
type CampaignNameTakenError struct {
	Name  string
	ID    string        // the campaign that has it
	State CampaignState // "": it is being created right now
}

func (e *CampaignNameTakenError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("a campaign named %q is being created right now; choose another name", e.Name)
	}
	return fmt.Sprintf("a campaign named %q exists already (id %s, %s); choose another name", e.Name, e.ID, e.State)
}

// Unwrap makes it bad input: the person chooses another name.
func (e *CampaignNameTakenError) Unwrap() error { return ErrInvalid }

// SaveCampaign creates or replaces a campaign under its name, which no other campaign
// may have.
func (s *Store) SaveCampaign(ctx context.Context, actor string, c *Campaign) error {
	if err := c.check(); err != nil {
		return err
	}
	now := s.now()
	var old *Campaign
	if c.ID == "" {
		c.ID = newID()
		c.CreatedAt, c.CreatedBy = now, actor
	} else if prev, err := s.Campaign(ctx, c.ID); err == nil {
		old = prev
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if c.State == "" {
		c.State = CampaignDraft
	}
	c.UpdatedAt = now
	if err := s.claimCampaignName(ctx, c); err != nil {
		return err
	}
	if err := s.crashPoint("campaign:named"); err != nil {
		return err
	}
	if _, err := s.c(colCampaigns).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, c, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save campaign: %w", err)
	}
	if old != nil {
		s.releaseCampaignName(ctx, old.Name, c)
	}
	return s.Audit(ctx, actor, "campaign.save", "campaign", c.ID, map[string]any{"name": c.Name, "state": c.State})
}

// ReplaceDraft replaces a campaign that is still a draft; one started meanwhile (its
// queued letters were checked against what it says now) is left as it is, with
// ErrCampaignState.
func (s *Store) ReplaceDraft(ctx context.Context, actor string, c *Campaign) error {
	if err := c.check(); err != nil {
		return err
	}
	old, err := s.Campaign(ctx, c.ID)
	if err != nil {
		return err
	}
	c.State, c.UpdatedAt, c.ArchivedAt = CampaignDraft, s.now(), nil
	if err := s.claimCampaignName(ctx, c); err != nil {
		return err
	}
	r, err := s.c(colCampaigns).ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "state", Value: CampaignDraft}}, c)
	if err == nil && r.MatchedCount == 0 {
		err = fmt.Errorf("%w: campaign %q is no longer a draft; only a draft can be changed", ErrCampaignState, c.Name)
	}
	if err != nil {
		s.releaseCampaignName(ctx, c.Name, old) // the name it would have taken
		return err
	}
	s.releaseCampaignName(ctx, old.Name, c)
	return s.Audit(ctx, actor, "campaign.save", "campaign", c.ID, map[string]any{"name": c.Name, "state": c.State})
}

// Campaign reads a campaign.
func (s *Store) Campaign(ctx context.Context, id string) (*Campaign, error) {
	return getOne[Campaign](ctx, s, colCampaigns, id)
}

// FindCampaign finds a campaign by its ID, else by its name in any case and spacing.
// A name that several campaigns have (named before names were unique) is refused
// with their IDs.
func (s *Store) FindCampaign(ctx context.Context, ref string) (*Campaign, error) {
	ref = strings.TrimSpace(ref)
	c, err := s.Campaign(ctx, ref)
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	var k keyDoc
	err = s.getByID(ctx, colKeys, campaignNameKey(ref), &k)
	if err == nil {
		if c, err := s.Campaign(ctx, k.ClientID); err == nil && campaignName(c.Name) == campaignName(ref) {
			return c, nil
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	named, err := s.campaignsNamed(ctx, ref)
	if err != nil {
		return nil, err
	}
	switch len(named) {
	case 0:
		return nil, fmt.Errorf("campaign %q: %w", ref, ErrNotFound)
	case 1:
		return s.Campaign(ctx, named[0].ID)
	}
	ids := make([]string, len(named))
	for i, c := range named {
		ids[i] = fmt.Sprintf("%s (%s)", c.ID, c.State)
	}
	return nil, invalidf("%d campaigns are named %q: %s; give the ID", len(named), ref, strings.Join(ids, ", "))
}

// campaignsNamed lists the campaigns with a name, their IDs, names and states only: a
// scan, which the campaigns, few, allow.
func (s *Store) campaignsNamed(ctx context.Context, name string) ([]Campaign, error) {
	cur, err := s.c(colCampaigns).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}}).
		SetProjection(bson.D{{Key: "name", Value: 1}, {Key: "state", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	var out []Campaign
	want := campaignName(name)
	err = eachDoc(ctx, cur, func(c *Campaign) error {
		if campaignName(c.Name) == want {
			out = append(out, *c)
		}
		return nil
	})
	return out, err
}

// claimCampaignName gives c's name to c: refused when another campaign has it.
func (s *Store) claimCampaignName(ctx context.Context, c *Campaign) error {
	named, err := s.campaignsNamed(ctx, c.Name) // those named before names had keys
	if err != nil {
		return err
	}
	for _, o := range named {
		if o.ID != c.ID {
			return &CampaignNameTakenError{Name: c.Name, ID: o.ID, State: o.State}
		}
	}
	want := keyDoc{ID: campaignNameKey(c.Name), ClientID: c.ID, ClientName: c.Name, CreatedAt: s.now()}
	for range 3 {
		_, err := s.c(colKeys).InsertOne(ctx, want)
		if err == nil || !mongo.IsDuplicateKeyError(err) {
			return err
		}
		var have keyDoc
		err = s.getByID(ctx, colKeys, want.ID, &have)
		if errors.Is(err, ErrNotFound) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return err
		}
		if have.ClientID == c.ID {
			return nil
		}
		other, err := s.Campaign(ctx, have.ClientID)
		switch {
		case err == nil && campaignName(other.Name) == campaignName(c.Name):
			return &CampaignNameTakenError{Name: c.Name, ID: other.ID, State: other.State}
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		case s.now().Sub(have.CreatedAt) < staleGrace: // its campaign may be being written
			return &CampaignNameTakenError{Name: c.Name, ID: have.ClientID}
		}
		// Stale: left by a crash between writes, or a rename that did not finish.
		if _, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: want.ID}}); err != nil {
			return err
		}
	}
	return fmt.Errorf("the campaign name %q is being changed by someone else; try again", c.Name)
}

// releaseCampaignName lets go of a name c had, unless c still has it (its case
// changed, say). A failure leaves a stale key, which the next claim takes over.
func (s *Store) releaseCampaignName(ctx context.Context, name string, c *Campaign) {
	if key := campaignNameKey(name); key != campaignNameKey(c.Name) {
		s.releaseKey(ctx, key, c.ID)
	}
}

// editable are the fields of a draft EditDraft writes, when changed.
var editable = []string{"name", "subject", "text", "html", "sender", "schedule", "segment"}

// EditDraft changes a draft: change gets a copy to change, and only the fields it
// changed are written (the segment's field by field), so an edit of the subject
// leaves a text changed meanwhile as it is. A campaign started meanwhile is left as
// it is, with ErrCampaignState. It returns the campaign and the fields changed (none:
// nothing was written).
func (s *Store) EditDraft(ctx context.Context, actor, id string, change func(*Campaign) error) (*Campaign, []string, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !c.IsDraft() {
		return c, nil, fmt.Errorf("%w: campaign %q is %s; only a draft can be edited", ErrCampaignState, c.Name, c.State)
	}
	before, err := bson.Marshal(c)
	if err != nil {
		return nil, nil, err
	}
	next := &Campaign{}
	if err := bson.Unmarshal(before, next); err != nil { // a deep copy: change may alter the segment's lists
		return nil, nil, err
	}
	if err := change(next); err != nil {
		return c, nil, err
	}
	next.ID, next.State = c.ID, c.State
	if err := next.check(); err != nil {
		return c, nil, err
	}
	after, err := bson.Marshal(next)
	if err != nil {
		return nil, nil, err
	}
	set, unset, fields := bson.D{}, bson.D{}, []string(nil)
	for _, f := range editable {
		if f != "segment" {
			if rawChanged(bson.Raw(before), bson.Raw(after), f, f, &set, &unset) {
				fields = append(fields, f)
			}
			continue
		}
		was, _ := bson.Raw(before).Lookup(f).DocumentOK()
		now, _ := bson.Raw(after).Lookup(f).DocumentOK()
		for _, k := range segmentKeys(was, now) {
			if rawChanged(was, now, k, f+"."+k, &set, &unset) {
				fields = append(fields, f+"."+k)
			}
		}
	}
	if len(fields) == 0 {
		return c, nil, nil
	}
	if err := s.claimCampaignName(ctx, next); err != nil {
		return c, nil, err
	}
	next.UpdatedAt = s.now()
	update := bson.D{{Key: "$set", Value: append(set, bson.E{Key: "updatedAt", Value: next.UpdatedAt})}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	r, err := s.c(colCampaigns).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: CampaignDraft}}, update)
	if err == nil && r.MatchedCount == 0 {
		err = fmt.Errorf("%w: campaign %q is no longer a draft; only a draft can be edited", ErrCampaignState, c.Name)
	}
	if err != nil {
		s.releaseCampaignName(ctx, next.Name, c)
		return c, nil, err
	}
	s.releaseCampaignName(ctx, c.Name, next)
	if next, err = s.Campaign(ctx, id); err != nil {
		return nil, nil, err
	}
	return next, fields, s.Audit(ctx, actor, "campaign.edit", "campaign", id, map[string]any{"name": next.Name, "fields": fields})
}

// rawChanged adds to set (or unset, when after leaves it out) the field key of after,
// written as path, when it differs from before's.
func rawChanged(before, after bson.Raw, key, path string, set, unset *bson.D) bool {
	was, err1 := before.LookupErr(key)
	now, err2 := after.LookupErr(key)
	switch {
	case err1 != nil && err2 != nil:
		return false
	case err2 != nil:
		*unset = append(*unset, bson.E{Key: path, Value: ""})
		return true
	case err1 == nil && was.Type == now.Type && bytes.Equal(was.Value, now.Value):
		return false
	}
	*set = append(*set, bson.E{Key: path, Value: now})
	return true
}

// segmentKeys are the fields either segment has, in a steady order.
func segmentKeys(a, b bson.Raw) []string {
	var keys []string
	seen := map[string]bool{}
	for _, d := range []bson.Raw{a, b} {
		elems, _ := d.Elements()
		for _, e := range elems {
			if k := e.Key(); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// DeleteDraft deletes a draft, then lets go of its name; a campaign that was started
// is refused with ErrCampaignState (archive it once it is done).
func (s *Store) DeleteDraft(ctx context.Context, actor, id string) (*Campaign, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	refused := fmt.Errorf("%w: campaign %q is %s; only a draft can be deleted (a finished one can be archived)", ErrCampaignState, c.Name, c.State)
	if !c.IsDraft() {
		return c, refused
	}
	r, err := s.c(colCampaigns).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: CampaignDraft}})
	if err != nil {
		return c, fmt.Errorf("delete campaign: %w", err)
	}
	if r.DeletedCount == 0 {
		if c, err = s.Campaign(ctx, id); err != nil {
			return nil, err
		}
		return c, fmt.Errorf("%w: campaign %q is %s; only a draft can be deleted", ErrCampaignState, c.Name, c.State)
	}
	s.releaseKey(ctx, campaignNameKey(c.Name), c.ID)
	return c, s.Audit(ctx, actor, "campaign.delete", "campaign", id, map[string]any{"name": c.Name})
}

// ArchiveCampaign puts a finished campaign away: lists leave it out unless asked, and
// it keeps its name, its counts and its recipients' outcomes. Any other is refused
// with ErrCampaignState.
func (s *Store) ArchiveCampaign(ctx context.Context, actor, id string) (*Campaign, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case c.IsArchived():
		return c, fmt.Errorf("%w: campaign %q is archived already", ErrCampaignState, c.Name)
	case !c.IsFinished():
		return c, fmt.Errorf("%w: campaign %q is %s; only a finished campaign can be archived", ErrCampaignState, c.Name, c.State)
	}
	now := s.now()
	r, err := s.c(colCampaigns).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: c.State}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "archivedAt", Value: now}, {Key: "updatedAt", Value: now}}}})
	if err != nil {
		return c, fmt.Errorf("archive campaign: %w", err)
	}
	if r.MatchedCount == 0 {
		return c, fmt.Errorf("%w: someone else just changed campaign %q", ErrCampaignState, c.Name)
	}
	c.ArchivedAt, c.UpdatedAt = &now, now
	return c, s.Audit(ctx, actor, "campaign.archive", "campaign", id, map[string]any{"name": c.Name, "state": c.State})
}
