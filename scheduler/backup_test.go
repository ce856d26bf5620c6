package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store/storetest"
)

// The nightly backup is taken once a company day, after 02:00, by one instance; a
// failed one is taken again at the next look.
func TestNightlyBackupOnceADay(t *testing.T) {
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	c := storetest.NewClock(time.Date(2026, 11, 20, 1, 30, 0, 0, msk))
	st := storetest.OnClock(t, c)
	var taken []string
	fail := true
	backup := func(_ context.Context, day time.Time) error {
		if fail {
			fail = false
			return errors.New("disk full")
		}
		taken = append(taken, day.Format(time.DateOnly))
		return nil
	}
	one := scheduler.New(st, nil, scheduler.Options{Now: c.Now, Owner: "one", Location: msk, Backup: backup})
	two := scheduler.New(st, nil, scheduler.Options{Now: c.Now, Owner: "two", Location: msk, Backup: backup})
	if ok, err := one.Backup(ctx); ok || err != nil {
		t.Fatalf("before 02:00: %v %v", ok, err)
	}
	c.Set(time.Date(2026, 11, 20, 2, 10, 0, 0, msk))
	if ok, err := one.Backup(ctx); ok || err == nil {
		t.Fatalf("a failing backup: %v %v", ok, err)
	}
	if ok, err := two.Backup(ctx); ok || err != nil {
		t.Fatalf("the other instance, while one holds the lease: %v %v", ok, err)
	}
	for range 2 {
		if _, err := one.Backup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(time.Date(2026, 11, 21, 2, 0, 0, 0, msk))
	if ok, err := one.Backup(ctx); !ok || err != nil {
		t.Fatalf("the next night: %v %v", ok, err)
	}
	if len(taken) != 2 || taken[0] != "2026-11-20" || taken[1] != "2026-11-21" {
		t.Fatalf("taken: %v", taken)
	}
}
