package store_test

import (
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// Each period code names whole days of the company's zone; the current ones run to
// the end of today, a late evening in UTC already being the next day in Moscow.
func TestNamedPeriod(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 12, 6, 22, 30, 0, 0, time.UTC) // Monday 7 December in Moscow
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, msk) }
	for code, want := range map[string][2]time.Time{
		"tw": {day(12, 7), day(12, 8)},
		"lw": {day(11, 30), day(12, 7)},
		"tm": {day(12, 1), day(12, 8)},
		"lm": {day(11, 1), day(12, 1)},
		"tq": {day(10, 1), day(12, 8)},
		"ty": {day(1, 1), day(12, 8)},
	} {
		from, to, ok := store.NamedPeriod(code, now, msk)
		if !ok || !from.Equal(want[0]) || !to.Equal(want[1]) {
			t.Errorf("%s: %s – %s (%v), want %s – %s", code, from, to, ok, want[0], want[1])
		}
	}
	if _, _, ok := store.NamedPeriod("cu", now, msk); ok {
		t.Error("cu names no period")
	}
}
