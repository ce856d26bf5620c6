package scheduler

import (
	"context"
	"sort"
	"time"

	"github.com/crm-team/crm/notice"
	"github.com/crm-team/crm/store"
)

// Charts draws the report pictures of a head's weekly summary; cmd wires it to the
// reports. A week with nothing to draw gives no pictures.
type Charts interface {
	WeeklyCharts(ctx context.Context, head store.Manager, from, to time.Time) ([]notice.Picture, error)
}

const (
	// digestWindow is how long after their hour a missed digest still goes out; a
	// morning digest at lunch is still useful, one in the evening is not.
	digestWindow = 4 * time.Hour
	birthdayDays = 4 // today and the next 3 days
	// digestsCursor keeps the time of the last digests pass that went through.
	digestsCursor = "digests"
)

// Digests sends each active manager's morning digest once a day at their hour in their
// time zone, and each head's weekly summary on Monday with it; it returns how many
// messages it sent.
func (s *Scheduler) Digests(ctx context.Context) (int, error) {
	if !s.canNotify() {
		return 0, nil
	}
	if ok, err := s.hold(ctx, "digests"); !ok {
		return 0, err
	}
	managers, err := s.st.Managers(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	// The last pass before this one tells whether the service ran at a manager's
	// hour: a digest is late only when no pass ran between its hour and now.
	lastPass, _, err := s.st.JobCursor(ctx, digestsCursor)
	if err != nil {
		return 0, err
	}
	sent := 0
	// The letters waiting for an answer are read once a pass, and only when a digest
	// is due: the read scans the reply clocks.
	var waiting map[string][]store.AwaitedReply
	waitingByManager := func() (map[string][]store.AwaitedReply, error) {
		if waiting != nil {
			return waiting, nil
		}
		var err error
		waiting, err = s.awaitingByManager(ctx)
		return waiting, err
	}
	for _, m := range managers {
		if !m.Active || m.TelegramID == 0 {
			continue
		}
		local := now.In(s.location(m.TimeZone))
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
		at := day.Add(time.Duration(m.DigestHour) * time.Hour)
		// A manager who joined after today's hour gets their first digest at their
		// next one (managers from before createdAt was kept have a zero one).
		if now.Before(at) || now.Sub(at) >= digestWindow || m.CreatedAt.After(at) {
			continue
		}
		late := now.Sub(at) > 5*time.Minute && lastPass.Before(at)
		n, err := s.once(ctx, "digest/"+m.ID+"/"+day.Format(time.DateOnly), func() error {
			byManager, err := waitingByManager()
			if err != nil {
				return err
			}
			d, err := s.digest(ctx, m, day, now, byManager[m.ID])
			if err != nil {
				return err
			}
			d.Late = late
			return s.notify.Digest(ctx, d)
		})
		sent += n
		if err != nil {
			return sent, err
		}
		if m.Role.SeesAll() && day.Weekday() == time.Monday {
			n, err := s.once(ctx, "weekly/"+m.ID+"/"+day.Format(time.DateOnly), func() error {
				byManager, err := waitingByManager()
				if err != nil {
					return err
				}
				w, err := s.weekly(ctx, m, managers, day, now, byManager)
				if err != nil {
					return err
				}
				if s.opts.Charts != nil {
					// The figures matter more than the pictures: a drawing that fails
					// leaves the summary in text.
					if w.Pictures, err = s.opts.Charts.WeeklyCharts(ctx, m, w.From, w.To); err != nil {
						s.log.Warn("weekly charts not drawn", "head", m.ID, "err", err)
					}
				}
				return s.notify.Weekly(ctx, w)
			})
			sent += n
			if err != nil {
				return sent, err
			}
		}
	}
	// Only a pass that went through counts as the service running: after a failed
	// one the digests it left are still late, if they were.
	return sent, s.st.SetJobCursor(ctx, digestsCursor, now)
}

// once does a claimed piece of work; a failure gives the claim back so the next pass
// tries again.
func (s *Scheduler) once(ctx context.Context, claim string, work func() error) (int, error) {
	won, err := s.st.Claim(ctx, claim)
	if err != nil || !won {
		return 0, err
	}
	if err := work(); err != nil {
		s.log.Warn("scheduled message not sent; trying again", "work", claim, "err", err)
		return 0, s.st.Unclaim(ctx, claim)
	}
	return 1, nil
}

// digest gathers a manager's digest: their agenda (one read), birthdays from the
// directory, and the letters waiting for their answer.
func (s *Scheduler) digest(ctx context.Context, m store.Manager, day, now time.Time, awaiting []store.AwaitedReply) (notice.Digest, error) {
	d := notice.Digest{ManagerID: m.ID, Day: day, Awaiting: awaiting}
	refs, err := s.st.OpenTasks(ctx, m.ID)
	if err != nil {
		return d, err
	}
	end := day.AddDate(0, 0, 1)
	for _, r := range refs {
		switch {
		case r.Due.Before(day):
			d.Overdue = append(d.Overdue, r)
		case r.Due.Before(end):
			d.Today = append(d.Today, r)
		}
	}
	hits, err := s.st.Birthdays(ctx, store.Viewer{ManagerID: m.ID, Role: store.RoleManager}, day, birthdayDays)
	if err != nil {
		return d, err
	}
	for _, h := range hits {
		if h.ManagerID != m.ID {
			continue // unassigned clients' birthdays would reach every manager
		}
		note := notice.Birthday{BirthdayHit: h}
		if h.Date.Equal(day) && s.opts.Greeter != nil {
			if note.Greeting, err = s.opts.Greeter.status(ctx, h, now); err != nil {
				return d, err
			}
		}
		d.Birthdays = append(d.Birthdays, note)
	}
	return d, nil
}

// awaitingByManager groups the unanswered client letters by the managers of their
// clients; a letter to two clients of one manager is listed once for them.
func (s *Scheduler) awaitingByManager(ctx context.Context) (map[string][]store.AwaitedReply, error) {
	all, err := s.st.AwaitedReplies(ctx)
	if err != nil {
		return nil, err
	}
	var clients []string
	for _, r := range all {
		clients = append(clients, r.Clients...)
	}
	managers, err := s.st.ManagersOf(ctx, clients)
	if err != nil {
		return nil, err
	}
	out := map[string][]store.AwaitedReply{}
	for _, r := range all {
		listed := map[string]bool{}
		for _, c := range r.Clients {
			if m := managers[c]; !listed[m] {
				out[m] = append(out[m], r)
				listed[m] = true
			}
		}
	}
	return out, nil
}

// weekly sums up the last week of the head's team (the managers whose head they are,
// or everyone when nobody has a head set) from the audit log, the agendas and the
// reply clocks.
func (s *Scheduler) weekly(ctx context.Context, head store.Manager, all []store.Manager, day, now time.Time, waiting map[string][]store.AwaitedReply) (notice.Weekly, error) {
	w := notice.Weekly{HeadID: head.ID, From: day.AddDate(0, 0, -7), To: day}
	team := map[string]*notice.WeeklyRow{}
	anyHead := false
	for _, m := range all {
		anyHead = anyHead || m.HeadID != ""
	}
	for _, m := range all {
		if m.Active && (m.HeadID == head.ID || (!anyHead && m.Role == store.RoleManager)) {
			team[m.ID] = &notice.WeeklyRow{ManagerID: m.ID, Name: m.Name}
		}
	}
	err := s.st.AuditBetween(ctx, w.From, w.To, func(e store.AuditEntry) error {
		row := team[e.ActorID]
		if row == nil {
			return nil
		}
		switch e.Action {
		case "client.create":
			row.NewClients++
		case "client.stage":
			row.StageMoves++
		case "task.done":
			row.TasksDone++
		}
		return nil
	})
	if err != nil {
		return w, err
	}
	for id, row := range team {
		row.Awaiting = len(waiting[id])
		refs, err := s.st.OpenTasks(ctx, id)
		if err != nil {
			return w, err
		}
		for _, r := range refs {
			if r.Due.Before(now) {
				row.Overdue++
			}
		}
	}
	for _, row := range team {
		w.Rows = append(w.Rows, *row)
		w.Total.NewClients += row.NewClients
		w.Total.StageMoves += row.StageMoves
		w.Total.TasksDone += row.TasksDone
		w.Total.Overdue += row.Overdue
		w.Total.Awaiting += row.Awaiting
	}
	sort.Slice(w.Rows, func(i, j int) bool { return w.Rows[i].Name < w.Rows[j].Name })
	return w, nil
}
