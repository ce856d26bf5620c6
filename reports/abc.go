package reports

import (
	"context"
	"math"
	"sort"
	"time"
)

// Thresholds set the ABC and XYZ classes. A: the clients that make the first A of
// revenue, B: the next ones up to B, C: the rest. X: monthly revenue varying (the
// coefficient of variation) under X, Y: under Y, Z: more.
type Thresholds struct{ A, B, X, Y float64 }

// DefaultThresholds are the methodology's: 80% and 95% of revenue, 10% and 25% of
// variation.
var DefaultThresholds = Thresholds{A: 0.80, B: 0.95, X: 0.10, Y: 0.25}

// ClientClass is a client's place in ABC and XYZ analysis over a period.
type ClientClass struct {
	ClientID  string
	Revenue   int64   // payments received in the period, minor units
	Share     float64 // of the period's revenue
	ABC       string  // "A", "B" or "C"
	Variation float64 // coefficient of variation of the monthly revenue
	XYZ       string  // "X", "Y" or "Z"
}

// OrderSource is what revenue reports read, each client's payments by company day:
// *store.Store.
type OrderSource interface {
	DailyRevenue(ctx context.Context, from, to time.Time, fn func(day time.Time, client string, amount int64) error) error
}

// Classify computes the ABC and XYZ classes of every client with a payment in p, by
// revenue (payments, on their dates), largest first. Months are calendar months in
// loc; a month without payments counts as zero revenue. It reads the days' revenue records, not the orders.
func Classify(ctx context.Context, src OrderSource, p Period, loc *time.Location, th Thresholds) ([]ClientClass, error) {
	months := monthsOf(p, loc)
	monthly := map[string][]int64{}
	err := src.DailyRevenue(ctx, p.From, p.To, func(day time.Time, client string, amount int64) error {
		m := monthIndex(p.From.In(loc), day.In(loc))
		if monthly[client] == nil {
			monthly[client] = make([]int64, months)
		}
		if m >= 0 && m < months {
			monthly[client][m] += amount
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return classes(monthly, th), nil
}

// classes ranks clients by revenue and gives their classes (monthly: client -> revenue
// a month).
func classes(monthly map[string][]int64, th Thresholds) []ClientClass {
	out := make([]ClientClass, 0, len(monthly))
	var total int64
	for id, ms := range monthly {
		c := ClientClass{ClientID: id}
		for _, v := range ms {
			c.Revenue += v
		}
		c.Variation = variation(ms)
		c.XYZ = "Z"
		switch {
		case c.Variation < th.X:
			c.XYZ = "X"
		case c.Variation < th.Y:
			c.XYZ = "Y"
		}
		total += c.Revenue
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Revenue != out[j].Revenue {
			return out[i].Revenue > out[j].Revenue
		}
		return out[i].ClientID < out[j].ClientID
	})
	// A client belongs to the class its revenue begins in: the one that crosses 80%
	// is still A.
	var before int64
	for i := range out {
		c := &out[i]
		c.ABC = "C"
		if total > 0 {
			c.Share = float64(c.Revenue) / float64(total)
			switch at := float64(before) / float64(total); {
			case at < th.A:
				c.ABC = "A"
			case at < th.B:
				c.ABC = "B"
			}
		}
		before += c.Revenue
	}
	return out
}

// variation is the coefficient of variation (population standard deviation over the
// mean); 0 for no revenue at all.
func variation(ms []int64) float64 {
	var sum float64
	for _, v := range ms {
		sum += float64(v)
	}
	if sum == 0 || len(ms) == 0 {
		return 0
	}
	mean := sum / float64(len(ms))
	var sq float64
	for _, v := range ms {
		d := float64(v) - mean
		sq += d * d
	}
	return math.Sqrt(sq/float64(len(ms))) / mean
}

// monthsOf counts the calendar months p touches in loc.
func monthsOf(p Period, loc *time.Location) int {
	return monthIndex(p.From.In(loc), p.To.Add(-time.Nanosecond).In(loc)) + 1
}

func monthIndex(from, t time.Time) int {
	return (t.Year()-from.Year())*12 + int(t.Month()) - int(from.Month())
}
