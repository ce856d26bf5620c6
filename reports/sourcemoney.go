package reports

import (
	"context"
	"time"
)

// PaidOrderSource reads how many orders each client paid in full a day: *store.Store.
// An order is paid in full on the day of the payment that covered it.
type PaidOrderSource interface {
	DailyPaidOrders(ctx context.Context, from, to time.Time, fn func(day time.Time, client string, n int64) error) error
}
