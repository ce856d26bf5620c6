package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// Handover is what HandOver gave: from whom, to whom, and how many clients and open
// tasks moved this time.
type Handover struct {
	From, To       string
	Clients, Tasks int
}

// HandOver gives every client of manager from, and every open task of theirs, to the
// active manager to (a manager who leaves). There is no transaction, so the handover
// is first written on from (handoverTo) and cleared only once everything is given: a
// crash midway leaves the mark, and ResumeHandovers finishes the work at the next
// start. Each client and task is given on its own and only while it is still from's,
// so running it again moves only what is left, and a client someone gave elsewhere
// meanwhile stays there.
func (s *Store) HandOver(ctx context.Context, actor, from, to string) (Handover, error) {
	h := Handover{From: from, To: to}
	if from == to {
		return h, invalidf("a manager's clients cannot be handed to the same manager")
	}
	if _, err := s.Manager(ctx, from); err != nil {
		return h, err
	}
	dst, err := s.Manager(ctx, to)
	if err != nil {
		return h, err
	}
	if !dst.Active {
		return h, invalidf("%s is not active: hand the clients to someone on the team", dst.Name)
	}
	if err := s.markHandover(ctx, from, bson.D{{Key: "$set", Value: bson.D{{Key: "handoverTo", Value: to}, {Key: "handoverBy", Value: actor}}}}); err != nil {
		return h, err
	}
	if err := s.crashPoint("handover:marked"); err != nil {
		return h, err
	}
	clients, _, err := s.ManagerClients(ctx, from, 0, 0)
	if err != nil {
		return h, err
	}
	for _, r := range clients {
		moved, err := s.giveClient(ctx, actor, r.ClientID, from, to)
		if err != nil {
			return h, err
		}
		if moved {
			h.Clients++
		}
		if err := s.crashPoint("handover:client"); err != nil {
			return h, err
		}
	}
	refs, err := s.OpenTasks(ctx, from)
	if err != nil {
		return h, err
	}
	for _, r := range refs {
		moved, err := s.giveTask(ctx, r.ID, from, dst)
		if err != nil {
			return h, err
		}
		if moved {
			h.Tasks++
		}
	}
	if err := s.markHandover(ctx, from, bson.D{{Key: "$unset", Value: bson.D{{Key: "handoverTo", Value: ""}, {Key: "handoverBy", Value: ""}}}}); err != nil {
		return h, err
	}
	_ = s.Audit(ctx, actor, "manager.handover", "manager", from, map[string]any{"to": to, "clients": h.Clients, "tasks": h.Tasks})
	return h, nil
}

func (s *Store) markHandover(ctx context.Context, managerID string, update bson.D) error {
	defer s.locks.lock(colManagers, managerID)()
	if _, err := s.c(colManagers).UpdateOne(ctx, bson.D{{Key: "_id", Value: managerID}}, update); err != nil {
		return fmt.Errorf("mark the handover: %w", err)
	}
	return nil
}

// giveClient gives a client of from to to; false when it is not from's (any more).
func (s *Store) giveClient(ctx context.Context, actor, clientID, from, to string) (bool, error) {
	c, err := s.Client(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil || c.ManagerID != from {
		return false, err
	}
	_, err = s.UpdateClient(ctx, actor, clientID, ClientPatch{ManagerID: &to})
	return err == nil, err
}

// giveTask makes an open task of from's the task of to, in to's time zone, then moves
// its copies: onto the card and to's agenda, then off from's agenda. A crash between
// leaves a copy on from's agenda, which the next run (or RepairTaskRefs) takes off.
// False when the task was not from's to give.
func (s *Store) giveTask(ctx context.Context, taskID, from string, to *Manager) (bool, error) {
	unlock := s.locks.lock(colTasks, taskID)
	t, err := s.Task(ctx, taskID)
	if errors.Is(err, ErrNotFound) {
		unlock()
		return false, s.updateAgenda(ctx, from, func(refs []TaskRef) []TaskRef { return withoutRef(refs, taskID) })
	}
	if err != nil {
		unlock()
		return false, err
	}
	moved := t.AssigneeID == from && t.isOpen()
	if moved {
		if _, err := s.c(colTasks).UpdateOne(ctx, bson.D{{Key: "_id", Value: taskID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "assigneeId", Value: to.ID}, {Key: "timeZone", Value: to.TimeZone}}}}); err != nil {
			unlock()
			return false, fmt.Errorf("give task: %w", err)
		}
		t.AssigneeID, t.TimeZone = to.ID, to.TimeZone
	}
	unlock()
	if err := s.syncTaskRefs(ctx, t); err != nil {
		return false, err
	}
	if t.AssigneeID != from {
		if err := s.updateAgenda(ctx, from, func(refs []TaskRef) []TaskRef { return withoutRef(refs, taskID) }); err != nil {
			return false, err
		}
	}
	return moved, nil
}

func withoutRef(refs []TaskRef, id string) []TaskRef {
	out := refs[:0:0]
	for _, r := range refs {
		if r.ID != id {
			out = append(out, r)
		}
	}
	return out
}

// ResumeHandovers finishes the handovers a crash interrupted (crm serve runs it at
// start) and returns how many clients and tasks it gave. The team is a small
// collection, read whole.
func (s *Store) ResumeHandovers(ctx context.Context) (int, error) {
	team, err := s.Managers(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, m := range team {
		if m.HandoverTo == "" {
			continue
		}
		h, err := s.HandOver(ctx, m.HandoverBy, m.ID, m.HandoverTo)
		n += h.Clients + h.Tasks
		if err != nil {
			errs = append(errs, fmt.Errorf("hand %s's clients over: %w", m.Name, err))
		}
	}
	return n, errors.Join(errs...)
}
