package reports

import (
	"context"
	"sort"
	"strings"
	"time"
)

// SourceRow is what a lead source brought in a period.
type SourceRow struct {
	Source     string // "" for clients with no source recorded
	NewClients int    // made in the period
	ToGold     int    // clients whose first order paid in full was paid in the period: gold
	PaidOrders int    // orders paid in full in the period
	Revenue    int64  // payments received in the period, minor units
}

// SourcesSource is what the lead-sources report reads: *store.Store.
type SourcesSource interface {
	FunnelSource
	OrderSource
	PaidOrderSource
}

// Sources counts, per lead source, the clients made, the clients that reached gold
// (by their orders, not their stage: a stage moved by hand is no paid order), the
// orders paid and the revenue of a period, for the clients in cut, by revenue then new
// clients, largest first. It reads the client directory and the period's day
// documents, whatever the number of orders.
func Sources(ctx context.Context, src SourcesSource, p Period, cut Cut) ([]SourceRow, error) {
	clients, err := src.ReportClients(ctx)
	if err != nil {
		return nil, err
	}
	sourceOf := make(map[string]string, len(clients))
	rows := map[string]*SourceRow{}
	row := func(source string) *SourceRow {
		key := strings.ToLower(source)
		if rows[key] == nil {
			rows[key] = &SourceRow{Source: source}
		}
		return rows[key]
	}
	for _, c := range clients {
		if !cut.takes(c) {
			continue
		}
		sourceOf[c.ID] = strings.TrimSpace(c.LeadSource)
		if !c.CreatedAt.Before(p.From) && c.CreatedAt.Before(p.To) {
			row(sourceOf[c.ID]).NewClients++
		}
		if !c.FirstPaidAt.IsZero() && !c.FirstPaidAt.Before(p.From) && c.FirstPaidAt.Before(p.To) {
			row(sourceOf[c.ID]).ToGold++
		}
	}
	err = src.DailyRevenue(ctx, p.From, p.To, func(_ time.Time, client string, amount int64) error {
		if s, ok := sourceOf[client]; ok {
			row(s).Revenue += amount
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = src.DailyPaidOrders(ctx, p.From, p.To, func(_ time.Time, client string, n int64) error {
		if s, ok := sourceOf[client]; ok {
			row(s).PaidOrders += int(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]SourceRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Revenue != b.Revenue {
			return a.Revenue > b.Revenue
		}
		if a.NewClients != b.NewClients {
			return a.NewClients > b.NewClients
		}
		return a.Source < b.Source
	})
	return out, nil
}
