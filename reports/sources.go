package reports

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// SourceRow is what a lead source brought in a period.
type SourceRow struct {
	Source     string // "" for clients with no source recorded
	NewClients int    // made in the period
	ToGold     int    // clients that reached gold (their first paid order) in the period
	Revenue    int64  // paid orders in the period, minor units
}

// SourcesSource is what the lead-sources report reads: *store.Store.
type SourcesSource interface {
	FunnelSource
	OrderSource
}

// Sources counts, per lead source, the clients made, the clients that reached gold and
// the revenue of a period, for the clients in cut, by revenue then new clients,
// largest first.
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
	}
	gold := map[string]bool{}
	err = src.EachStageMove(ctx, p.From, p.To, func(m store.StageMove) error {
		if m.To == store.StageGold && !gold[m.Client] {
			if s, ok := sourceOf[m.Client]; ok {
				gold[strings.Clone(m.Client)] = true // not the day's whole text
				row(s).ToGold++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
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
