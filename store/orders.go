// Orders and payments: what a manager records in the bot, and what the card shows.
// How a change is written, and what follows from it, is in ordersync.go.

package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// OrderEvent names what happened to an order in its history line.
type OrderEvent string

// Order events.
const (
	OrderCreated   OrderEvent = "created"
	OrderPayment   OrderEvent = "payment"
	OrderCancel    OrderEvent = "cancelled"
	OrderChanged   OrderEvent = "changed" // by a re-import
	OrderFullyPaid OrderEvent = "paid"    // a payment (or a re-import) covered it
)

// OrderLine is an order's event in a client's history.
type OrderLine struct {
	Event   OrderEvent `bson:"event"`
	What    string     `bson:"what,omitempty"`
	Amount  int64      `bson:"amount"`
	Paid    int64      `bson:"paid"`              // of the order, after the event
	Payment int64      `bson:"payment,omitempty"` // this event's payment
	State   OrderState `bson:"state"`
	Reason  string     `bson:"reason,omitempty"`
}

// ParseOrderState reads a state as people and accounting exports write it.
func ParseOrderState(s string) (OrderState, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "invoiced", "new", "unpaid", "выставлен", "счёт", "счет", "не оплачен", "неоплачен", "ожидает оплаты", "":
		return OrderInvoiced, nil
	case "paid", "оплачен", "оплачено", "оплачен полностью":
		return OrderPaid, nil
	case "cancelled", "canceled", "отменён", "отменен", "отмена", "отменено":
		return OrderCancelled, nil
	}
	return "", invalidf("unknown order state %q (invoiced, paid or cancelled)", s)
}

// PaidSum is what the payments add up to.
func (o *Order) PaidSum() int64 {
	var n int64
	for _, p := range o.Payments {
		n += p.Amount
	}
	return n
}

// Owed is what is still to be paid; nothing for a cancelled order.
func (o *Order) Owed() int64 {
	if o.State == OrderCancelled {
		return 0
	}
	return max(o.Amount-o.PaidSum(), 0)
}

// Overdue reports whether the order's invoice is unpaid after its due date.
func (o *Order) Overdue(now time.Time) bool {
	return o.Owed() > 0 && o.Due != nil && now.After(*o.Due)
}

// settle sets the state and the time it was paid from the payments: the order is paid
// when they cover it.
func (o *Order) settle() {
	if o.State == OrderCancelled {
		return
	}
	if paid := o.PaidSum(); paid >= o.Amount {
		o.State = OrderPaid
		if o.PaidAt == nil {
			last := o.Payments[len(o.Payments)-1].Date
			for _, p := range o.Payments {
				if p.Date.After(last) {
					last = p.Date
				}
			}
			o.PaidAt = &last
		}
		return
	}
	o.State, o.PaidAt = OrderInvoiced, nil
}

// check refuses an order the store must not keep, with what to correct.
func (o *Order) check() error {
	switch {
	case strings.TrimSpace(o.ID) == "":
		return invalidf("an order needs a number")
	case o.ClientID == "":
		return invalidf("order %s needs a client", o.ID)
	case o.Amount <= 0:
		return invalidf("order %s: the amount must be more than zero", o.ID)
	case o.Date.IsZero():
		return invalidf("order %s needs a date", o.ID)
	}
	cur, err := ParseCurrency(o.Currency)
	if err != nil {
		return fmt.Errorf("order %s: %w", o.ID, err)
	}
	o.Currency = cur
	switch o.State {
	case OrderInvoiced, OrderPaid, OrderCancelled:
	default:
		return invalidf("order %s: unknown state %q", o.ID, o.State)
	}
	for _, p := range o.Payments {
		if p.Amount <= 0 {
			return invalidf("order %s: a payment must be more than zero", o.ID)
		}
	}
	if paid := o.PaidSum(); paid > o.Amount {
		return invalidf("order %s: payments of %s are more than its amount of %s", o.ID, FormatAmount(paid), FormatAmount(o.Amount))
	}
	return nil
}

// Order reads one order.
func (s *Store) Order(ctx context.Context, id string) (*Order, error) {
	o, err := getOne[Order](ctx, s, colOrders, id)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", id, err)
	}
	return o, nil
}

// OrderFor reads an order for a viewer, with its client: one the viewer may not see
// is not found.
func (s *Store) OrderFor(ctx context.Context, v Viewer, id string) (*Order, *Client, error) {
	o, err := s.Order(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Client(ctx, o.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if !v.CanSee(c) {
		return nil, nil, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, c, nil
}

// NewOrder is what a manager types for an order.
type NewOrder struct {
	ClientID string
	What     string
	Amount   int64 // minor units
	Currency string
	Date     time.Time // zero: today
	Due      *time.Time
	Paid     bool // paid in full on its date
}

// RecordOrder records an order for a client the viewer may see, numbered by the CRM.
func (s *Store) RecordOrder(ctx context.Context, v Viewer, n NewOrder) (*Order, error) {
	c, err := s.Client(ctx, n.ClientID)
	if err != nil {
		return nil, err
	}
	if !v.CanSee(c) {
		return nil, fmt.Errorf("client %s: %w", n.ClientID, ErrNotFound)
	}
	o := &Order{ClientID: n.ClientID, What: strings.TrimSpace(n.What), Amount: n.Amount, Currency: n.Currency,
		Date: n.Date, Due: n.Due, State: OrderInvoiced}
	if n.Paid {
		o.State = OrderPaid
	}
	if err := checkNew(o); err != nil {
		return o, err
	}
	return o, s.createOrder(ctx, v.ManagerID, c, o)
}

// CreateOrder saves a new order (an order in state paid gets one payment of its
// amount on its date) and what follows from it: the client's totals and stage, the
// history and the activity counts. An order without an ID gets the CRM's next number.
func (s *Store) CreateOrder(ctx context.Context, actor string, o *Order) error {
	if err := checkNew(o); err != nil {
		return err
	}
	c, err := s.Client(ctx, o.ClientID)
	if err != nil {
		return err
	}
	return s.createOrder(ctx, actor, c, o)
}

// checkNew refuses a new order before anything is read for it.
func checkNew(o *Order) error {
	if o.ClientID == "" {
		return invalidf("an order needs a client")
	}
	if o.Amount <= 0 {
		return invalidf("an order needs a positive amount")
	}
	_, err := ParseCurrency(o.Currency)
	return err
}

// createOrder is CreateOrder for the client c, already read.
func (s *Store) createOrder(ctx context.Context, actor string, c *Client, o *Order) error {
	now := s.now()
	if o.Date.IsZero() {
		o.Date = now
	}
	if o.State == "" {
		o.State = OrderInvoiced
	}
	if o.State == OrderPaid && len(o.Payments) == 0 {
		o.Payments = []Payment{{ID: newID(), Date: o.Date, Amount: o.Amount, By: actor, At: now}}
	}
	if o.ManagerID == "" {
		o.ManagerID = c.ManagerID
	}
	if o.ID == "" {
		year := o.Date.In(s.loc).Year()
		n, err := s.nextSeq(ctx, "order-"+strconv.Itoa(year), 1)
		if err != nil {
			return fmt.Errorf("number the order: %w", err)
		}
		o.ID = fmt.Sprintf("%d-%d", year, n)
	}
	o.CreatedAt, o.CreatedBy, o.UpdatedAt, o.UpdatedBy = now, actor, now, actor
	o.PaidAt = nil
	o.settle()
	if err := o.check(); err != nil {
		return err
	}
	defer s.money.lock(colClients, o.ClientID)()
	if _, err := s.Order(ctx, o.ID); err == nil {
		return invalidf("order %s exists already", o.ID)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return s.applyOrders(ctx, actor, o.ClientID, []orderChange{{after: o}})
}

// PayOrder records a payment for an order the viewer may see. A payment larger than
// what is owed, or for a cancelled order, is refused.
func (s *Store) PayOrder(ctx context.Context, v Viewer, orderID string, amount int64, date time.Time) (*Order, error) {
	if amount <= 0 {
		return nil, invalidf("a payment must be more than zero")
	}
	o, _, err := s.OrderFor(ctx, v, orderID)
	if err != nil {
		return nil, err
	}
	defer s.money.lock(colClients, o.ClientID)()
	before, err := s.Order(ctx, orderID) // again, under the client's lock
	if err != nil {
		return nil, err
	}
	switch owed := before.Owed(); {
	case before.State == OrderCancelled:
		return nil, invalidf("order %s is cancelled", orderID)
	case owed == 0:
		return nil, invalidf("order %s is paid in full", orderID)
	case amount > owed:
		return nil, invalidf("the payment of %s is more than the %s owed for order %s", FormatAmount(amount), FormatAmount(owed), orderID)
	}
	now := s.now()
	if date.IsZero() {
		date = now
	}
	after := *before
	after.Payments = append(slices.Clone(before.Payments), Payment{ID: newID(), Date: date, Amount: amount, By: v.ManagerID, At: now})
	after.UpdatedAt, after.UpdatedBy = now, v.ManagerID
	after.settle()
	return &after, s.applyOrders(ctx, v.ManagerID, o.ClientID, []orderChange{{before: before, after: &after}})
}

// CancelOrder cancels an order the viewer may see, with the reason. An order with
// payments is not cancelled: its money was received.
func (s *Store) CancelOrder(ctx context.Context, v Viewer, orderID, reason string) (*Order, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, invalidf("cancelling an order needs the reason")
	}
	o, _, err := s.OrderFor(ctx, v, orderID)
	if err != nil {
		return nil, err
	}
	defer s.money.lock(colClients, o.ClientID)()
	before, err := s.Order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	switch {
	case before.State == OrderCancelled:
		return nil, invalidf("order %s is cancelled already", orderID)
	case len(before.Payments) > 0:
		return nil, invalidf("order %s has payments of %s: an order with payments cannot be cancelled", orderID, FormatAmount(before.PaidSum()))
	}
	after := *before
	after.State, after.CancelReason, after.PaidAt = OrderCancelled, reason, nil
	after.UpdatedAt, after.UpdatedBy = s.now(), v.ManagerID
	return &after, s.applyOrders(ctx, v.ManagerID, o.ClientID, []orderChange{{before: before, after: &after}})
}

// OrderRef is an order as its client's list keeps it: what the card shows without
// reading the orders.
type OrderRef struct {
	ID       string       `bson:"id"`
	What     string       `bson:"what,omitempty"`
	Amount   int64        `bson:"amount"`
	Paid     int64        `bson:"paid"`
	State    OrderState   `bson:"state"`
	Date     time.Time    `bson:"date"`
	Due      *time.Time   `bson:"due,omitempty"`
	Payments []PaymentRef `bson:"payments,omitempty"`
}

// PaymentRef is a payment in its client's order list.
type PaymentRef struct {
	Date   time.Time `bson:"date"`
	Amount int64     `bson:"amount"`
}

func refOf(o *Order) OrderRef {
	r := OrderRef{ID: o.ID, What: o.What, Amount: o.Amount, Paid: o.PaidSum(), State: o.State, Date: o.Date, Due: o.Due}
	for _, p := range o.Payments {
		r.Payments = append(r.Payments, PaymentRef{Date: p.Date, Amount: p.Amount})
	}
	return r
}

// PaidInFullAt is when the order came to be paid in full: its last payment, as the
// store settles it, or its date for a paid order kept without payments.
func (r OrderRef) PaidInFullAt() (time.Time, bool) {
	if r.State != OrderPaid {
		return time.Time{}, false
	}
	at := r.Date
	for i, p := range r.Payments {
		if i == 0 || p.Date.After(at) {
			at = p.Date
		}
	}
	return at, true
}

// firstPaid is when the first of a client's orders came to be paid in full: the day
// the client became gold by the methodology.
func firstPaid(list []OrderRef) *time.Time {
	var first *time.Time
	for _, r := range list {
		if at, ok := r.PaidInFullAt(); ok && (first == nil || at.Before(*first)) {
			first = &at
		}
	}
	return first
}

// Owed is what is still to be paid for the order.
func (r OrderRef) Owed() int64 {
	if r.State == OrderCancelled {
		return 0
	}
	return max(r.Amount-r.Paid, 0)
}

// ClientMoney is a client's orders and payments as the card shows them.
type ClientMoney struct {
	Orders       []OrderRef // newest first
	Owed         int64      // unpaid on orders not cancelled
	Overdue      int64      // of that, past the due date
	PaidThisYear int64      // payments dated this calendar year (company time)
	PaidOrders   int
}

// ClientMoney reads a client's orders and what they add up to, as of now: one _id
// read, whatever the number of orders in the base.
func (s *Store) ClientMoney(ctx context.Context, clientID string) (*ClientMoney, error) {
	refs, err := s.clientOrders(ctx, clientID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	year := now.In(s.loc).Year()
	m := &ClientMoney{Orders: refs}
	for _, r := range refs {
		m.Owed += r.Owed()
		if r.Due != nil && now.After(*r.Due) {
			m.Overdue += r.Owed()
		}
		if r.State == OrderPaid {
			m.PaidOrders++
		}
		for _, p := range r.Payments {
			if p.Date.In(s.loc).Year() == year {
				m.PaidThisYear += p.Amount
			}
		}
	}
	return m, nil
}

// ClientOrders reads a client's orders, newest first.
func (s *Store) ClientOrders(ctx context.Context, clientID string) ([]Order, error) {
	refs, err := s.clientOrders(ctx, clientID)
	if err != nil {
		return nil, err
	}
	out := make([]Order, 0, len(refs))
	for _, r := range refs {
		o, err := s.Order(ctx, r.ID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, nil
}

// EachOrder streams every order (reports, export and backfill: a cold path that reads
// the whole collection).
func (s *Store) EachOrder(ctx context.Context, fn func(*Order) error) error {
	cur, err := s.c(colOrders).Find(ctx, bson.D{}, options.Find().SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("read orders: %w", err)
	}
	return eachDoc(ctx, cur, fn)
}
