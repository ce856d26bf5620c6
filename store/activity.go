package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The managers' activity report counts calls, letters, replies, tasks and orders per
// manager over a period. Counting them from the timeline, the tasks and the orders
// would read every collection whole (15 s at 300,000 timeline entries on the embedded
// engine), so each is also counted, as it happens, in its company day's document (by
// _id, the day in the company's time zone): a year is 365 small reads.
//
// Counts are statistics: a crash between an event and its count loses that count,
// which a report can bear; the event itself is stored first.

// Activity metrics, counted per manager and day. A call also counts under
// ActCallPrefix + its outcome.
const (
	ActCalls         = "calls"
	ActCallPrefix    = "call_"
	ActMeetings      = "meetings"
	ActNotes         = "notes"
	ActMailIn        = "mail_in"
	ActMailOut       = "mail_out"
	ActRepliesOnTime = "replies_on_time" // client letters answered within the reply-time limit
	ActRepliesLate   = "replies_late"
	ActTasksDone     = "tasks_done"
	ActTasksLate     = "tasks_late" // done after their time; counted on the day they were due
	ActOrders        = "orders"     // orders paid in full, on the day they were
	ActRevenue       = "revenue"    // payments received, minor units
)

// NoManager stands for a client without a responsible manager in activity counts.
const NoManager = "-"

// Activity is what managers did: manager ID -> metric -> count.
type Activity map[string]map[string]int64

func (a Activity) add(manager, metric string, n int64) {
	if a[manager] == nil {
		a[manager] = map[string]int64{}
	}
	a[manager][metric] += n
}

type activityDay struct {
	ID   string   `bson:"_id"`
	Live Activity `bson:"m"`
	// Revenue is the day's payments by client (minor units, in "<day>/rev"):
	// ABC/XYZ and lead sources read it instead of every order.
	Revenue map[string]int64 `bson:"rev,omitempty"`
	// PaidOrders is the day's orders paid in full by client (in "<day>/po"): the
	// lead sources read it.
	PaidOrders map[string]int64 `bson:"po,omitempty"`
	// Old and OldRevenue hold what happened before counting began, copied once from
	// the records (BackfillActivity); set whole, so copying again changes nothing.
	Old           Activity         `bson:"old,omitempty"`
	OldRevenue    map[string]int64 `bson:"oldrev,omitempty"`
	OldPaidOrders map[string]int64 `bson:"oldpo,omitempty"`
}

const (
	activitySince = "since" // when this base began counting as things happen
	activityBuilt = "built" // the events before that have been counted
)

// companyDayID names the company day of t: activity and stage moves are kept by it.
func (s *Store) companyDayID(t time.Time) string { return t.In(s.loc).Format(time.DateOnly) }

// companyDays lists the starts of the company days that overlap [from, to).
func (s *Store) companyDays(from, to time.Time) []time.Time {
	var days []time.Time
	f := from.In(s.loc)
	for day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, s.loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		days = append(days, day)
	}
	return days
}

// countActivity adds counts to manager's figures on the company day of at. A failure
// is logged, not returned: the event is stored, and a caller retrying it would store
// it twice.
func (s *Store) countActivity(ctx context.Context, at time.Time, manager string, counts map[string]int64) {
	if len(counts) == 0 {
		return
	}
	if manager == "" {
		manager = NoManager
	}
	inc := bson.D{}
	for k, n := range counts {
		inc = append(inc, bson.E{Key: "m." + manager + "." + k, Value: n})
	}
	s.incDay(ctx, at, inc)
}

func (s *Store) incDay(ctx context.Context, at time.Time, inc bson.D) {
	s.incDoc(ctx, s.companyDayID(at), inc)
}

// incDoc adds to the counts of an activity document (a day's, or one of its parts).
func (s *Store) incDoc(ctx context.Context, id string, inc bson.D) {
	// The engine's $inc is a read and a write; the lock keeps concurrent counts whole.
	defer s.locks.lock(colActivity, id)()
	if err := s.upsertOne(ctx, colActivity, id, bson.D{{Key: "$inc", Value: inc}}); err != nil {
		s.log.Warn("activity not counted", "day", id, "err", err)
	}
}

// interactionCounts is what a timeline entry adds to its author's activity.
func interactionCounts(it Interaction) map[string]int64 {
	switch it.Kind {
	case InteractionCall:
		c := map[string]int64{ActCalls: 1}
		if it.Call != nil && it.Call.Outcome != "" {
			c[ActCallPrefix+metricName(it.Call.Outcome)] = 1
		}
		return c
	case InteractionMeeting:
		return map[string]int64{ActMeetings: 1}
	case InteractionNote:
		return map[string]int64{ActNotes: 1}
	case InteractionEmailIn:
		return map[string]int64{ActMailIn: 1}
	case InteractionEmailOut:
		return map[string]int64{ActMailOut: 1}
	}
	return nil
}

// metricName keeps a free word usable as a field name.
func metricName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '$' || r == ' ' {
			return '_'
		}
		return r
	}, strings.ToLower(s))
}

// creditedTo is whose activity an entry is: its author's, or, for letters and entries
// written by no manager, the client's manager's.
func creditedTo(it Interaction, clientManager string, managers map[string]bool) string {
	if it.AuthorID != "" && managers[it.AuthorID] {
		return it.AuthorID
	}
	return clientManager
}

// countInteractions counts a client's new timeline entries, one write a day touched.
func (s *Store) countInteractions(ctx context.Context, clientManager string, items []Interaction) {
	type key struct{ day, manager string }
	byDay := map[key]map[string]int64{}
	at := map[key]time.Time{}
	managers := map[string]bool{} // author -> is one of the team
	for _, it := range items {
		counts := interactionCounts(it)
		if counts == nil {
			continue
		}
		if _, known := managers[it.AuthorID]; it.AuthorID != "" && !known {
			// An author may be a process ("import", "mail"): one read by _id tells.
			_, err := s.Manager(ctx, it.AuthorID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				s.log.Warn("activity not counted", "err", err)
				return
			}
			managers[it.AuthorID] = err == nil
		}
		k := key{s.companyDayID(it.At), creditedTo(it, clientManager, managers)}
		if byDay[k] == nil {
			byDay[k], at[k] = map[string]int64{}, it.At
		}
		for m, n := range counts {
			byDay[k][m] += n
		}
	}
	for k, counts := range byDay {
		s.countActivity(ctx, at[k], k.manager, counts)
	}
}

// managerIDs lists the team's IDs, for counting a whole timeline at once.
func (s *Store) managerIDs(ctx context.Context) (map[string]bool, error) {
	ms, err := s.Managers(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		out[m.ID] = true
	}
	return out, nil
}

// activityDays reads the company days that begin in [from, to), and when each begins:
// only the fields named, as a day's counts and its payments by client are read by
// different reports, and the engine's time goes by the values it sends (a day of a
// base with 500,000 orders holds hundreds of clients' payments).
func (s *Store) activityDays(ctx context.Context, from, to time.Time, fields ...string) ([]activityDay, []time.Time, error) {
	return s.activityDocs(ctx, from, to, "", fields...)
}

// A day's counts by client live in documents of their own, "<day>/rev" (payments)
// and "<day>/po" (orders paid in full), so that a report reading the managers'
// counts does not decode them, nor one reading payments the others: the engine
// reads a document whole, whatever the projection.
const (
	revenueDoc    = "/rev"
	paidOrdersDoc = "/po"
)

// activityDocs reads the documents "<day><suffix>" of the company days that begin in
// [from, to), with only the fields named.
func (s *Store) activityDocs(ctx context.Context, from, to time.Time, suffix string, fields ...string) ([]activityDay, []time.Time, error) {
	days := s.companyDays(from, to)
	if len(days) > 0 && days[0].Before(from) {
		days = days[1:]
	}
	only := bson.D{}
	for _, f := range fields {
		only = append(only, bson.E{Key: f, Value: 1})
	}
	docs := make([]activityDay, len(days))
	if err := parallel(ctx, len(days), func(i int) error {
		err := s.c(colActivity).FindOne(ctx, bson.D{{Key: "_id", Value: days[i].Format(time.DateOnly) + suffix}},
			options.FindOne().SetProjection(only)).Decode(&docs[i])
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("read activity: %w", err)
	}
	return docs, days, nil
}

// DailyRevenue calls fn with each client's payments received on each company day
// that begins in [from, to), oldest day first.
func (s *Store) DailyRevenue(ctx context.Context, from, to time.Time, fn func(day time.Time, client string, amount int64) error) error {
	return s.dailyByClient(ctx, from, to, revenueDoc, "rev", "oldrev", func(d *activityDay) []map[string]int64 {
		return []map[string]int64{d.Revenue, d.OldRevenue}
	}, fn)
}

// DailyPaidOrders calls fn with the number of each client's orders paid in full on
// each company day that begins in [from, to), oldest day first.
func (s *Store) DailyPaidOrders(ctx context.Context, from, to time.Time, fn func(day time.Time, client string, n int64) error) error {
	return s.dailyByClient(ctx, from, to, paidOrdersDoc, "po", "oldpo", func(d *activityDay) []map[string]int64 {
		return []map[string]int64{d.PaidOrders, d.OldPaidOrders}
	}, fn)
}

func (s *Store) dailyByClient(ctx context.Context, from, to time.Time, suffix, field, old string, parts func(*activityDay) []map[string]int64,
	fn func(day time.Time, client string, n int64) error) error {
	docs, days, err := s.activityDocs(ctx, from, to, suffix, field, old)
	if err != nil {
		return err
	}
	for i := range docs {
		for _, part := range parts(&docs[i]) {
			for client, n := range part {
				if err := fn(days[i], client, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ActivityBetween sums the counts of the company days that begin in [from, to).
func (s *Store) ActivityBetween(ctx context.Context, from, to time.Time) (Activity, error) {
	docs, _, err := s.activityDays(ctx, from, to, "m", "old")
	if err != nil {
		return nil, err
	}
	out := Activity{}
	for _, d := range docs {
		for _, part := range []Activity{d.Live, d.Old} {
			for m, counts := range part {
				for k, n := range counts {
					out.add(m, k, n)
				}
			}
		}
	}
	return out, nil
}

// startCounting notes when this base began counting activity as it happens, once:
// BackfillActivity counts what came before from the records. Migrate calls it.
func (s *Store) startCounting(ctx context.Context) error {
	_, err := s.c(colActivity).UpdateOne(ctx, bson.D{{Key: "_id", Value: activitySince}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "at", Value: s.now()}}}}, options.Update().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

// BackfillActivity counts, once per base, the activity that happened before the base
// began counting it: timeline entries, tasks done, replies and paid orders. It reads
// those collections whole (a cold path: `crm migrate`, or in the background at start)
// and returns how many events it counted.
func (s *Store) BackfillActivity(ctx context.Context) (int, error) {
	var marker struct {
		At time.Time `bson:"at"`
	}
	if err := s.getByID(ctx, colActivity, activityBuilt, &marker); err == nil {
		return 0, nil
	} else if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if err := s.getByID(ctx, colActivity, activitySince, &marker); err != nil {
		return 0, fmt.Errorf("activity counting has not begun (run crm migrate): %w", err)
	}
	since := marker.At
	old := map[string]Activity{}                // day -> counts
	oldRevenue := map[string]map[string]int64{} // day -> client -> paid
	oldPaid := map[string]map[string]int64{}    // day -> client -> orders paid in full
	byClient := func(m map[string]map[string]int64, at time.Time, client string, n int64) {
		day := s.companyDayID(at)
		if m[day] == nil {
			m[day] = map[string]int64{}
		}
		m[day][client] += n
	}
	n := 0
	count := func(at time.Time, manager string, counts map[string]int64) {
		if manager == "" {
			manager = NoManager
		}
		day := s.companyDayID(at)
		if old[day] == nil {
			old[day] = Activity{}
		}
		for k, v := range counts {
			old[day].add(manager, k, v)
		}
		n++
	}
	clients, err := s.ReportClients(ctx)
	if err != nil {
		return 0, err
	}
	managerOf := make(map[string]string, len(clients))
	for _, c := range clients {
		managerOf[c.ID] = c.ManagerID
	}
	team, err := s.managerIDs(ctx)
	if err != nil {
		return 0, err
	}
	cur, err := s.c(colTimeline).Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, err
	}
	if err := eachDoc(ctx, cur, func(doc *timelineDoc) error {
		for _, it := range doc.Items {
			if counts := interactionCounts(it); counts != nil && it.At.Before(since) {
				count(it.At, creditedTo(it, managerOf[doc.Client], team), counts)
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("read timeline: %w", err)
	}
	cur, err = s.c(colTasks).Find(ctx, bson.D{{Key: "state", Value: TaskDone}}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, err
	}
	if err := eachDoc(ctx, cur, func(t *Task) error {
		if t.DoneAt != nil && t.DoneAt.Before(since) {
			count(*t.DoneAt, t.AssigneeID, map[string]int64{ActTasksDone: 1})
			if t.DoneAt.After(t.Due) {
				count(t.Due, t.AssigneeID, map[string]int64{ActTasksLate: 1})
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("read tasks: %w", err)
	}
	cur, err = s.c(colReplies).Find(ctx, bson.D{}, options.Find().SetBatchSize(500))
	if err != nil {
		return 0, err
	}
	if err := eachDoc(ctx, cur, func(r *AwaitedReply) error {
		if r.AnsweredAt != nil && r.AnsweredAt.Before(since) && len(r.Clients) > 0 {
			count(*r.AnsweredAt, managerOf[r.Clients[0]], replyCounts(r, *r.AnsweredAt))
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("read replies: %w", err)
	}
	if err := s.EachOrder(ctx, func(o *Order) error {
		if o.State == OrderCancelled || !o.CreatedAt.Before(since) {
			return nil
		}
		manager := o.ManagerID
		if manager == "" {
			manager = managerOf[o.ClientID]
		}
		count(o.Date, manager, map[string]int64{ActInvoiced: o.Amount})
		if o.PaidAt != nil && o.State == OrderPaid {
			count(*o.PaidAt, manager, map[string]int64{ActOrders: 1})
			byClient(oldPaid, *o.PaidAt, o.ClientID, 1)
		}
		for _, p := range o.Payments {
			count(p.Date, manager, map[string]int64{ActRevenue: p.Amount})
			byClient(oldRevenue, p.Date, o.ClientID, p.Amount)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	days := make([]string, 0, len(old))
	for d := range old {
		days = append(days, d)
	}
	if err := parallel(ctx, len(days), func(i int) error {
		for _, part := range []struct {
			suffix, field string
			counts        map[string]int64
		}{{revenueDoc, "oldrev", oldRevenue[days[i]]}, {paidOrdersDoc, "oldpo", oldPaid[days[i]]}} {
			if part.counts == nil {
				continue
			}
			err := s.upsertOne(ctx, colActivity, days[i]+part.suffix, bson.D{{Key: "$set", Value: bson.D{{Key: part.field, Value: part.counts}}}})
			if err != nil {
				return err
			}
		}
		return s.upsertOne(ctx, colActivity, days[i], bson.D{{Key: "$set", Value: bson.D{{Key: "old", Value: old[days[i]]}}}})
	}); err != nil {
		return 0, fmt.Errorf("write activity: %w", err)
	}
	if _, err := s.c(colActivity).InsertOne(ctx, bson.D{{Key: "_id", Value: activityBuilt}, {Key: "at", Value: s.now()}}); err != nil &&
		!mongo.IsDuplicateKeyError(err) {
		return n, err
	}
	return n, nil
}

// replyCounts is what answering an awaited letter at t adds.
func replyCounts(r *AwaitedReply, t time.Time) map[string]int64 {
	if t.After(r.DueAt) {
		return map[string]int64{ActRepliesLate: 1}
	}
	return map[string]int64{ActRepliesOnTime: 1}
}
