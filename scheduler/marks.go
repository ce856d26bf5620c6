package scheduler

import (
	"context"
	"sort"
	"time"

	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
)

// RiskNotifier is what a Notifier also does when it can tell managers of clients at
// risk; without it the flags are still kept on the clients.
type RiskNotifier interface {
	AtRisk(ctx context.Context, a notice.AtRisk) error
}

// marksHour is the company's local hour the nightly marks are computed after: the
// night's quiet, before the morning digests.
const marksHour = 3

// Marks computes, once a company day after marksHour, every client's ABC/XYZ class
// over the twelve whole months before this one and the at-risk flags, stores them
// and tells the managers of clients newly at risk. It returns how many clients'
// marks changed.
func (s *Scheduler) Marks(ctx context.Context) (int, error) {
	if ok, err := s.hold(ctx, "marks"); !ok {
		return 0, err
	}
	now := s.now()
	local := now.In(s.opts.Location)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.opts.Location)
	if local.Hour() < marksHour {
		return 0, nil
	}
	written := 0
	_, err := s.once(ctx, "marks/"+day.Format(time.DateOnly), func() error {
		n, risky, err := s.MarkClients(ctx, now)
		if err != nil {
			return err
		}
		written = n
		return s.tellAtRisk(ctx, risky)
	})
	return written, err
}

// MarkClients computes and stores the clients' marks as of now, in one reading of the
// days' revenue records, and returns how many changed and the clients newly at risk.
func (s *Scheduler) MarkClients(ctx context.Context, now time.Time) (int, []notice.RiskyClient, error) {
	loc := s.opts.Location
	local := now.In(loc)
	thisMonth := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	year := reports.Period{From: thisMonth.AddDate(-1, 0, 0), To: thisMonth}
	riskFrom := now.Add(-s.opts.RiskAfter)
	scanFrom := year.From
	if riskFrom.Before(scanFrom) {
		scanFrom = riskFrom
	}
	last := map[string]time.Time{}
	orders := teeOrders{st: s.st, from: scanFrom, to: now, seen: func(day time.Time, client string) {
		if day.After(last[client]) {
			last[client] = day
		}
	}}
	classes, err := reports.Classify(ctx, orders, year, loc, reports.DefaultThresholds)
	if err != nil {
		return 0, nil, err
	}
	marks := make(map[string]store.Marks, len(classes))
	for _, c := range classes {
		marks[c.ClientID] = store.Marks{Class: c.ABC + c.XYZ}
	}
	clients, err := s.st.ReportClients(ctx)
	if err != nil {
		return 0, nil, err
	}
	byID := map[string]store.ReportClient{}
	for _, c := range clients {
		byID[c.ID] = c
		if (c.Stage == store.StageGold || c.Stage == store.StagePlatinum) && last[c.ID].Before(riskFrom) && c.CreatedAt.Before(riskFrom) {
			m := marks[c.ID]
			m.AtRisk = true
			marks[c.ID] = m
		}
	}
	n, newly, err := s.st.MarkClients(ctx, marks)
	if err != nil {
		return 0, nil, err
	}
	risky := make([]notice.RiskyClient, 0, len(newly))
	for _, id := range newly {
		c := byID[id]
		risky = append(risky, notice.RiskyClient{ID: id, Name: c.Name, Stage: c.Stage, LastOrder: last[id]})
	}
	return n, risky, nil
}

// tellAtRisk tells each manager of their clients newly at risk, one message each.
func (s *Scheduler) tellAtRisk(ctx context.Context, risky []notice.RiskyClient) error {
	rn, ok := s.notify.(RiskNotifier)
	if !ok || len(risky) == 0 {
		return nil
	}
	ids := make([]string, len(risky))
	for i, c := range risky {
		ids[i] = c.ID
	}
	managerOf, err := s.st.ManagersOf(ctx, ids)
	if err != nil {
		return err
	}
	byManager := map[string][]notice.RiskyClient{}
	for _, c := range risky {
		if m := managerOf[c.ID]; m != "" {
			byManager[m] = append(byManager[m], c)
		}
	}
	for id, cs := range byManager {
		m, err := s.st.Manager(ctx, id)
		if err != nil || !m.Active {
			continue // a manager who left: the flags stay on the cards for their successor
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		if err := rn.AtRisk(ctx, notice.AtRisk{ManagerID: m.ID, Clients: cs, Days: int(s.opts.RiskAfter.Hours() / 24)}); err != nil {
			s.log.Warn("at-risk notice not sent; the flags stay on the cards", "manager", id, "err", err)
		}
	}
	return nil
}

// teeOrders reads the days' revenue of [from, to) once: each client's day goes to
// seen, and those in the period asked for on to the caller.
type teeOrders struct {
	st       *store.Store
	from, to time.Time
	seen     func(day time.Time, client string)
}

func (t teeOrders) DailyRevenue(ctx context.Context, from, to time.Time, fn func(time.Time, string, int64) error) error {
	return t.st.DailyRevenue(ctx, t.from, t.to, func(day time.Time, client string, amount int64) error {
		t.seen(day, client)
		if day.Before(from) || !day.Before(to) {
			return nil
		}
		return fn(day, client, amount)
	})
}
