// Orders from an accounting system (1C, MoySklad): saved by their number, so that a
// second import of the same file changes nothing and a later one updates what changed.

package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"golang.org/x/sync/errgroup"
)

// ImportPayment is the ID of the one payment an import gives an order for the paid
// amount its file shows. A file gives the total only: an order whose payments
// already add up to it keeps them (their dates and who recorded them).
const ImportPayment = "import"

// maxOrderErrors is how many problems UpsertOrders names before "and N more".
const maxOrderErrors = 20

// OrdersSaved counts what an import did.
type OrdersSaved struct{ Created, Updated, Unchanged int }

// UpsertOrders saves orders by number (their ID). The accounting system is the truth
// for what it exports: a known order takes the file's what, amount, date, due date,
// state and payments, and keeps what only the CRM has (its manager, its invoice).
// Everything is checked before anything is saved: one bad order (or an order of
// another client, or a client that does not exist) saves nothing.
//
// Clients are saved in chunks, under their money locks as a change the bot makes is,
// each client's change written down first; the activity of the whole import is
// counted at its end, a write a day. A crash leaves each client's change to
// RepairOrders, as for any change.
func (s *Store) UpsertOrders(ctx context.Context, actor string, orders []Order) (OrdersSaved, error) {
	var out OrdersSaved
	seen := make(map[string]bool, len(orders))
	for i := range orders {
		o := &orders[i]
		o.ID = strings.TrimSpace(o.ID)
		if seen[o.ID] {
			return out, invalidf("order %s is given twice", o.ID)
		}
		seen[o.ID] = true
		if o.State == "" {
			o.State = OrderInvoiced
		}
		o.PaidAt = nil
		o.settle()
		if err := o.check(); err != nil {
			return out, err
		}
	}
	byClient := map[string][]*Order{}
	var clientIDs []string
	for i := range orders {
		id := orders[i].ClientID
		if byClient[id] == nil {
			clientIDs = append(clientIDs, id)
		}
		byClient[id] = append(byClient[id], &orders[i])
	}
	// Every client exists, and an order its client's list does not name is new or
	// another client's: that is looked up (only an order of no list can be either).
	clients := make([]importClient, len(clientIDs)) // not the whole documents: 10,000 take tens of MB
	listed := make([]map[string]bool, len(clientIDs))
	if err := parallel(ctx, len(clientIDs), func(i int) error {
		c, err := s.Client(ctx, clientIDs[i])
		if err != nil {
			return err
		}
		refs, err := s.clientOrders(ctx, c.ID)
		clients[i], listed[i] = importClient{ID: c.ID, ManagerID: c.ManagerID}, make(map[string]bool, len(refs))
		for _, r := range refs {
			listed[i][r.ID] = true
		}
		return err
	}); err != nil {
		return out, err
	}
	var unlisted []string
	for i, id := range clientIDs {
		for _, o := range byClient[id] {
			if !listed[i][o.ID] {
				unlisted = append(unlisted, o.ID)
			}
		}
	}
	listed = nil
	owners, err := s.orderOwners(ctx, unlisted)
	if err != nil {
		return out, err
	}
	var problems []string
	for i := range orders {
		if owner, ok := owners[orders[i].ID]; ok && owner != orders[i].ClientID {
			problems = append(problems, fmt.Sprintf("order %s belongs to another client", orders[i].ID))
		}
	}
	if len(problems) > maxOrderErrors {
		problems = append(problems[:maxOrderErrors], fmt.Sprintf("and %d more", len(problems)-maxOrderErrors))
	}
	if len(problems) > 0 {
		return out, invalidf("%s; nothing was saved", strings.Join(problems, "; "))
	}

	im := orderImport{s: s, actor: actor, owners: owners, counts: dayCounts{}}
	for start := 0; start < len(clients) && err == nil; start += importChunk {
		err = im.chunk(ctx, clients[start:min(start+importChunk, len(clients))], byClient)
	}
	// What was carried out is counted and finished even when a chunk failed.
	if ferr := im.finish(ctx); err == nil {
		err = ferr
	}
	return im.saved, err
}

// importChunk is how many clients an import saves together, their money locks held:
// their work documents, new orders and new order lists go in a few inserts.
const importChunk = 200

// importWorkers is how many clients of a chunk have their totals, stages and history
// written at once: the engine writes one thing at a time, so more only wait.
const importWorkers = 2

// orderImport is an UpsertOrders on its way.
type orderImport struct {
	s      *Store
	actor  string
	owners map[string]string // order ID -> client, of the orders there before and in no list

	saved   OrdersSaved
	counts  dayCounts
	works   []string // carried out but for the counts
	changed []string // clients, for the change log
}

// importClient is what an import keeps of a client.
type importClient struct{ ID, ManagerID string }

// chunk saves the orders of a few clients, under their money locks.
func (im *orderImport) chunk(ctx context.Context, clients []importClient, byClient map[string][]*Order) error {
	s := im.s
	ids := make([]string, len(clients))
	for i, c := range clients {
		ids[i] = c.ID
	}
	defer s.money.lockAll(colClients, ids)()
	refs := make([][]OrderRef, len(clients))
	if err := parallel(ctx, len(clients), func(i int) (err error) {
		refs[i], err = s.clientOrders(ctx, ids[i])
		return err
	}); err != nil {
		return err
	}
	var works []*orderWork
	var before [][]OrderRef
	for i, c := range clients {
		changes, err := im.plan(ctx, c, byClient[c.ID], refs[i])
		if err != nil {
			return err
		}
		if len(changes) > 0 {
			works = append(works, newWork(im.actor, c.ID, refs[i], changes))
			before = append(before, refs[i])
		}
	}
	if len(works) == 0 {
		return nil
	}
	docs := make([]any, len(works))
	for i, w := range works {
		docs[i] = w
	}
	if _, err := s.c(colOrderWork).InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("save orders: %w", err)
	}
	if err := s.writeOrders(ctx, works); err != nil {
		return err
	}
	if err := s.crashPoint("orders.written"); err != nil {
		return err
	}
	// The order lists: the new ones in one insert.
	lists := make([][]OrderRef, len(works))
	var fresh []any
	for i, w := range works {
		lists[i] = listAfter(w, before[i])
		doc := clientOrdersDoc{ID: w.Client, Orders: lists[i]}
		if len(before[i]) == 0 {
			fresh = append(fresh, doc)
			continue
		}
		if _, err := s.c(colClientOrders).ReplaceOne(ctx, bson.D{{Key: "_id", Value: w.Client}}, doc, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("save orders of %s: %w", w.Client, err)
		}
	}
	if len(fresh) > 0 {
		there, err := s.insertNew(ctx, colClientOrders, fresh, nil)
		if err != nil {
			return fmt.Errorf("save order lists: %w", err)
		}
		for i := range there {
			doc := fresh[i].(clientOrdersDoc)
			if _, err := s.c(colClientOrders).ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc, options.Replace().SetUpsert(true)); err != nil {
				return fmt.Errorf("save orders of %s: %w", doc.ID, err)
			}
		}
	}
	later := make([]laterRecords, len(works))
	errs := make([]error, len(works))
	var g errgroup.Group
	g.SetLimit(importWorkers)
	for i := range works {
		g.Go(func() error {
			errs[i] = s.followOrders(ctx, works[i], lists[i], &later[i])
			return errs[i]
		})
	}
	err := g.Wait()
	if cerr := s.crashPoint("orders.followed"); cerr != nil {
		return cerr
	}
	var all laterRecords
	for _, l := range later {
		all.moves, all.audits = append(all.moves, l.moves...), append(all.audits, l.audits...)
	}
	if lerr := s.writeLater(ctx, &all); err == nil {
		err = lerr
	}
	for i, w := range works {
		if errs[i] == nil { // carried out: counted at the end
			s.countWork(im.counts, w)
			im.works = append(im.works, w.ID)
			im.changed = append(im.changed, w.Client)
		}
	}
	return err
}

// plan compares a client's orders in the file with what is saved: the changes, and
// the counts of what is created, updated and unchanged.
func (im *orderImport) plan(ctx context.Context, c importClient, orders []*Order, refs []OrderRef) ([]orderChange, error) {
	s := im.s
	listed := make(map[string]*OrderRef, len(refs))
	for i := range refs {
		listed[refs[i].ID] = &refs[i]
	}
	now := s.now()
	var changes []orderChange
	for _, o := range orders {
		r := listed[o.ID]
		_, known := im.owners[o.ID]
		if r != nil && sameAsRef(r, o) {
			im.saved.Unchanged++
			continue
		}
		var before *Order
		if r != nil || known {
			var err error
			before, err = s.Order(ctx, o.ID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
		if before == nil {
			after := *o
			if after.ManagerID == "" {
				after.ManagerID = c.ManagerID
			}
			after.CreatedAt, after.CreatedBy, after.UpdatedAt, after.UpdatedBy = now, im.actor, now, im.actor
			changes = append(changes, orderChange{after: &after})
			im.saved.Created++
			continue
		}
		if before.ClientID != o.ClientID {
			return nil, invalidf("order %s belongs to another client", o.ID)
		}
		after := updated(before, o)
		if sameOrder(before, after) {
			im.saved.Unchanged++
			continue
		}
		after.UpdatedAt, after.UpdatedBy = now, im.actor
		changes = append(changes, orderChange{before: before, after: after})
		im.saved.Updated++
	}
	return changes, nil
}

// finish counts the activity of every change carried out, a write a day, then lets
// their work documents go, and records the clients in the change log. A crash before
// the counts leaves the work documents, and RepairOrders counts each.
func (im *orderImport) finish(ctx context.Context) error {
	s := im.s
	ctx = context.WithoutCancel(ctx)
	s.writeCounts(ctx, im.counts)
	var err error
	if len(im.works) > 0 {
		err = s.deleteEach(ctx, colOrderWork, im.works)
	}
	if rerr := s.recordChanges(ctx, im.changed...); rerr != nil {
		s.log.Warn("record client changes", "err", rerr)
	}
	return err
}

// deleteEach deletes documents by _id, one a round trip: a filter with $in reads and
// decodes every document of the collection on the embedded engine.
func (s *Store) deleteEach(ctx context.Context, collection string, ids []string) error {
	return parallel(ctx, len(ids), func(i int) error {
		if _, err := s.c(collection).DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[i]}}); err != nil {
			return fmt.Errorf("delete %s %s: %w", collection, ids[i], err)
		}
		return nil
	})
}

// lockAll takes the locks of several documents, each stripe once and in order, so
// that two callers never wait for each other.
func (l *docLocks) lockAll(collection string, ids []string) func() {
	var stripes []int
	for _, id := range ids {
		stripes = append(stripes, l.stripe(collection, id))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, i := range stripes {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range stripes {
			l.stripes[i].Unlock()
		}
	}
}

// updated is a known order as the file gives it.
func updated(before, o *Order) *Order {
	after := *before
	after.What, after.Amount, after.Currency, after.Date, after.Due = o.What, o.Amount, o.Currency, o.Date, o.Due
	after.State, after.CancelReason = o.State, o.CancelReason
	// A file writes times to the second: the recorded one within it stays.
	if sameSecond(&before.Date, &o.Date) {
		after.Date = before.Date
	}
	if sameSecond(before.Due, o.Due) {
		after.Due = before.Due
	}
	after.Payments = o.Payments
	if paidInFile(o) && before.PaidSum() == o.PaidSum() {
		after.Payments = before.Payments
	}
	after.PaidAt = nil
	if before.State == OrderPaid && samePayments(before.Payments, after.Payments) {
		after.PaidAt = before.PaidAt
	}
	after.settle()
	return &after
}

// paidInFile tells an order whose payments are the one total an import gives.
func paidInFile(o *Order) bool {
	return len(o.Payments) == 1 && o.Payments[0].ID == ImportPayment
}

// sameAsRef tells, from the client's order list alone, that an order is as the file
// gives it; when it cannot tell (a cancelled order's reason, payments of their own)
// the order is read.
func sameAsRef(r *OrderRef, o *Order) bool {
	if o.State == OrderCancelled || r.What != o.What || r.Amount != o.Amount || r.State != o.State ||
		!sameSecond(&r.Date, &o.Date) || !sameSecond(r.Due, o.Due) || o.Currency != Currency {
		return false
	}
	switch {
	case len(o.Payments) == 0:
		return r.Paid == 0
	case paidInFile(o):
		return r.Paid == o.PaidSum()
	}
	return false
}

// newWork is a change of one client's orders as written down before any of it is
// carried out. refs is the client's order list before the change.
func newWork(actor, clientID string, refs []OrderRef, changes []orderChange) *orderWork {
	w := &orderWork{ID: newID(), Client: clientID, Actor: actor}
	w.PaidBefore, _ = paidCount(refs)
	for _, ch := range changes {
		var before Order
		if ch.before != nil {
			before = *ch.before
		}
		w.Before, w.After = append(w.Before, before), append(w.After, *ch.after)
	}
	return w
}

// orderOwners finds which of the orders exist, and their clients. The whole
// collection is read (its client field) when that costs less than a read per order,
// as for a first import into a base with few orders: only an `_id` filter is fast on
// the embedded engine.
func (s *Store) orderOwners(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	total, err := s.c(colOrders).EstimatedDocumentCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("count orders: %w", err)
	}
	type owner struct {
		ID     string `bson:"_id"`
		Client string `bson:"clientId"`
	}
	only := options.Find().SetProjection(bson.D{{Key: "clientId", Value: 1}})
	if total <= 4*int64(len(ids)) {
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
		cur, err := s.c(colOrders).Find(ctx, bson.D{}, only.SetBatchSize(5000))
		if err != nil {
			return nil, fmt.Errorf("read orders: %w", err)
		}
		err = eachDoc(ctx, cur, func(o *owner) error {
			if want[o.ID] {
				out[o.ID] = o.Client
			}
			return nil
		})
		return out, err
	}
	var mu sync.Mutex
	one := options.FindOne().SetProjection(bson.D{{Key: "clientId", Value: 1}})
	err = parallel(ctx, len(ids), func(i int) error {
		var o owner
		err := s.c(colOrders).FindOne(ctx, bson.D{{Key: "_id", Value: ids[i]}}, one).Decode(&o)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read order %s: %w", ids[i], err)
		}
		mu.Lock()
		out[o.ID] = o.Client
		mu.Unlock()
		return nil
	})
	return out, err
}

// ClientsNamed finds clients by their exact name, in any case and spacing (and ё as
// е), from the client directory: the IDs of the clients of each name asked for that
// has any. An import matches a row by name only when it has no INN or e-mail that
// finds its client.
func (s *Store) ClientsNamed(ctx context.Context, names []string) (map[string][]string, error) {
	want := map[string][]string{} // folded -> the names as asked
	for _, n := range names {
		f := foldName(n)
		if f != "" && !slices.Contains(want[f], n) {
			want[f] = append(want[f], n)
		}
	}
	out := map[string][]string{}
	if len(want) == 0 {
		return out, nil
	}
	if err := s.dir.current(ctx); err != nil {
		return nil, err
	}
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	for _, e := range s.dir.entries.list {
		for _, n := range want[foldName(e.name)] {
			out[n] = append(out[n], e.id)
		}
	}
	return out, nil
}

func foldName(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(s), "ё", "е")), " ")
}

func samePayments(a, b []Payment) bool {
	return slices.EqualFunc(a, b, func(x, y Payment) bool {
		return x.ID == y.ID && x.Amount == y.Amount && x.Date.Equal(y.Date)
	})
}

// sameSecond tells times equal to the second (or both nil).
func sameSecond(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func sameOrder(a, b *Order) bool {
	return a.What == b.What && a.Amount == b.Amount && a.Currency == b.Currency && a.Date.Equal(b.Date) &&
		sameTime(a.Due, b.Due) && a.State == b.State && a.CancelReason == b.CancelReason && samePayments(a.Payments, b.Payments)
}
