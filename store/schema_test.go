package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/crm-team/crm/store/storetest"
)

func TestMissingIndexesAreNamed(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	if missing, err := s.MissingIndexes(ctx); err != nil || len(missing) != 0 {
		t.Fatalf("after migrate: %v %v", missing, err)
	}
	s.DropIndexForTest(ctx, t, "clients", "city_1")
	if missing, err := s.MissingIndexes(ctx); err != nil || !slices.Equal(missing, []string{"clients.city_1"}) {
		t.Fatalf("without clients.city_1: %v %v", missing, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if missing, err := s.MissingIndexes(ctx); err != nil || len(missing) != 0 {
		t.Fatalf("after migrate again: %v %v", missing, err)
	}
}
