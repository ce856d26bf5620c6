package store

import (
	"context"

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
