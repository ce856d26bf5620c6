package reports

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// Work is what one manager (or the team) did in a period.
type Work struct {
	Calls          int64
	CallsByOutcome map[string]int64 // reached, no_answer, call_back, refused, meeting, order...
	Meetings       int64
	Notes          int64
	MailIn         int64 // letters from their clients
	MailOut        int64
	RepliesOnTime  int64 // client letters answered within the reply-time limit
	RepliesLate    int64
	TasksDone      int64
	TasksOverdue   int64 // due in the period and not done by their time (done late, or still open)
	MovesForward   int64 // stage moves along the funnel, or back into it from a red stage
	MovesBack      int64 // to an earlier stage or a red one
	NewClients     int64 // made in the period, theirs now
	Orders         int64 // paid in full in the period
	Revenue        int64 // payments received in the period, minor units
}

func (w *Work) add(o Work) {
	w.Calls += o.Calls
	w.Meetings += o.Meetings
	w.Notes += o.Notes
	w.MailIn += o.MailIn
	w.MailOut += o.MailOut
	w.RepliesOnTime += o.RepliesOnTime
	w.RepliesLate += o.RepliesLate
	w.TasksDone += o.TasksDone
	w.TasksOverdue += o.TasksOverdue
	w.MovesForward += o.MovesForward
	w.MovesBack += o.MovesBack
	w.NewClients += o.NewClients
	w.Orders += o.Orders
	w.Revenue += o.Revenue
	for k, n := range o.CallsByOutcome {
		if w.CallsByOutcome == nil {
			w.CallsByOutcome = map[string]int64{}
		}
		w.CallsByOutcome[k] += n
	}
}

// ManagerWork is a manager's line of the report: this period and the one before.
type ManagerWork struct {
	ManagerID, Name string // NoManager's line is named ""
	Now, Before     Work
}

// in is the line's work in this period (0) or the one before (1).
func (m *ManagerWork) in(i int) *Work {
	if i == 0 {
		return &m.Now
	}
	return &m.Before
}

// Team is the managers' activity over a period, against the period before.
type Team struct {
	Period, Previous Period
	Managers         []ManagerWork // by name
	Total            ManagerWork   // the sum of the lines
}

// TeamSource is what the managers' report reads: *store.Store.
type TeamSource interface {
	FunnelSource
	ActivityBetween(ctx context.Context, from, to time.Time) (store.Activity, error)
	Managers(ctx context.Context) ([]store.Manager, error)
	OpenTasks(ctx context.Context, assigneeID string) ([]store.TaskRef, error)
}

// Previous is the period of the same length just before p: the same number of
// calendar months when p is whole months, the same number of days otherwise.
func Previous(p Period) Period {
	if months := monthIndex(p.From, p.To); p.From.Day() == 1 && p.To.Day() == 1 && months > 0 &&
		p.From.Equal(startOfDay(p.From)) && p.To.Equal(startOfDay(p.To)) {
		return Period{From: p.From.AddDate(0, -months, 0), To: p.From}
	}
	days := int(p.To.Sub(p.From).Round(24*time.Hour) / (24 * time.Hour))
	if days < 1 {
		return Period{From: p.From.Add(-p.To.Sub(p.From)), To: p.From}
	}
	return Period{From: p.From.AddDate(0, 0, -days), To: p.From}
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// ComputeTeam computes the managers' activity over p and the period before, as of
// now. With only set, the report holds that manager's line alone (a manager sees their
// own figures).
func ComputeTeam(ctx context.Context, src TeamSource, p Period, only string, now time.Time) (*Team, error) {
	team, err := src.Managers(ctx)
	if err != nil {
		return nil, err
	}
	clients, err := src.ReportClients(ctx)
	if err != nil {
		return nil, err
	}
	t := &Team{Period: p, Previous: Previous(p)}
	lines := map[string]*ManagerWork{}
	line := func(id string) *ManagerWork {
		if id == "" {
			id = store.NoManager
		}
		if lines[id] == nil {
			lines[id] = &ManagerWork{ManagerID: id}
		}
		return lines[id]
	}
	isManager := map[string]bool{}
	for _, m := range team {
		isManager[m.ID] = true
		if m.Active && (only == "" || only == m.ID) {
			line(m.ID).Name = m.Name
		}
	}
	managerOf := make(map[string]string, len(clients))
	for _, c := range clients {
		managerOf[c.ID] = c.ManagerID
	}
	for i, per := range []Period{t.Period, t.Previous} {
		act, err := src.ActivityBetween(ctx, per.From, per.To)
		if err != nil {
			return nil, err
		}
		for id, counts := range act {
			line(id).in(i).add(workOf(counts))
		}
		err = src.EachStageMove(ctx, per.From, per.To, func(m store.StageMove) error {
			by := m.By
			if !isManager[by] {
				by = managerOf[m.Client]
			}
			if forward(m.From, m.To) {
				line(by).in(i).MovesForward++
			} else {
				line(by).in(i).MovesBack++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, c := range clients {
			if !c.CreatedAt.Before(per.From) && c.CreatedAt.Before(per.To) {
				line(c.ManagerID).in(i).NewClients++
			}
		}
	}
	// Tasks still open and past their time are overdue too; the counts hold those
	// done late.
	for _, m := range team {
		if !m.Active && lines[m.ID] == nil {
			continue
		}
		open, err := src.OpenTasks(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range open {
			if !r.Due.Before(now) {
				continue
			}
			for i, per := range []Period{t.Period, t.Previous} {
				if !r.Due.Before(per.From) && r.Due.Before(per.To) {
					line(m.ID).in(i).TasksOverdue++
				}
			}
		}
	}
	for id, l := range lines {
		if only != "" && id != only {
			continue
		}
		if l.Name == "" && id != store.NoManager {
			l.Name = nameOf(team, id)
		}
		t.Managers = append(t.Managers, *l)
		t.Total.Now.add(l.Now)
		t.Total.Before.add(l.Before)
	}
	sort.Slice(t.Managers, func(i, j int) bool {
		a, b := t.Managers[i], t.Managers[j]
		return byManager(a.ManagerID, a.Name, b.ManagerID, b.Name) < 0
	})
	return t, nil
}

func nameOf(team []store.Manager, id string) string {
	for _, m := range team {
		if m.ID == id {
			return m.Name
		}
	}
	return id
}

// workOf reads a manager's counts.
func workOf(counts map[string]int64) Work {
	w := Work{
		Calls: counts[store.ActCalls], Meetings: counts[store.ActMeetings], Notes: counts[store.ActNotes],
		MailIn: counts[store.ActMailIn], MailOut: counts[store.ActMailOut],
		RepliesOnTime: counts[store.ActRepliesOnTime], RepliesLate: counts[store.ActRepliesLate],
		TasksDone: counts[store.ActTasksDone], TasksOverdue: counts[store.ActTasksLate],
		Orders: counts[store.ActOrders], Revenue: counts[store.ActRevenue],
	}
	for k, n := range counts {
		if outcome, ok := strings.CutPrefix(k, store.ActCallPrefix); ok {
			if w.CallsByOutcome == nil {
				w.CallsByOutcome = map[string]int64{}
			}
			w.CallsByOutcome[outcome] += n
		}
	}
	return w
}

// forward says a move goes along the funnel: to a later stage of Chain, or from a red
// stage back into it.
func forward(from, to store.Stage) bool {
	if to.Red() {
		return false
	}
	if from.Red() {
		return true
	}
	return slices.Index(Chain, to) > slices.Index(Chain, from)
}
