package mail

import (
	"context"
	"sync"
	"time"
)

// window lets at most n messages reach the server in any one second, whenever that
// second starts. A token bucket cannot promise that: full after a quiet spell (the
// start, a resume) it lets its whole burst go and then refills during the same second.
// Instead a send may begin only while fewer than n sends are on their way or ended
// within the last second. The server receives a message between the start and the
// end of its send, so any second it looks at meets at most n of them: the last one
// to start within that second found all the others on their way or ended less than a
// second before. Slow sends, and the gaps between sends, only make it stricter.
type window struct {
	n   int
	per time.Duration

	mu       sync.Mutex
	inFlight int
	ends     []time.Time   // ends of the sends in the last per, oldest first
	freed    chan struct{} // closed when a send ends
}

func newWindow(n int, per time.Duration) *window {
	return &window{n: n, per: per, freed: make(chan struct{})}
}

// acquire waits until a send may begin; done must be called once it ended.
func (w *window) acquire(ctx context.Context) (done func(), err error) {
	for {
		w.mu.Lock()
		now := time.Now()
		for len(w.ends) > 0 && now.Sub(w.ends[0]) >= w.per {
			w.ends = w.ends[1:]
		}
		if w.inFlight+len(w.ends) < w.n {
			w.inFlight++
			w.mu.Unlock()
			return w.release, nil
		}
		freed := w.freed
		// The oldest end frees a slot once it is per old; with none ended yet, the
		// first send to end is waited for.
		wait := time.Duration(-1)
		if len(w.ends) > 0 {
			wait = w.per - now.Sub(w.ends[0])
		}
		w.mu.Unlock()
		if err := sleepUntil(ctx, freed, wait); err != nil {
			return nil, err
		}
	}
}

func (w *window) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
	w.ends = append(w.ends, time.Now())
	close(w.freed)
	w.freed = make(chan struct{})
}

// sleepUntil waits for freed, for wait (never, when negative) or for ctx.
func sleepUntil(ctx context.Context, freed <-chan struct{}, wait time.Duration) error {
	var expire <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-freed:
	case <-expire:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
