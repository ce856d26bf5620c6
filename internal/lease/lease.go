// Package lease holds an instance's named leases (store.AcquireLease), so that a job
// runs on one instance at a time. A lease is renewed in the database only once half
// of it has run: a job looked at every second costs a write every fifteen. The
// scheduler's jobs and campaign delivery's preparations hold theirs through it.
package lease

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// TTL is how long a lease outlives its holder: another instance takes a job over
// within it after a crash.
const TTL = 30 * time.Second

// Store keeps the leases; *store.Store is one.
type Store interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Holder holds leases for one owner.
type Holder struct {
	st    Store
	owner string
	now   func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	until map[string]time.Time // held until, as last renewed
}

// New makes a holder for owner; now is the clock, log gets the releases that fail.
func New(st Store, owner string, now func() time.Time, log *slog.Logger) *Holder {
	return &Holder{st: st, owner: owner, now: now, log: log, until: map[string]time.Time{}}
}

// Hold reports whether this instance holds the named lease, taking or renewing it
// when half of it has run.
func (h *Holder) Hold(ctx context.Context, name string) (bool, error) {
	now := h.now()
	h.mu.Lock()
	until := h.until[name]
	h.mu.Unlock()
	if until.Sub(now) > TTL/2 {
		return true, nil
	}
	ok, err := h.st.AcquireLease(ctx, name, h.owner, TTL)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil || !ok {
		delete(h.until, name)
		return false, err
	}
	h.until[name] = now.Add(TTL)
	return true, nil
}

// Release gives a lease up, so another instance can take the job at once.
func (h *Holder) Release(name string) {
	h.mu.Lock()
	delete(h.until, name)
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.st.ReleaseLease(ctx, name, h.owner); err != nil {
		h.log.Warn("release lease", "job", name, "err", err)
	}
}

// ReleaseAll gives the leases up at shutdown.
func (h *Holder) ReleaseAll() {
	h.mu.Lock()
	names := slices.Collect(maps.Keys(h.until))
	h.mu.Unlock()
	for _, name := range names {
		h.Release(name)
	}
}
