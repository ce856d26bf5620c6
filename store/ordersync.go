// How an order change is written and what follows from it: the client's order list
// and totals, its stage, its history and the activity counts. Without transactions,
// the change is first written down whole (an "orderWork" document), then carried out
// step by step; a crash leaves the document, and RepairOrders finishes it.

package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ActInvoiced is the activity metric of orders made: their amount on their date.
const ActInvoiced = "invoiced"

// orderChange is one order's write: before is nil for a new order.
type orderChange struct{ before, after *Order }

// orderWork is a change of one client's orders on its way: kept until everything
// that follows from it is done.
type orderWork struct {
	ID     string  `bson:"_id"`
	Client string  `bson:"client"`
	Actor  string  `bson:"actor,omitempty"`
	Before []Order `bson:"-"` // an order with no ID: the order is new
	After  []Order `bson:"-"`
	// PaidBefore is the client's paid orders before the change: the stage follows
	// the change in their number.
	PaidBefore int  `bson:"paidBefore"`
	Lined      bool `bson:"lined,omitempty"`   // the history lines are written
	Counted    bool `bson:"counted,omitempty"` // the activity is counted
}

// orderWorkDoc is how an orderWork is stored: the orders packed in one binary field.
// The embedded engine decodes every field of a document on each update and delete
// by _id; packed, an import's 10,000 work documents are marked and deleted in a
// fraction of the time.
type orderWorkDoc struct {
	ID         string `bson:"_id"`
	Client     string `bson:"client"`
	Actor      string `bson:"actor,omitempty"`
	Orders     []byte `bson:"orders,omitempty"` // BSON of workOrders
	PaidBefore int    `bson:"paidBefore"`
	Lined      bool   `bson:"lined,omitempty"`
	Counted    bool   `bson:"counted,omitempty"`
	// Before and After as a version before the packing wrote them.
	Before []Order `bson:"before,omitempty"`
	After  []Order `bson:"after,omitempty"`
}

type workOrders struct {
	Before []Order `bson:"before"`
	After  []Order `bson:"after"`
}

func (w orderWork) MarshalBSON() ([]byte, error) {
	packed, err := bson.Marshal(workOrders{Before: w.Before, After: w.After})
	if err != nil {
		return nil, err
	}
	return bson.Marshal(orderWorkDoc{ID: w.ID, Client: w.Client, Actor: w.Actor, Orders: packed,
		PaidBefore: w.PaidBefore, Lined: w.Lined, Counted: w.Counted})
}

func (w *orderWork) UnmarshalBSON(b []byte) error {
	var d orderWorkDoc
	if err := bson.Unmarshal(b, &d); err != nil {
		return err
	}
	orders := workOrders{Before: d.Before, After: d.After}
	if len(d.Orders) > 0 {
		if err := bson.Unmarshal(d.Orders, &orders); err != nil {
			return fmt.Errorf("order work %s: %w", d.ID, err)
		}
	}
	*w = orderWork{ID: d.ID, Client: d.Client, Actor: d.Actor, Before: orders.Before, After: orders.After,
		PaidBefore: d.PaidBefore, Lined: d.Lined, Counted: d.Counted}
	return nil
}

type clientOrdersDoc struct {
	ID     string     `bson:"_id"`
	Orders []OrderRef `bson:"orders"`
}

// clientOrders reads a client's order list, newest first.
func (s *Store) clientOrders(ctx context.Context, clientID string) ([]OrderRef, error) {
	var doc clientOrdersDoc
	if err := s.getByID(ctx, colClientOrders, clientID, &doc); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read orders of %s: %w", clientID, err)
	}
	return doc.Orders, nil
}

func paidCount(refs []OrderRef) (n int, total int64) {
	for _, r := range refs {
		if r.State == OrderPaid {
			n++
		}
		if r.State != OrderCancelled {
			total += r.Paid
		}
	}
	return n, total
}

// applyOrders writes the changes of one client's orders and what follows from them.
// The caller holds the client's money lock and has checked each after.
func (s *Store) applyOrders(ctx context.Context, actor, clientID string, changes []orderChange) error {
	refs, err := s.clientOrders(ctx, clientID)
	if err != nil {
		return err
	}
	w := newWork(actor, clientID, refs, changes)
	if _, err := s.c(colOrderWork).InsertOne(ctx, w); err != nil {
		return fmt.Errorf("save orders: %w", err)
	}
	return s.finishOrders(ctx, w, refs)
}

// finishOrders carries out a written-down change; each step may be done again. refs
// as for carryOut; nil also says a crash may have left the change halfway, so its
// stage moves' records are written again (recordOrderMoves).
func (s *Store) finishOrders(ctx context.Context, w *orderWork, refs []OrderRef) error {
	if err := s.carryOut(ctx, w, refs); err != nil {
		return err
	}
	if refs == nil {
		if err := s.recordOrderMoves(ctx, w); err != nil {
			return err
		}
	}
	if !w.Counted {
		counts := dayCounts{}
		s.countWork(counts, w)
		s.writeCounts(ctx, counts)
		if err := s.markOrderWork(ctx, w.ID, "counted"); err != nil {
			return err
		}
	}
	_, err := s.c(colOrderWork).DeleteOne(ctx, bson.D{{Key: "_id", Value: w.ID}})
	return err
}

// carryOut does a written-down change but its activity counts: the orders, the
// client's order list and totals, its stage and its history. refs is the client's
// order list as read under its money lock before the change (nil: read it).
func (s *Store) carryOut(ctx context.Context, w *orderWork, refs []OrderRef) error {
	if err := s.writeOrders(ctx, []*orderWork{w}); err != nil {
		return err
	}
	if err := s.crashPoint("orders.written"); err != nil {
		return err
	}
	if refs == nil {
		var err error
		if refs, err = s.clientOrders(ctx, w.Client); err != nil {
			return err
		}
	}
	list := listAfter(w, refs)
	if _, err := s.c(colClientOrders).ReplaceOne(ctx, bson.D{{Key: "_id", Value: w.Client}},
		clientOrdersDoc{ID: w.Client, Orders: list}, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save orders of %s: %w", w.Client, err)
	}
	return s.followOrders(ctx, w, list, nil)
}

// listAfter is a client's order list (refs) with a change's orders, newest first.
func listAfter(w *orderWork, refs []OrderRef) []OrderRef {
	list := slices.Clone(refs)
	for i := range w.After {
		r := refOf(&w.After[i])
		if j := slices.IndexFunc(list, func(x OrderRef) bool { return x.ID == r.ID }); j >= 0 {
			list[j] = r
		} else {
			list = append(list, r)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Date.After(list[j].Date) })
	return list
}

// followOrders brings a client's totals, stage and history in line with its orders
// (list, saved). With later given, the change log and a stage move's records are
// left to the caller (an import writes them together).
func (s *Store) followOrders(ctx context.Context, w *orderWork, list []OrderRef, later *laterRecords) error {
	paid, total := paidCount(list)
	var lines []Interaction
	if !w.Lined {
		lines = orderLines(w)
	}
	c, err := s.setClientTotals(ctx, w.Client, clientTotals{paid: paid, total: total, first: firstPaid(list),
		grew: paid > w.PaidBefore, lines: len(lines)}, later == nil)
	if err != nil {
		return err
	}
	if err := s.crashPoint("orders.totals"); err != nil {
		return err
	}
	if to := moneyStage(c.Stage, w.PaidBefore, paid); to != c.Stage {
		why := Refusal{Code: c.RefusalCode, Reason: c.RefusalReason} // red stays red, for the same reason
		if to.Red() && why.Reason == "" {
			why.Reason = "order " + causeOf(w)
		}
		if _, err := s.moveStageLater(ctx, w.Actor, w.Client, to, why, causeOf(w), later); err != nil {
			return err
		}
	}
	if !w.Lined {
		if _, err := s.writeNumbered(ctx, w.Client, c.ManagerID, c.TimelineSeq-int64(len(lines))+1, lines); err != nil {
			return err
		}
		if err := s.markOrderWork(ctx, w.ID, "lined"); err != nil {
			return err
		}
		w.Lined = true
	}
	return s.crashPoint("orders.lined")
}

// laterRecords are what an import's stage moves leave to be written together: the
// moves for the reports (a day's are one document, which a write a move would
// rewrite thousands of times) and their audit entries.
type laterRecords struct {
	moves  []StageMove
	audits []any
}

func (s *Store) writeLater(ctx context.Context, l *laterRecords) error {
	byDay := map[string][]string{}
	for _, m := range l.moves {
		id := s.companyDayID(m.At)
		byDay[id] = append(byDay[id], m.line())
	}
	for id, lines := range byDay {
		err := s.upsertOne(ctx, colStageDays, id, bson.D{{Key: "$addToSet", Value: bson.D{{Key: "moves", Value: bson.D{{Key: "$each", Value: lines}}}}}})
		if err != nil {
			return fmt.Errorf("record stage moves: %w", err)
		}
	}
	if len(l.audits) > 0 {
		if _, err := s.insertNew(ctx, colAudit, l.audits, nil); err != nil {
			return fmt.Errorf("write audit log: %w", err)
		}
	}
	return nil
}

// stageMoveOf is the report record of a stage-change entry; false for an entry
// written before entries kept when the client entered its From stage.
func stageMoveOf(clientID string, it *Interaction) (StageMove, bool) {
	st := it.Stage
	if it.Kind != InteractionStageChange || st == nil || st.Since == nil {
		return StageMove{}, false
	}
	return StageMove{Client: clientID, Seq: it.Seq, From: st.From, To: st.To, At: it.At,
		Since: *st.Since, Reason: st.Reason, Code: st.Code, By: it.AuthorID}, true
}

// stageAudit is the audit entry of a stage move an order made. Its _id is the
// move's, so that writing it again after a crash adds nothing.
func stageAudit(m StageMove, orderID string) AuditEntry {
	return AuditEntry{ID: "stage/" + m.Client + "/" + strconv.FormatInt(m.Seq, 10), At: m.At, ActorID: m.By,
		Action: "client.stage", Entity: "client", EntityID: m.Client,
		Changes: stageAuditChanges(m.From, m.To, m.Reason, m.Code, orderID)}
}

func stageAuditChanges(from, to Stage, reason string, code RefusalCode, orderID string) map[string]any {
	return map[string]any{"from": from, "to": to, "reason": reason, "code": code, "order": orderID}
}

// recordOrderMoves writes again the report records and audit entries of the stage
// moves a change made, found in the client's history: an import writes them at the
// end of a chunk of clients, so a crash before that left the moves in the
// histories only. Writing them again adds nothing that is there.
func (s *Store) recordOrderMoves(ctx context.Context, w *orderWork) error {
	if len(w.After) == 0 {
		return nil
	}
	cause := causeOf(w)
	// The moves come before the change's own lines; two pages more for anything
	// written since.
	items, err := s.numberedPage(ctx, w.Client, len(orderLines(w))+2*timelineBucket)
	if errors.Is(err, ErrNotFound) {
		return nil // the client was deleted
	}
	if err != nil {
		return err
	}
	var later laterRecords
	for i := range items {
		if m, ok := stageMoveOf(w.Client, &items[i]); ok && items[i].OrderID == cause {
			later.moves = append(later.moves, m)
			later.audits = append(later.audits, stageAudit(m, cause))
		}
	}
	return s.writeLater(ctx, &later)
}

// writeOrders saves changes' orders: the new ones in one insert (an import brings
// thousands), and with a copy in openOrders of each with money owed, so that the
// unpaid and the overdue are read without reading every order. A new order found
// there already (the change carried out before a crash) is written again.
func (s *Store) writeOrders(ctx context.Context, works []*orderWork) error {
	var fresh, owed []any
	for _, w := range works {
		for i := range w.After {
			o := &w.After[i]
			if w.Before[i].ID == "" {
				fresh = append(fresh, o)
				if o.Owed() > 0 {
					owed = append(owed, openOf(o))
				}
				continue
			}
			if err := s.replaceByID(ctx, colOrders, o.ID, o); err != nil {
				return err
			}
			var err error
			if o.Owed() > 0 {
				err = s.replaceByID(ctx, colOpenOrders, o.ID, openOf(o))
			} else {
				_, err = s.c(colOpenOrders).DeleteOne(ctx, bson.D{{Key: "_id", Value: o.ID}})
			}
			if err != nil {
				return fmt.Errorf("keep open order %s: %w", o.ID, err)
			}
		}
	}
	for _, col := range []struct {
		name string
		docs []any
	}{{colOrders, fresh}, {colOpenOrders, owed}} {
		if len(col.docs) == 0 {
			continue
		}
		there, err := s.insertNew(ctx, col.name, col.docs, nil)
		if err != nil {
			return fmt.Errorf("save orders: %w", err)
		}
		for i := range there {
			var id string
			switch d := col.docs[i].(type) {
			case *Order:
				id = d.ID
			case *openOrder:
				id = d.ID
			}
			if err := s.replaceByID(ctx, col.name, id, col.docs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) replaceByID(ctx context.Context, col, id string, doc any) error {
	_, err := s.c(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save order %s: %w", id, err)
	}
	return nil
}

// openOrder is what openOrders keeps of an order with money owed: what the payments
// report reads, short, since the engine's cost of a read grows with the document.
type openOrder struct {
	ID      string     `bson:"_id"`
	Client  string     `bson:"c"`
	Manager string     `bson:"m,omitempty"`
	Amount  int64      `bson:"a"`
	Paid    int64      `bson:"p,omitempty"`
	Date    time.Time  `bson:"d"`
	Due     *time.Time `bson:"due,omitempty"`
}

func openOf(o *Order) *openOrder {
	return &openOrder{ID: o.ID, Client: o.ClientID, Manager: o.ManagerID, Amount: o.Amount, Paid: o.PaidSum(), Date: o.Date, Due: o.Due}
}

// EachOpenOrder streams the orders with money owed, as of their last change (the
// payments report: a small collection, read whole). Each carries its number, client,
// manager, amount, date and due date, and its payments summed in one.
func (s *Store) EachOpenOrder(ctx context.Context, fn func(*Order) error) error {
	cur, err := s.c(colOpenOrders).Find(ctx, bson.D{}, options.Find().SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("read open orders: %w", err)
	}
	return eachDoc(ctx, cur, func(x *openOrder) error {
		o := &Order{ID: x.ID, ClientID: x.Client, ManagerID: x.Manager, Amount: x.Amount, Currency: Currency,
			Date: x.Date, Due: x.Due, State: OrderInvoiced}
		if x.Paid > 0 {
			o.Payments = []Payment{{Amount: x.Paid}}
		}
		return fn(o)
	})
}

func (s *Store) markOrderWork(ctx context.Context, id, field string) error {
	_, err := s.c(colOrderWork).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: true}}}})
	return err
}

// causeOf names the order a stage move follows from: the last one whose paid state
// changed.
func causeOf(w *orderWork) string {
	for i := len(w.After) - 1; i >= 0; i-- {
		if (w.Before[i].State == OrderPaid) != (w.After[i].State == OrderPaid) {
			return w.After[i].ID
		}
	}
	return w.After[len(w.After)-1].ID
}

// clientTotals is what an order change sets on its client.
type clientTotals struct {
	paid  int
	total int64
	first *time.Time // the first order paid in full
	grew  bool       // more orders are paid than before
	lines int        // history entries to number in the same write
}

// setClientTotals keeps the card's copy of the paid orders; a new paid order ends the
// client's risk of leaving. The client returned has its last lines numbers reserved
// (TimelineSeq is the last of them), as AppendInteractions reserves them.
func (s *Store) setClientTotals(ctx context.Context, clientID string, t clientTotals, record bool) (*Client, error) {
	set := bson.D{{Key: "ordersCount", Value: t.paid}, {Key: "ordersTotal", Value: t.total}}
	var unset bson.D
	if t.first != nil {
		set = append(set, bson.E{Key: "firstPaidAt", Value: *t.first})
	} else {
		unset = append(unset, bson.E{Key: "firstPaidAt", Value: ""})
	}
	if t.grew {
		unset = append(unset, bson.E{Key: "atRiskSince", Value: ""})
	}
	inc := bson.D{{Key: "version", Value: int64(1)}}
	if t.lines > 0 {
		inc = append(inc, bson.E{Key: "timelineSeq", Value: int64(t.lines)})
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: inc}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	var c Client
	unlock := s.locks.lock(colClients, clientID)
	err := s.c(colClients).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: clientID}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	unlock()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("count orders of %s: %w", clientID, err)
	}
	s.dir.put(&c)
	if record {
		if err := s.recordChanges(ctx, clientID); err != nil {
			s.log.Warn("record client change", "err", err)
		}
	}
	return &c, nil
}

// moneyStage is the stage the methodology gives a client whose paid orders went from
// before to after: the first paid order makes a client gold and more than three
// platinum, also one who had left (a new paid order brings them back); when orders
// are cancelled or re-imported as unpaid, a stage the orders no longer support steps
// back (gold and platinum to green-gold, red-gold and red-platinum to red-green,
// platinum to gold, red-platinum to red-gold).
func moneyStage(stage Stage, before, after int) Stage {
	switch {
	case after > before && after > 3:
		return StagePlatinum
	case after > before && stage != StagePlatinum:
		return StageGold
	case after > before: // platinum by hand, now with a paid order more
		return stage
	case after == before:
		return stage
	case after == 0 && (stage == StageGold || stage == StagePlatinum):
		return StageGreenGold
	case after == 0 && (stage == StageRedGold || stage == StageRedPlatinum):
		return StageRedGreen
	case after <= 3 && stage == StagePlatinum:
		return StageGold
	case after <= 3 && stage == StageRedPlatinum:
		return StageRedGold
	}
	return stage
}

// orderLines are the history lines of a change.
func orderLines(w *orderWork) []Interaction {
	var out []Interaction
	for i := range w.After {
		b, a := &w.Before[i], &w.After[i]
		line := func(ev OrderEvent, payment int64, at Payment) {
			it := Interaction{Kind: InteractionOrder, AuthorID: w.Actor, OrderID: a.ID,
				Order: &OrderLine{Event: ev, What: a.What, Amount: a.Amount, Paid: a.PaidSum(), Payment: payment, State: a.State, Reason: a.CancelReason}}
			if ev == OrderPayment {
				it.Kind, it.At = InteractionPayment, at.At
			}
			out = append(out, it)
		}
		switch {
		case b.ID == "":
			line(OrderCreated, 0, Payment{})
		case a.State == OrderCancelled && b.State != OrderCancelled:
			line(OrderCancel, 0, Payment{})
			continue
		case a.Amount != b.Amount || a.What != b.What || !a.Date.Equal(b.Date) || a.State != b.State && len(a.Payments) == len(b.Payments):
			line(OrderChanged, 0, Payment{})
		}
		if b.ID == "" && a.State == OrderPaid {
			continue // created paid: one line says it
		}
		for _, p := range a.Payments {
			if !slices.ContainsFunc(b.Payments, func(x Payment) bool { return x.ID == p.ID && x.Amount == p.Amount }) {
				line(OrderPayment, p.Amount, p)
			}
		}
	}
	return out
}

// dayCounts are activity increments by company day, summed: an import of a year of
// orders writes each day once.
type dayCounts map[string]*dayCount

type dayCount struct {
	keys []string // in the order first counted
	sums map[string]int64
}

func (d dayCounts) add(id, key string, n int64) {
	c := d[id]
	if c == nil {
		c = &dayCount{sums: map[string]int64{}}
		d[id] = c
	}
	if _, ok := c.sums[key]; !ok {
		c.keys = append(c.keys, key)
	}
	c.sums[key] += n
}

// countWork adds the activity a change moves, from what each order was to what it
// is: orders made count on their date (invoiced), payments on theirs (revenue, also
// the client's), an order paid in full on the day it was (orders).
func (s *Store) countWork(d dayCounts, w *orderWork) {
	for i := range w.After {
		s.countOrderChange(d, &w.Before[i], &w.After[i])
	}
}

func (s *Store) countOrderChange(d dayCounts, before, after *Order) {
	add := func(o *Order, at time.Time, key string, n int64) {
		if n == 0 {
			return
		}
		manager := o.ManagerID
		if manager == "" {
			manager = NoManager
		}
		id := s.companyDayID(at)
		d.add(id, "m."+manager+"."+key, n)
		switch key {
		case ActRevenue:
			d.add(id+revenueDoc, "rev."+o.ClientID, n)
		case ActOrders:
			d.add(id+paidOrdersDoc, "po."+o.ClientID, n)
		}
	}
	for sign, o := range map[int64]*Order{-1: before, 1: after} {
		if o.ID == "" || o.State == OrderCancelled {
			continue
		}
		add(o, o.Date, ActInvoiced, sign*o.Amount)
		for _, p := range o.Payments {
			add(o, p.Date, ActRevenue, sign*p.Amount)
		}
		if o.State == OrderPaid && o.PaidAt != nil {
			add(o, *o.PaidAt, ActOrders, sign)
		}
	}
}

// writeCounts writes the increments, one write a day; those that came to zero are
// left out.
func (s *Store) writeCounts(ctx context.Context, d dayCounts) {
	for id, c := range d {
		inc := bson.D{}
		for _, k := range c.keys {
			if n := c.sums[k]; n != 0 {
				inc = append(inc, bson.E{Key: k, Value: n})
			}
		}
		if len(inc) > 0 {
			s.incDoc(ctx, id, inc)
		}
	}
}

// RepairOrders finishes order changes a crash interrupted. The work documents are a
// small collection: only changes on their way.
func (s *Store) RepairOrders(ctx context.Context) (int, error) {
	cur, err := s.c(colOrderWork).Find(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("read unfinished orders: %w", err)
	}
	var works []orderWork
	if err := cur.All(ctx, &works); err != nil {
		return 0, fmt.Errorf("read unfinished orders: %w", err)
	}
	for i := range works {
		unlock := s.money.lock(colClients, works[i].Client)
		err := s.finishOrders(ctx, &works[i], nil)
		unlock()
		if err != nil {
			return i, err
		}
	}
	return len(works), nil
}
