package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// normalizeClient checks a client's fields and brings keys to their canonical form.
func (s *Store) normalizeClient(c *Client) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return invalidf("a client needs a name")
	}
	if c.Kind == "" {
		c.Kind = KindCompany
	}
	if c.Kind != KindCompany && c.Kind != KindPerson {
		return invalidf("client kind %q is neither company nor person", c.Kind)
	}
	if c.Stage == "" {
		c.Stage = StageWhite
	}
	if !c.Stage.Valid() {
		return invalidf("unknown funnel stage %q", c.Stage)
	}
	c.RefusalReason = strings.TrimSpace(c.RefusalReason)
	if c.Stage.Red() && c.RefusalReason == "" {
		return invalidf("a client at stage %s needs the refusal reason", c.Stage)
	}
	if len(c.Custom) > 0 {
		custom := make(map[string]string, len(c.Custom))
		for k, v := range c.Custom {
			name, err := customFieldName(k)
			if err != nil {
				return err
			}
			custom[name] = v
		}
		c.Custom = custom
	}
	if c.Legal.INN != "" {
		inn, err := NormalizeINN(c.Legal.INN)
		if err != nil {
			return err
		}
		c.Legal.INN = inn
	}
	var err error
	if c.Emails, err = normalizeList(c.Emails, NormalizeEmail); err != nil {
		return err
	}
	if c.Phones, err = normalizeList(c.Phones, s.phones.Normalize); err != nil {
		return err
	}
	for id, p := range c.Contacts {
		p.ID = id
		if err := s.normalizeContact(&p); err != nil {
			return err
		}
		c.Contacts[id] = p
	}
	c.Tags = cleanTags(c.Tags)
	return nil
}

func (s *Store) normalizeContact(p *Contact) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return invalidf("a contact person needs a name")
	}
	var err error
	if p.Emails, err = normalizeList(p.Emails, NormalizeEmail); err != nil {
		return err
	}
	if p.Phones, err = normalizeList(p.Phones, s.phones.Normalize); err != nil {
		return err
	}
	if b := p.Birthday; b != nil {
		year := b.Year
		if year == 0 {
			year = 2000 // a leap year, so 29 February is accepted
		}
		d := time.Date(year, time.Month(b.Month), b.Day, 0, 0, 0, 0, time.UTC)
		if b.Month < 1 || b.Month > 12 || d.Day() != b.Day || b.Year != 0 && (b.Year < 1900 || d.After(s.now())) {
			return invalidf("birthday %02d.%02d is not a date", b.Day, b.Month)
		}
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil {
			return invalidf("unknown time zone %q (expected e.g. Europe/Moscow)", p.TimeZone)
		}
	}
	return nil
}

// customFieldName makes a custom field's name safe as a document field name.
func customFieldName(k string) (string, error) {
	name := strings.ReplaceAll(strings.TrimSpace(k), ".", "_")
	if name == "" || strings.HasPrefix(name, "$") {
		return "", invalidf("custom field name %q is not allowed", k)
	}
	return name, nil
}

func normalizeList(in []string, norm func(string) (string, error)) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range in {
		if strings.TrimSpace(v) == "" {
			continue
		}
		n, err := norm(v)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func cleanTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// CreateClient saves a new client with its contact persons. A phone, e-mail or INN that
// another client owns gives a *KeyTakenError and saves nothing.
func (s *Store) CreateClient(ctx context.Context, actor string, c *Client) error {
	return s.CreateClients(ctx, actor, []*Client{c})[0]
}

// CreateClients saves many new clients in a few round trips (imports); the error for
// each client is at its index, nil when it was saved.
func (s *Store) CreateClients(ctx context.Context, actor string, clients []*Client) []error {
	errs := make([]error, len(clients))
	now := s.now()
	claims := make([]claim, 0, len(clients))
	idx := make([]int, 0, len(clients))
	for i, c := range clients {
		if c.Contacts == nil {
			c.Contacts = map[string]Contact{}
		}
		for id, p := range c.Contacts {
			if p.CreatedAt.IsZero() {
				p.CreatedAt = now
			}
			c.Contacts[id] = p
		}
		if err := s.normalizeClient(c); err != nil {
			errs[i] = err
			continue
		}
		keys, err := keysOf(c)
		if err != nil {
			errs[i] = err
			continue
		}
		if c.ID == "" {
			c.ID = newID()
		}
		c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy, c.Version = now, now, actor, actor, 1
		claims = append(claims, claim{clientID: c.ID, clientName: c.Name, keys: keys})
		idx = append(idx, i)
	}

	// Keys first: a crash after this leaves only stale keys, which nothing follows.
	claimErrs := s.claimKeys(ctx, claims)
	s.reclaimFromFailedSiblings(ctx, claims, claimErrs)
	for j, err := range claimErrs {
		errs[idx[j]] = err
	}
	if err := s.crashPoint("create:keys"); err != nil {
		return fillErrs(errs, err)
	}

	var docs []any
	var saved []int
	for _, i := range idx {
		if errs[i] == nil {
			docs = append(docs, clients[i])
			saved = append(saved, i)
		}
	}
	if len(docs) == 0 {
		return errs
	}
	_, err := s.c(colClients).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if err != nil {
		failed := map[int]error{}
		if errors.As(err, &bwe) {
			for _, we := range bwe.WriteErrors {
				failed[we.Index] = fmt.Errorf("save client: %s", we.Message)
			}
		} else {
			for j := range saved {
				failed[j] = fmt.Errorf("save client: %w", err)
			}
		}
		for j, ferr := range failed {
			i := saved[j]
			errs[i] = ferr
			for k := range claims[indexOf(idx, i)].keys {
				s.releaseKey(ctx, k, clients[i].ID)
			}
		}
	}

	var changed []string
	var made []*Client
	for _, i := range saved {
		if errs[i] == nil {
			changed = append(changed, clients[i].ID)
			made = append(made, clients[i])
			s.dir.put(clients[i])
		}
	}
	if err := s.recordCreated(ctx, made); err != nil {
		s.log.Warn("record client changes", "err", err)
	}
	if len(changed) == 1 {
		_ = s.Audit(ctx, actor, "client.create", "client", changed[0], map[string]any{"name": clients[saved[0]].Name})
	} else if len(changed) > 1 {
		_ = s.Audit(ctx, actor, "client.import", "client", "", map[string]any{"count": len(changed)})
	}
	return errs
}

// reclaimFromFailedSiblings gives a second chance to clients that lost a key to
// another client of the same batch which then failed and gave its keys back.
func (s *Store) reclaimFromFailedSiblings(ctx context.Context, claims []claim, errs []error) {
	for round := 0; round < 3; round++ {
		failed := map[string]bool{}
		for j, err := range errs {
			if err != nil {
				failed[claims[j].clientID] = true
			}
		}
		var again []int
		for j, err := range errs {
			var taken *KeyTakenError
			if errors.As(err, &taken) && failed[taken.ClientID] && taken.ClientID != claims[j].clientID {
				again = append(again, j)
			}
		}
		if len(again) == 0 {
			return
		}
		sub := make([]claim, len(again))
		for k, j := range again {
			sub[k] = claims[j]
		}
		for k, err := range s.claimKeys(ctx, sub) {
			errs[again[k]] = err
		}
	}
}

func fillErrs(errs []error, err error) []error {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

func indexOf(xs []int, v int) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

// Client reads one client by ID.
func (s *Store) Client(ctx context.Context, id string) (*Client, error) {
	return getOne[Client](ctx, s, colClients, id)
}

// ClientPatch names the fields to change; nil fields are left as they are, so two
// managers editing different fields of one card never overwrite each other.
type ClientPatch struct {
	Name, City, Region, Industry, Segment, Type, LeadSource, Website, Notes *string
	Kind                                                                    *ClientKind
	INN                                                                     *string // legal.inn alone
	Tags                                                                    *[]string
	Phones, Emails                                                          *[]string
	ManagerID                                                               *string
	GreetingsOff                                                            *bool
	Custom                                                                  map[string]*string // nil value removes the field
}

// UpdateClient applies a patch with field-level $set.
func (s *Store) UpdateClient(ctx context.Context, actor, id string, p ClientPatch) (*Client, error) {
	cur, err := s.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	next := *cur
	set := bson.D{}
	changes := map[string]any{}
	str := func(field string, dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = strings.TrimSpace(*v)
			set = append(set, bson.E{Key: field, Value: *dst})
			changes[field] = *dst
		}
	}
	str("name", &next.Name, p.Name)
	str("city", &next.City, p.City)
	str("region", &next.Region, p.Region)
	str("industry", &next.Industry, p.Industry)
	str("segment", &next.Segment, p.Segment)
	str("type", &next.Type, p.Type)
	str("leadSource", &next.LeadSource, p.LeadSource)
	str("website", &next.Website, p.Website)
	str("notes", &next.Notes, p.Notes)
	str("managerId", &next.ManagerID, p.ManagerID)
	if p.Kind != nil {
		next.Kind = *p.Kind
		set = append(set, bson.E{Key: "kind", Value: next.Kind})
	}
	if p.INN != nil {
		next.Legal.INN = strings.TrimSpace(*p.INN)
	}
	patched(&next.Tags, p.Tags)
	patched(&next.Phones, p.Phones)
	patched(&next.Emails, p.Emails)
	if p.GreetingsOff != nil {
		next.GreetingsOff = *p.GreetingsOff
		set = append(set, bson.E{Key: "greetingsOff", Value: next.GreetingsOff})
	}
	next.Contacts = cur.Contacts
	if err := s.normalizeClient(&next); err != nil {
		return nil, err
	}
	// Fields that normalisation may change are set from the normalised client.
	for _, f := range []struct {
		given bool
		field string
		value any
	}{
		{p.Tags != nil, "tags", next.Tags},
		{p.Phones != nil, "phones", next.Phones},
		{p.Emails != nil, "emails", next.Emails},
	} {
		if f.given {
			set = append(set, bson.E{Key: f.field, Value: f.value})
			changes[f.field] = f.value
		}
	}
	unset := bson.D{}
	if p.INN != nil {
		if next.Legal.INN == "" {
			unset = append(unset, bson.E{Key: "legal.inn", Value: ""})
		} else {
			set = append(set, bson.E{Key: "legal.inn", Value: next.Legal.INN})
		}
		changes["inn"] = next.Legal.INN
	}
	for k, v := range p.Custom {
		k, err := customFieldName(k)
		if err != nil {
			return nil, err
		}
		if v == nil {
			unset = append(unset, bson.E{Key: "custom." + k, Value: ""})
		} else {
			set = append(set, bson.E{Key: "custom." + k, Value: *v})
		}
		changes["custom."+k] = v
	}
	if len(set) == 0 && len(unset) == 0 {
		return cur, nil
	}
	return s.applyClientUpdate(ctx, actor, cur, &next, set, unset, changes, "client.update")
}

// applyClientUpdate writes a field-level update, claiming keys the new state adds
// before the write and releasing keys it drops after it.
func (s *Store) applyClientUpdate(ctx context.Context, actor string, cur, next *Client, set, unset bson.D, changes map[string]any, action string) (*Client, error) {
	oldKeys, _ := keysOf(cur)
	newKeys, err := keysOf(next)
	if err != nil {
		return nil, err
	}
	added := map[string]string{}
	for k, contact := range newKeys {
		if oc, ok := oldKeys[k]; !ok || oc != contact || cur.Name != next.Name {
			added[k] = contact
		}
	}
	if len(added) > 0 {
		if err := s.claimKeys(ctx, []claim{{clientID: cur.ID, clientName: next.Name, keys: added}})[0]; err != nil {
			return nil, err
		}
	}

	// Before the write: a crash between the two may keep a campaign letter from
	// someone still mailable, never send one to someone who is not.
	if err := s.recordOptOuts(ctx, lostMailings(cur, next)...); err != nil {
		return nil, err
	}
	now := s.now()
	set = append(set, bson.E{Key: "updatedAt", Value: now}, bson.E{Key: "updatedBy", Value: actor})
	update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	var updated Client
	unlock := s.locks.lock(colClients, cur.ID)
	err = s.c(colClients).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: cur.ID}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&updated)
	unlock()
	if err != nil {
		for k := range added {
			if _, had := oldKeys[k]; !had {
				s.releaseKey(ctx, k, cur.ID)
			}
		}
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("client %s: %w", cur.ID, ErrNotFound)
		}
		return nil, fmt.Errorf("save client: %w", err)
	}
	if err := s.crashPoint("update:written"); err != nil {
		return nil, err
	}
	// Release what the stored document no longer lists (it may differ from next if
	// someone else wrote meanwhile, so check the document as written).
	stored, _ := keysOf(&updated)
	for k := range oldKeys {
		if _, still := stored[k]; !still {
			s.releaseKey(ctx, k, cur.ID)
		}
	}
	s.dir.put(&updated)
	if err := s.recordChanges(ctx, cur.ID); err != nil {
		s.log.Warn("record client change", "err", err)
	}
	_ = s.Audit(ctx, actor, action, "client", cur.ID, changes)
	return &updated, nil
}

// MoveStage moves a client along the funnel and records the move in the timeline. A
// red stage needs the reason (why.Reason; why.Code when it is a quick one).
func (s *Store) MoveStage(ctx context.Context, actor, clientID string, to Stage, why Refusal) (*Client, error) {
	return s.moveStage(ctx, actor, clientID, to, why, "")
}

// moveStage moves a client; orderID names the order the move follows from, if any.
func (s *Store) moveStage(ctx context.Context, actor, clientID string, to Stage, why Refusal, orderID string) (*Client, error) {
	return s.moveStageLater(ctx, actor, clientID, to, why, orderID, nil)
}

// moveStageLater is moveStage; with later given, the move's record for the reports,
// its change-log and audit entries are left in it for the caller to write together
// with others' (an import moves thousands of clients).
func (s *Store) moveStageLater(ctx context.Context, actor, clientID string, to Stage, why Refusal, orderID string, later *laterRecords) (*Client, error) {
	if !to.Valid() {
		return nil, invalidf("unknown funnel stage %q", to)
	}
	if !why.Code.Valid() {
		return nil, invalidf("unknown refusal reason %q", why.Code)
	}
	reason, code := strings.TrimSpace(why.Reason), why.Code
	if to.Red() && reason == "" {
		return nil, invalidf("moving a client to %s needs the reason", to)
	}
	if !to.Red() {
		code = ""
	}
	now := s.now()
	set := bson.D{{Key: "stage", Value: to}, {Key: "stageSince", Value: now}, {Key: "updatedAt", Value: now}, {Key: "updatedBy", Value: actor}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	var unset bson.D
	if to.Red() {
		set = append(set, bson.E{Key: "refusalReason", Value: reason})
	} else {
		unset = append(unset, bson.E{Key: "refusalReason", Value: ""})
	}
	if code != "" {
		set = append(set, bson.E{Key: "refusalCode", Value: code})
	} else {
		unset = append(unset, bson.E{Key: "refusalCode", Value: ""})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	// The document before the write gives the true "from" even when two managers move
	// the same client at once: each move is recorded from what it replaced.
	var before Client
	unlock := s.locks.lock(colClients, clientID)
	err := s.c(colClients).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: clientID}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err == nil && before.Stage == to {
		// Not a move: the time in the stage goes on. Put back under the same lock, so
		// that a move right after is not undone (a rare path: the common one stays one
		// write).
		_, err = s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: clientID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "stageSince", Value: before.StageSince}}}})
	}
	unlock()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("move stage: %w", err)
	}
	after := before
	after.Stage, after.UpdatedAt, after.UpdatedBy, after.Version = to, now, actor, before.Version+1
	after.RefusalReason, after.RefusalCode = "", code
	if to.Red() {
		after.RefusalReason = reason
	}
	after.StageSince = &now
	if before.Stage == to {
		after.StageSince = before.StageSince
	} else {
		since := before.CreatedAt
		if before.StageSince != nil {
			since = *before.StageSince
		}
		// The reason is the move's own: in the entry's text too, it was shown twice.
		it, err := s.AppendInteraction(ctx, clientID, Interaction{
			Kind: InteractionStageChange, AuthorID: actor, OrderID: orderID,
			Stage: &StageChange{From: before.Stage, To: to, Reason: reason, Code: code, Since: &since},
		})
		if err != nil {
			return nil, err
		}
		after.TimelineSeq++
		move, _ := stageMoveOf(clientID, &it)
		if later != nil {
			later.moves = append(later.moves, move)
		} else if err := s.recordStageMove(ctx, move); err != nil {
			return nil, err
		}
		if orderID != "" {
			// Recorded again by RepairOrders after a crash: an _id of its own.
			if later != nil {
				later.audits = append(later.audits, stageAudit(move, orderID))
			} else if err := s.writeLater(ctx, &laterRecords{audits: []any{stageAudit(move, orderID)}}); err != nil {
				return nil, err
			}
		}
	}
	s.dir.put(&after)
	if later != nil {
		return &after, nil
	}
	if err := s.recordChanges(ctx, clientID); err != nil {
		s.log.Warn("record client change", "err", err)
	}
	if orderID == "" || before.Stage == to {
		_ = s.Audit(ctx, actor, "client.stage", "client", clientID, stageAuditChanges(before.Stage, to, reason, code, orderID))
	}
	return &after, nil
}

// DeleteClient removes a client, then its keys (so a crash leaves only stale keys).
func (s *Store) DeleteClient(ctx context.Context, actor, clientID string) error {
	cur, err := s.Client(ctx, clientID)
	if err != nil {
		return err
	}
	if err := s.recordOptOuts(ctx, lostMailings(cur, nil)...); err != nil {
		return err
	}
	if _, err := s.c(colClients).DeleteOne(ctx, bson.D{{Key: "_id", Value: clientID}}); err != nil {
		return fmt.Errorf("delete client: %w", err)
	}
	keys, _ := keysOf(cur)
	for k := range keys {
		s.releaseKey(ctx, k, clientID)
	}
	s.dir.remove(clientID)
	if err := s.recordChanges(ctx, clientID); err != nil {
		s.log.Warn("record client change", "err", err)
	}
	return s.Audit(ctx, actor, "client.delete", "client", clientID, map[string]any{"name": cur.Name})
}

// EachClient streams every client (exports, repairs, reports): a cold path.
func (s *Store) EachClient(ctx context.Context, fn func(*Client) error) error {
	cur, err := s.c(colClients).Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return err
	}
	return eachDoc(ctx, cur, fn)
}
