package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// CreateManager adds a person to the team, in the company's time zone unless they give
// one. A Telegram account belongs to one manager, through the key "tg:<id>".
func (s *Store) CreateManager(ctx context.Context, actor string, m *Manager) error {
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" {
		return invalidf("a manager needs a name")
	}
	if m.Role == "" {
		m.Role = RoleManager
	}
	if !m.Role.Valid() {
		return invalidf("role %q is not one of manager, head, admin", m.Role)
	}
	if m.TimeZone == "" {
		m.TimeZone = s.loc.String() // the company's
	}
	if _, err := time.LoadLocation(m.TimeZone); err != nil {
		return invalidf("unknown time zone %q (expected e.g. Europe/Moscow)", m.TimeZone)
	}
	if m.Language == "" {
		m.Language = "ru"
	}
	if m.DigestHour == 0 {
		m.DigestHour = 9
	}
	if m.ID == "" {
		m.ID = newID()
	}
	m.CreatedAt = s.now()
	m.Active = true
	if m.TelegramID != 0 {
		key := keyTelegram + strconv.FormatInt(m.TelegramID, 10)
		if err := s.claimManagerKey(ctx, key, m); err != nil {
			return err
		}
	}
	if _, err := s.c(colManagers).InsertOne(ctx, m); err != nil {
		return fmt.Errorf("save manager: %w", err)
	}
	return s.Audit(ctx, actor, "manager.create", "manager", m.ID, map[string]any{"name": m.Name, "role": m.Role})
}

func (s *Store) claimManagerKey(ctx context.Context, key string, m *Manager) error {
	var have keyDoc
	err := s.getByID(ctx, colKeys, key, &have)
	if err == nil && have.ClientID != m.ID {
		var other Manager
		if s.getByID(ctx, colManagers, have.ClientID, &other) == nil {
			return &KeyTakenError{Key: key, ClientID: other.ID, ClientName: other.Name}
		}
	}
	_, err = s.c(colKeys).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: keyDoc{ID: key, ClientID: m.ID, ClientName: m.Name, CreatedAt: s.now()}}},
		options.Update().SetUpsert(true))
	return err
}

// Manager reads a manager by ID.
func (s *Store) Manager(ctx context.Context, id string) (*Manager, error) {
	return getOne[Manager](ctx, s, colManagers, id)
}

// ManagerByTelegram finds the manager with a Telegram user ID (one _id read each).
func (s *Store) ManagerByTelegram(ctx context.Context, telegramID int64) (*Manager, error) {
	var k keyDoc
	if err := s.getByID(ctx, colKeys, keyTelegram+strconv.FormatInt(telegramID, 10), &k); err != nil {
		return nil, err
	}
	m, err := s.Manager(ctx, k.ClientID)
	if err != nil || m.TelegramID != telegramID {
		return nil, fmt.Errorf("telegram user %d: %w", telegramID, ErrNotFound)
	}
	return m, nil
}

// Managers lists the team (a small collection, read whole).
func (s *Store) Managers(ctx context.Context) ([]Manager, error) {
	cur, err := s.c(colManagers).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Manager
	return out, cur.All(ctx, &out)
}

// UpdateManager sets a manager's role, time zone, language, digest hour or activity.
func (s *Store) UpdateManager(ctx context.Context, actor, id string, set map[string]any) (*Manager, error) {
	allowed := map[string]bool{"name": true, "role": true, "timeZone": true, "language": true, "digestHour": true, "active": true, "headId": true, "email": true}
	doc := bson.D{}
	for k, v := range set {
		if !allowed[k] {
			return nil, invalidf("manager field %q cannot be changed", k)
		}
		if k == "role" && !Role(fmt.Sprint(v)).Valid() {
			return nil, invalidf("role %q is not one of manager, head, admin", v)
		}
		if k == "timeZone" {
			if _, err := time.LoadLocation(fmt.Sprint(v)); err != nil {
				return nil, invalidf("unknown time zone %q", v)
			}
		}
		if k == "email" && fmt.Sprint(v) != "" {
			// Answers from the mailbox are known as the manager's by this address.
			email, err := NormalizeEmail(fmt.Sprint(v))
			if err != nil {
				return nil, err
			}
			v = email
		}
		doc = append(doc, bson.E{Key: k, Value: v})
	}
	var m Manager
	unlock := s.locks.lock(colManagers, id)
	err := s.c(colManagers).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: doc}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	unlock()
	if err != nil {
		return nil, notFound(err, "manager", id)
	}
	return &m, s.Audit(ctx, actor, "manager.update", "manager", id, set)
}

// SetManagerHead names the head a manager's unanswered letters escalate to; "" names
// none, and every head is told. The head is an active head of sales or administrator
// other than the manager.
func (s *Store) SetManagerHead(ctx context.Context, actor, managerID, headID string) (*Manager, error) {
	if headID != "" && headID == managerID {
		return nil, invalidf("a person cannot be their own head")
	}
	if headID != "" {
		h, err := s.Manager(ctx, headID)
		if errors.Is(err, ErrNotFound) {
			return nil, invalidf("no manager %q to be the head", headID)
		}
		if err != nil {
			return nil, err
		}
		if !h.Active {
			return nil, invalidf("%s is deactivated and cannot be a head", h.Name)
		}
		if h.Role != RoleHead && h.Role != RoleAdmin {
			return nil, invalidf("%s is a %s: only a head of sales or an administrator can be a head", h.Name, h.Role)
		}
	}
	return s.UpdateManager(ctx, actor, managerID, map[string]any{"headId": headID})
}

// CreateTask saves a task and adds it to its client's card and its assignee's agenda.
func (s *Store) CreateTask(ctx context.Context, actor string, t *Task) error {
	t.Text = strings.TrimSpace(t.Text)
	if t.Text == "" {
		return invalidf("a task needs a text")
	}
	if t.AssigneeID == "" {
		return invalidf("a task needs an assignee")
	}
	if t.Due.IsZero() {
		return invalidf("a task needs a time")
	}
	if t.ID == "" {
		t.ID = newID()
	}
	t.Due = t.Due.UTC()
	t.State, t.CreatedAt, t.CreatedBy = TaskOpen, s.now(), actor
	if err := s.addToSlot(ctx, t.Due, t.ID); err != nil {
		return err
	}
	// The task is the source of truth and is written next; the copies on the card and
	// the agenda follow, and RepairTaskRefs mends them after a crash in between.
	if _, err := s.c(colTasks).InsertOne(ctx, t); err != nil {
		return fmt.Errorf("save task: %w", err)
	}
	if err := s.syncTaskRefs(ctx, t); err != nil {
		return err
	}
	return s.Audit(ctx, actor, "task.create", "task", t.ID, map[string]any{"client": t.ClientID, "due": t.Due, "text": t.Text})
}

func (t *Task) ref() TaskRef {
	return TaskRef{ID: t.ID, AssigneeID: t.AssigneeID, ClientID: t.ClientID, Due: t.Due, Text: t.Text}
}

func (t *Task) isOpen() bool { return t.State == TaskOpen || t.State == TaskSnoozed }

// withRef returns refs without the task's old copy and with its new one if it is open,
// by due time.
func withRef(refs []TaskRef, t *Task) []TaskRef {
	out := make([]TaskRef, 0, len(refs)+1)
	for _, r := range refs {
		if r.ID != t.ID {
			out = append(out, r)
		}
	}
	if t.isOpen() {
		out = append(out, t.ref())
	}
	sortRefs(out)
	return out
}

func sortRefs(refs []TaskRef) {
	sort.Slice(refs, func(i, j int) bool {
		if !refs[i].Due.Equal(refs[j].Due) {
			return refs[i].Due.Before(refs[j].Due)
		}
		return refs[i].ID < refs[j].ID
	})
}

type agendaDoc struct {
	ID    string    `bson:"_id"` // the manager
	Tasks []TaskRef `bson:"tasks"`
}

// syncTaskRefs puts the task's current state into its client's card and its
// assignee's agenda (read-modify-write under the documents' locks).
func (s *Store) syncTaskRefs(ctx context.Context, t *Task) error {
	if t.ClientID != "" {
		if err := s.updateClientTasks(ctx, t.ClientID, func(refs []TaskRef) []TaskRef { return withRef(refs, t) }); err != nil {
			return err
		}
	}
	return s.updateAgenda(ctx, t.AssigneeID, func(refs []TaskRef) []TaskRef { return withRef(refs, t) })
}

func (s *Store) updateClientTasks(ctx context.Context, clientID string, change func([]TaskRef) []TaskRef) error {
	defer s.locks.lock(colClients, clientID)()
	var c struct {
		Tasks []TaskRef `bson:"tasks"`
	}
	if err := s.getByID(ctx, colClients, clientID, &c); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil // a task about a deleted client
		}
		return fmt.Errorf("read client's tasks: %w", err)
	}
	refs := change(c.Tasks)
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "tasks", Value: refs}}}}
	if len(refs) > 0 {
		// The card shows the next planned contact without reading tasks.
		update[0].Value = append(update[0].Value.(bson.D), bson.E{Key: "nextContactAt", Value: refs[0].Due})
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "nextContactAt", Value: ""}}})
	}
	if _, err := s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: clientID}}, update); err != nil {
		return fmt.Errorf("update client's tasks: %w", err)
	}
	if (len(c.Tasks) > 0) != (len(refs) > 0) {
		// The directory keeps whether a client has open tasks (the web's filter): only
		// a change of that is logged, not every task's.
		return s.recordChanges(ctx, clientID)
	}
	return nil
}

func (s *Store) updateAgenda(ctx context.Context, managerID string, change func([]TaskRef) []TaskRef) error {
	defer s.locks.lock(colAgendas, managerID)()
	var a agendaDoc
	if err := s.getByID(ctx, colAgendas, managerID, &a); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read agenda: %w", err)
	}
	_, err := s.c(colAgendas).UpdateOne(ctx, bson.D{{Key: "_id", Value: managerID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "tasks", Value: change(a.Tasks)}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("update agenda: %w", err)
	}
	return nil
}

// Task reads a task.
func (s *Store) Task(ctx context.Context, id string) (*Task, error) {
	return getOne[Task](ctx, s, colTasks, id)
}

// SetTaskState marks a task done or cancelled, reopens it, or snoozes it to a new time.
func (s *Store) SetTaskState(ctx context.Context, actor, id string, state TaskState, due time.Time) (*Task, error) {
	set := bson.D{{Key: "state", Value: state}}
	now := s.now()
	switch state {
	case TaskDone:
		set = append(set, bson.E{Key: "doneAt", Value: now})
	case TaskCancelled:
	case TaskSnoozed, TaskOpen:
		if !due.IsZero() {
			if err := s.addToSlot(ctx, due, id); err != nil {
				return nil, err
			}
			set = append(set, bson.E{Key: "due", Value: due.UTC()})
		}
	default:
		return nil, invalidf("unknown task state %q", state)
	}
	var t Task
	unlock := s.locks.lock(colTasks, id)
	err := s.c(colTasks).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&t)
	unlock()
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	// The document as it was tells whether this is the task's first "done".
	wasDone := t.State == TaskDone
	t.State = state
	switch {
	case state == TaskDone:
		t.DoneAt = &now
	case !due.IsZero():
		t.Due = due.UTC()
	}
	if state == TaskDone && !wasDone {
		s.countActivity(ctx, *t.DoneAt, t.AssigneeID, map[string]int64{ActTasksDone: 1})
		if t.DoneAt.After(t.Due) {
			s.countActivity(ctx, t.Due, t.AssigneeID, map[string]int64{ActTasksLate: 1})
		}
	}
	if err := s.syncTaskRefs(ctx, &t); err != nil {
		return nil, err
	}
	return &t, s.Audit(ctx, actor, "task."+string(state), "task", id, map[string]any{"due": t.Due})
}

// OpenTasks lists a manager's open and snoozed tasks by due time: one read of their
// agenda.
func (s *Store) OpenTasks(ctx context.Context, assigneeID string) ([]TaskRef, error) {
	var a agendaDoc
	if err := s.getByID(ctx, colAgendas, assigneeID, &a); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return a.Tasks, nil
}

// RepairTaskRefs rebuilds the cards' and agendas' copies of open tasks from the tasks
// themselves (a crash between the writes leaves them behind). A cold path: it scans.
func (s *Store) RepairTaskRefs(ctx context.Context) (fixed int, err error) {
	byClient, byManager := map[string][]TaskRef{}, map[string][]TaskRef{}
	err = s.eachOpenTask(ctx, func(t *Task) error {
		if t.ClientID != "" {
			byClient[t.ClientID] = append(byClient[t.ClientID], t.ref())
		}
		byManager[t.AssigneeID] = append(byManager[t.AssigneeID], t.ref())
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Clients and agendas that hold copies now, so stale copies are cleared too.
	have := func(col string) (map[string][]TaskRef, error) {
		cur, err := s.c(col).Find(ctx, bson.D{{Key: "tasks", Value: bson.D{{Key: "$exists", Value: true}}}},
			options.Find().SetProjection(bson.D{{Key: "tasks", Value: 1}}))
		if err != nil {
			return nil, err
		}
		out := map[string][]TaskRef{}
		for cur.Next(ctx) {
			var d agendaDoc
			if err := cur.Decode(&d); err != nil {
				return nil, err
			}
			out[d.ID] = d.Tasks
		}
		return out, cur.Err()
	}
	fix := func(col string, want map[string][]TaskRef, update func(string, func([]TaskRef) []TaskRef) error) error {
		got, err := have(col)
		if err != nil {
			return err
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				want[id] = nil
			}
		}
		for id, refs := range want {
			sortRefs(refs)
			if sameRefs(got[id], refs) {
				continue
			}
			if err := update(id, func([]TaskRef) []TaskRef { return refs }); err != nil {
				return err
			}
			fixed++
		}
		return nil
	}
	if err := fix(colClients, byClient, func(id string, f func([]TaskRef) []TaskRef) error {
		return s.updateClientTasks(ctx, id, f)
	}); err != nil {
		return fixed, err
	}
	err = fix(colAgendas, byManager, func(id string, f func([]TaskRef) []TaskRef) error {
		return s.updateAgenda(ctx, id, f)
	})
	return fixed, err
}

// eachOpenTask streams the open and snoozed tasks (a cold path: it scans).
func (s *Store) eachOpenTask(ctx context.Context, fn func(*Task) error) error {
	cur, err := s.c(colTasks).Find(ctx, bson.D{{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{TaskOpen, TaskSnoozed}}}}})
	if err != nil {
		return fmt.Errorf("read open tasks: %w", err)
	}
	return eachDoc(ctx, cur, fn)
}

func sameRefs(a, b []TaskRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !a[i].Due.Equal(b[i].Due) || a[i].Text != b[i].Text {
			return false
		}
	}
	return true
}

func notFound(err error, what, id string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return err
}
