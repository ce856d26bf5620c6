package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// Marks are what the nightly job computes for a client: its ABC/XYZ class and whether
// it is at risk of going red.
type Marks struct {
	Class  string // "AX"; "" without paid orders
	AtRisk bool
}

// MarkClients stores every client's marks (a client missing from marks has none) and
// returns how many clients it wrote and which became at risk. Only clients whose marks
// changed are written: the directory holds the stored ones, so a night that changes
// little writes little.
func (s *Store) MarkClients(ctx context.Context, marks map[string]Marks) (int, []string, error) {
	if err := s.dir.Sync(ctx); err != nil {
		return 0, nil, err
	}
	type change struct {
		id        string
		was, next Marks
	}
	var todo []change
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		was := Marks{Class: e.class.Value(), AtRisk: e.atRisk}
		if next := marks[e.id]; next != was {
			todo = append(todo, change{e.id, was, next})
		}
	}
	s.dir.mu.RUnlock()
	now := s.now()
	err := parallel(ctx, len(todo), func(i int) error {
		c := todo[i]
		set, unset := bson.D{}, bson.D{}
		if c.next.Class != "" {
			set = append(set, bson.E{Key: "class", Value: c.next.Class})
		} else {
			unset = append(unset, bson.E{Key: "class", Value: ""})
		}
		switch {
		case c.next.AtRisk && !c.was.AtRisk:
			set = append(set, bson.E{Key: "atRiskSince", Value: now})
		case !c.next.AtRisk:
			unset = append(unset, bson.E{Key: "atRiskSince", Value: ""})
		}
		update := bson.D{}
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		if len(unset) > 0 {
			update = append(update, bson.E{Key: "$unset", Value: unset})
		}
		defer s.locks.lock(colClients, c.id)()
		if _, err := s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: c.id}}, update); err != nil {
			return fmt.Errorf("mark client: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	var atRisk []string
	ids := make([]string, len(todo))
	for i, c := range todo {
		ids[i] = c.id
		if c.next.AtRisk && !c.was.AtRisk {
			atRisk = append(atRisk, c.id)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if err := s.recordChanges(ctx, ids[:n]...); err != nil {
			return 0, nil, err
		}
		ids = ids[n:]
	}
	// The directory follows the changes now, at night, not in the morning's first
	// search: over maxChangesToFeed of them it is read again whole (about 9 s at
	// 100,000 clients).
	if len(todo) > 0 {
		if err := s.dir.Sync(ctx); err != nil {
			s.log.Warn("client directory not refreshed after the nightly marks", "err", err)
		}
	}
	return len(todo), atRisk, nil
}

// classQuery reads a search for a class, "class:AX" or "класс:A".
func classQuery(query string) (string, bool) {
	q := strings.ToLower(strings.TrimSpace(query))
	for _, prefix := range []string{"class:", "класс:"} {
		if want, ok := strings.CutPrefix(q, prefix); ok {
			return strings.ToUpper(strings.TrimSpace(want)), true
		}
	}
	return "", false
}

// searchClass lists the clients of a class that v sees, by name.
func (s *Store) searchClass(ctx context.Context, v Viewer, want string, limit int) ([]Result, error) {
	if !ValidClass(want) {
		return nil, invalidf("class %q: use A, B or C, X, Y or Z, or a pair such as AX", want)
	}
	if !s.dir.look(ctx) {
		return nil, nil // found once the directory is loaded (DirectoryState)
	}
	var out []Result
	s.dir.mu.RLock()
	for _, e := range s.dir.entries.list {
		if InClass(e.class.Value(), want) && v.sees(e.managerID()) {
			out = append(out, Result{ClientID: e.id, Name: e.name, Stage: e.stage.Value(), ManagerID: e.managerID(), Match: MatchClass, sortKey: e.norm()})
		}
	}
	s.dir.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].sortKey != out[j].sortKey {
			return out[i].sortKey < out[j].sortKey
		}
		return out[i].ClientID < out[j].ClientID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
