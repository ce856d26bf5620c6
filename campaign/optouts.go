package campaign

import (
	"context"
	"sync"
	"time"

	"github.com/crm-team/crm/store"
)

const (
	// optOutsEvery is how often a worker reads again the opt-outs of a day that is
	// not over: an unsubscribe reaches a running campaign within this time and a
	// group of messages.
	optOutsEvery = 2 * time.Second
	// optOutSkew covers the clocks of instances: an opt-out recorded this much before
	// a batch was queued still counts.
	optOutSkew = time.Minute
)

// optOuts tells a campaign worker which recipients of a batch opted out (or bounced,
// or were removed) after the batch's snapshot was taken. The store keeps one document
// a day; a day over is read once, the current one at most every optOutsEvery.
type optOuts struct {
	st Store

	mu   sync.Mutex
	days map[string]*optOutDay // by UTC date
	sets map[time.Time]map[string]bool
}

type optOutDay struct {
	entries []store.OptOut
	readAt  time.Time
}

func newOptOuts(st Store) *optOuts {
	return &optOuts{st: st, days: map[string]*optOutDay{}, sets: map[time.Time]map[string]bool{}}
}

// since gives the contacts (store.OptOutKey) who opted out after queued.
func (o *optOuts) since(ctx context.Context, queued, now time.Time) (map[string]bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if queued.IsZero() || queued.After(now) {
		queued = now.Add(-24 * time.Hour)
	}
	from := queued.Add(-optOutSkew)
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
		id := day.Format(time.DateOnly)
		d := o.days[id]
		over := d != nil && d.readAt.After(day.Add(24*time.Hour+optOutSkew))
		if d != nil && (over || now.Sub(d.readAt) < optOutsEvery) {
			continue
		}
		entries, err := o.st.OptOutsOn(ctx, day)
		if err != nil {
			return nil, err
		}
		if d == nil || len(entries) != len(d.entries) {
			clear(o.sets) // entries are only ever added
		}
		o.days[id] = &optOutDay{entries: entries, readAt: now}
	}
	if set, ok := o.sets[from]; ok {
		return set, nil
	}
	set := map[string]bool{}
	for _, d := range o.days {
		for _, e := range d.entries {
			if e.At.After(from) {
				set[e.Key] = true
			}
		}
	}
	o.sets[from] = set
	return set, nil
}
