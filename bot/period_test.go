package bot

import (
	"testing"
	"time"
)

// The period buttons in the company's zone: weeks from Monday, the current ones up to
// the end of today, across a month's and a year's end.
func TestPeriodsOfTheButtons(t *testing.T) {
	loc := time.FixedZone("Vladivostok", 10*3600) // no summer time there
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, loc) }
	// Sunday 20:30 UTC is already Monday 4 January 06:30 in Vladivostok.
	newYear := time.Date(2027, 1, 3, 20, 30, 0, 0, time.UTC)
	// Sunday 29 November, late evening there.
	sunday := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		code     string
		now      time.Time
		from, to time.Time
	}{
		{"tw", newYear, d(2027, 1, 4), d(2027, 1, 5)},
		{"lw", newYear, d(2026, 12, 28), d(2027, 1, 4)},
		{"tm", newYear, d(2027, 1, 1), d(2027, 1, 5)},
		{"lm", newYear, d(2026, 12, 1), d(2027, 1, 1)},
		{"tq", newYear, d(2027, 1, 1), d(2027, 1, 5)},
		{"tw", sunday, d(2026, 11, 23), d(2026, 11, 30)},
		{"lw", sunday, d(2026, 11, 16), d(2026, 11, 23)},
		{"tq", sunday, d(2026, 10, 1), d(2026, 11, 30)},
		{"lm", sunday, d(2026, 10, 1), d(2026, 11, 1)},
	} {
		from, to, ok := periodOf(c.code, c.now, loc)
		if !ok || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%s at %s: %s – %s, want %s – %s", c.code, c.now, from, to, c.from, c.to)
		}
	}
	if _, _, ok := periodOf("cu", sunday, loc); ok {
		t.Error("custom dates have no period of their own")
	}
}
