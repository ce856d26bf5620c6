// Orders from an accounting system (1C, MoySklad): saved by their number, so that a
// second import of the same file changes nothing and a later one updates what changed.

package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// OrdersSaved counts what an import did.
type OrdersSaved struct{ Created, Updated, Unchanged int }

// UpsertOrders saves orders by number (their ID). The accounting system is the truth
// for what it exports: a known order takes the file's what, amount, date, due date,
// state and payments, and keeps what only the CRM has (its manager, its invoice).
// Every order is checked before anything is saved: one bad order saves nothing.
func (s *Store) UpsertOrders(ctx context.Context, actor string, orders []Order) (OrdersSaved, error) {
	var out OrdersSaved
	seen := map[string]bool{}
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
	var clients []string
	for i := range orders {
		id := orders[i].ClientID
		if byClient[id] == nil {
			clients = append(clients, id)
		}
		byClient[id] = append(byClient[id], &orders[i])
	}
	for _, id := range clients {
		c, err := s.Client(ctx, id)
		if err != nil {
			return out, err
		}
		if err := s.upsertClientOrders(ctx, actor, c, byClient[id], &out); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Store) upsertClientOrders(ctx context.Context, actor string, c *Client, orders []*Order, out *OrdersSaved) error {
	defer s.money.lock(colClients, c.ID)()
	now := s.now()
	var changes []orderChange
	for _, o := range orders {
		before, err := s.Order(ctx, o.ID)
		if errors.Is(err, ErrNotFound) {
			after := *o
			if after.ManagerID == "" {
				after.ManagerID = c.ManagerID
			}
			after.CreatedAt, after.CreatedBy, after.UpdatedAt, after.UpdatedBy = now, actor, now, actor
			changes = append(changes, orderChange{after: &after})
			out.Created++
			continue
		}
		if err != nil {
			return err
		}
		if before.ClientID != o.ClientID {
			return invalidf("order %s belongs to another client", o.ID)
		}
		after := *before
		after.What, after.Amount, after.Currency, after.Date, after.Due = o.What, o.Amount, o.Currency, o.Date, o.Due
		after.State, after.CancelReason = o.State, o.CancelReason
		after.Payments = o.Payments
		after.PaidAt = nil
		if before.State == OrderPaid && samePayments(before.Payments, o.Payments) {
			after.PaidAt = before.PaidAt
		}
		after.settle()
		if sameOrder(before, &after) {
			out.Unchanged++
			continue
		}
		after.UpdatedAt, after.UpdatedBy = now, actor
		changes = append(changes, orderChange{before: before, after: &after})
		out.Updated++
	}
	if len(changes) == 0 {
		return nil
	}
	return s.applyOrders(ctx, actor, c.ID, changes)
}

func samePayments(a, b []Payment) bool {
	return slices.EqualFunc(a, b, func(x, y Payment) bool {
		return x.ID == y.ID && x.Amount == y.Amount && x.Date.Equal(y.Date)
	})
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func sameOrder(a, b *Order) bool {
	return a.What == b.What && a.Amount == b.Amount && a.Currency == b.Currency && a.Date.Equal(b.Date) &&
		sameTime(a.Due, b.Due) && a.State == b.State && a.CancelReason == b.CancelReason && samePayments(a.Payments, b.Payments)
}
