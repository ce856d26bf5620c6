package reports

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crm-team/crm/store"
)

// MoneySource reads a client's orders as its card shows them: *store.Store.
type MoneySource interface {
	ClientMoney(ctx context.Context, clientID string) (*store.ClientMoney, error)
}

// clientPaid is what a client's orders say of a period: how many were paid in full in
// it, and whether the first the client ever paid in full was (gold: "the first paid
// order").
type clientPaid struct {
	orders int
	first  bool
}

// paidInPeriod reads the order lists of clients (one read by _id each, a few at a
// time) and tells, of each, its orders paid in full in p. An order is paid in full on
// the day of the payment that covered it, so only the clients with a payment in p
// need asking.
func paidInPeriod(ctx context.Context, src MoneySource, p Period, clients []string) (map[string]clientPaid, error) {
	out := make(map[string]clientPaid, len(clients))
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, id := range clients {
		g.Go(func() error {
			m, err := src.ClientMoney(ctx, id)
			if err != nil {
				return err
			}
			var cp clientPaid
			var first time.Time
			for _, r := range m.Orders {
				at, ok := paidInFullAt(r)
				if !ok {
					continue
				}
				if first.IsZero() || at.Before(first) {
					first = at
				}
				if !at.Before(p.From) && at.Before(p.To) {
					cp.orders++
				}
			}
			cp.first = !first.IsZero() && !first.Before(p.From) && first.Before(p.To)
			mu.Lock()
			out[id] = cp
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// paidInFullAt is when an order came to be paid in full: its last payment (as the
// store settles it), or its date for a paid order kept without payments.
func paidInFullAt(r store.OrderRef) (time.Time, bool) {
	if r.State != store.OrderPaid {
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
