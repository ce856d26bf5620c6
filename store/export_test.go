package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// SetCrash makes the store stop a write sequence at the named point, as a crash would.
func (s *Store) SetCrash(f func(point string) error) { s.crash = f }

// DeleteKeyForTest removes a key document behind the store's back, as a partial
// restore might.
func (s *Store) DeleteKeyForTest(ctx context.Context, key string) error {
	_, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}

// ClearTaskRefsForTest drops the copies of open tasks, as a crash after the task's own
// write would leave them.
func (s *Store) ClearTaskRefsForTest(ctx context.Context, t *testing.T, clientID, managerID string) {
	t.Helper()
	empty := func([]TaskRef) []TaskRef { return nil }
	if err := s.updateClientTasks(ctx, clientID, empty); err != nil {
		t.Fatal(err)
	}
	if err := s.updateAgenda(ctx, managerID, empty); err != nil {
		t.Fatal(err)
	}
}

// ForgetActivityForTest drops every activity count and says counting began at since,
// as a base an older version kept would look after its first migrate.
func (s *Store) ForgetActivityForTest(ctx context.Context, t *testing.T, since time.Time) {
	t.Helper()
	if _, err := s.c(colActivity).DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c(colActivity).InsertOne(ctx, bson.D{{Key: "_id", Value: activitySince}, {Key: "at", Value: since}}); err != nil {
		t.Fatal(err)
	}
}
