package bot

import (
	"sync"
	"time"
)

// session is what the bot remembers about one manager between updates: the open card
// and the dialog in progress. It lives in memory; a restart only forgets a half-typed
// dialog, never anything saved.
type session struct {
	mu       sync.Mutex // one update of a manager at a time
	lastUsed time.Time
	cardID   string // the client whose card was shown last: files sent now go there
	cardAt   time.Time
	dialog   *dialog
}

// sessions keeps them per manager and forgets idle ones.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	idle  time.Duration
	swept time.Time
}

func newSessions(idle time.Duration) *sessions {
	return &sessions{m: map[string]*session{}, idle: idle}
}

// get returns the manager's session, locked; call unlock when done.
func (ss *sessions) get(managerID string, now time.Time) (*session, func()) {
	ss.mu.Lock()
	if now.Sub(ss.swept) > ss.idle {
		ss.sweep(now)
	}
	s := ss.m[managerID]
	if s == nil {
		s = &session{}
		ss.m[managerID] = s
	}
	ss.mu.Unlock()
	s.mu.Lock()
	if now.Sub(s.lastUsed) > ss.idle {
		s.dialog, s.cardID = nil, ""
	}
	s.lastUsed = now
	return s, s.mu.Unlock
}

func (ss *sessions) sweep(now time.Time) {
	ss.swept = now
	for id, s := range ss.m {
		if s.mu.TryLock() {
			if now.Sub(s.lastUsed) > ss.idle {
				delete(ss.m, id)
			}
			s.mu.Unlock()
		}
	}
}

// count reports how many sessions are held (benchmarks).
func (ss *sessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

// refusals limits the polite refusal to strangers to one per user per window, so that
// a flood of /start from one account costs one message.
type refusals struct {
	mu     sync.Mutex
	last   map[int64]time.Time
	window time.Duration
}

func newRefusals(window time.Duration) *refusals {
	return &refusals{last: map[int64]time.Time{}, window: window}
}

func (r *refusals) allow(user int64, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.last[user]; ok && now.Sub(t) < r.window {
		return false
	}
	if len(r.last) > 10000 {
		for id, t := range r.last {
			if now.Sub(t) >= r.window {
				delete(r.last, id)
			}
		}
	}
	r.last[user] = now
	return true
}
