package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/crm-team/crm/store"
)

// The reports by name, as the CLI and the bot ask for them.
const (
	FunnelReport   = "funnel"
	ManagersReport = "managers"
	SourcesReport  = "sources"
	ABCReport      = "abc"
)

// Names lists the reports in the order a menu shows them.
func Names() []string {
	return []string{FunnelReport, ManagersReport, SourcesReport, ABCReport, PaymentsReport}
}

// Request asks for one report.
type Request struct {
	Name   string
	Period Period // in the company's time zone: ABC/XYZ months are its months
	Cut    Cut    // the funnel's cut
	// Own limits the report to one manager's figures: their clients, their line.
	Own        string
	Thresholds Thresholds // ABC/XYZ; zero: DefaultThresholds
}

// Source is everything reports read: *store.Store.
type Source interface {
	TeamSource
	OrderSource
	PaidOrderSource
	EachOpenOrder(ctx context.Context, fn func(*store.Order) error) error
}

// Build computes the report r asks for, as of now, and lays it out in w's words.
func Build(ctx context.Context, src Source, r Request, w Words, now time.Time) (Layout, error) {
	cut := r.Cut
	if r.Own != "" {
		cut.ManagerID = r.Own
	}
	switch r.Name {
	case FunnelReport:
		f, err := ComputeFunnel(ctx, src, r.Period, cut, now)
		if err != nil {
			return Layout{}, err
		}
		return f.Layout(w), nil
	case ManagersReport:
		t, err := ComputeTeam(ctx, src, r.Period, r.Own, now)
		if err != nil {
			return Layout{}, err
		}
		return t.Layout(w), nil
	case SourcesReport:
		rows, err := Sources(ctx, src, r.Period, cut)
		if err != nil {
			return Layout{}, err
		}
		return SourcesLayout(rows, r.Period, w), nil
	case PaymentsReport:
		pm, err := ComputePayments(ctx, src, r.Period, r.Own, now)
		if err != nil {
			return Layout{}, err
		}
		return pm.Layout(w), nil
	case ABCReport:
		th := r.Thresholds
		if th == (Thresholds{}) {
			th = DefaultThresholds
		}
		classes, err := Classify(ctx, src, r.Period, r.Period.From.Location(), th)
		if err != nil {
			return Layout{}, err
		}
		clients, err := src.ReportClients(ctx)
		if err != nil {
			return Layout{}, err
		}
		names := make(map[string]string, len(clients))
		ours := map[string]bool{}
		for _, c := range clients {
			names[c.ID] = c.Name
			ours[c.ID] = cut.takes(c)
		}
		if cut != (Cut{}) {
			// A manager sees their clients' classes among the whole company's.
			kept := classes[:0]
			for _, c := range classes {
				if ours[c.ClientID] {
					kept = append(kept, c)
				}
			}
			classes = kept
		}
		return ClassesLayout(classes, names, r.Period, w), nil
	}
	return Layout{}, fmt.Errorf("unknown report %q", r.Name)
}
