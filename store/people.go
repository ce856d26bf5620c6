package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// CreateManager adds a person to the team. A Telegram account belongs to one manager,
// through the key "tg:<id>".
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
		m.TimeZone = "Europe/Moscow"
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

// CreateTask saves a task and adds it to its client's card.
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
	if _, err := s.c(colTasks).InsertOne(ctx, t); err != nil {
		return fmt.Errorf("save task: %w", err)
	}
	if t.ClientID != "" {
		// The card shows the next planned contact without reading tasks.
		defer s.locks.lock(colClients, t.ClientID)()
		_, err := s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: t.ClientID}},
			bson.D{{Key: "$min", Value: bson.D{{Key: "nextContactAt", Value: t.Due}}}})
		if err != nil {
			return fmt.Errorf("update client's next contact: %w", err)
		}
	}
	return nil
}

// Task reads a task.
func (s *Store) Task(ctx context.Context, id string) (*Task, error) {
	return getOne[Task](ctx, s, colTasks, id)
}

// SetTaskState marks a task done, reopens it, or snoozes it to a new time.
func (s *Store) SetTaskState(ctx context.Context, actor, id string, state TaskState, due time.Time) (*Task, error) {
	set := bson.D{{Key: "state", Value: state}}
	switch state {
	case TaskDone:
		set = append(set, bson.E{Key: "doneAt", Value: s.now()})
	case TaskSnoozed, TaskOpen:
		if !due.IsZero() {
			set = append(set, bson.E{Key: "due", Value: due.UTC()})
		}
	default:
		return nil, invalidf("unknown task state %q", state)
	}
	var t Task
	unlock := s.locks.lock(colTasks, id)
	err := s.c(colTasks).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&t)
	unlock()
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	return &t, s.Audit(ctx, actor, "task."+string(state), "task", id, nil)
}

// OpenTasks lists a manager's open and snoozed tasks by due time (a scan: the
// scheduler keeps its own due-time calendar for the hot path).
func (s *Store) OpenTasks(ctx context.Context, assigneeID string) ([]Task, error) {
	cur, err := s.c(colTasks).Find(ctx, bson.D{{Key: "assigneeId", Value: assigneeID},
		{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{TaskOpen, TaskSnoozed}}}}},
		options.Find().SetSort(bson.D{{Key: "due", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Task
	return out, cur.All(ctx, &out)
}

func notFound(err error, what, id string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return err
}
