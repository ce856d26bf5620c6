package store

import (
	"fmt"
	"strings"
	"time"
)

// WorkCalendar is when the company works: reply-time limits count working time only.
type WorkCalendar struct {
	Loc        *time.Location
	Start, End time.Duration // since midnight
	Days       [7]bool       // by time.Weekday
}

// DefaultWorkCalendar is Monday to Friday, 09:00 to 18:00.
func DefaultWorkCalendar(loc *time.Location) WorkCalendar {
	w, _ := ParseWorkCalendar(loc, "09:00-18:00", "mon-fri")
	return w
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWorkCalendar reads hours as "09:00-18:00" and days as "mon-fri" or "mon,tue,sat".
func ParseWorkCalendar(loc *time.Location, hours, days string) (WorkCalendar, error) {
	w := WorkCalendar{Loc: loc}
	from, to, ok := strings.Cut(strings.TrimSpace(hours), "-")
	var err error
	if w.Start, err = clockTime(from); ok && err == nil {
		w.End, err = clockTime(to)
	}
	if !ok || err != nil || w.End <= w.Start {
		return w, invalidf("working hours %q: expected something like 09:00-18:00", hours)
	}
	day := func(s string) (int, error) {
		for i, d := range weekdays {
			if strings.EqualFold(strings.TrimSpace(s), d) {
				return i, nil
			}
		}
		return 0, invalidf("working days %q: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", days, s)
	}
	for _, part := range strings.Split(days, ",") {
		a, b, span := strings.Cut(part, "-")
		first, err := day(a)
		if err != nil {
			return w, err
		}
		last := first
		if span {
			if last, err = day(b); err != nil {
				return w, err
			}
		}
		for d := first; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == last {
				break
			}
		}
	}
	return w, nil
}

func clockTime(s string) (time.Duration, error) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 {
		return 0, invalidf("%q is not a time of day", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// AddWorking returns the moment when d of working time has passed after t.
func (w WorkCalendar) AddWorking(t time.Time, d time.Duration) time.Time {
	working := false
	for _, ok := range w.Days {
		working = working || ok
	}
	if !working || w.End <= w.Start {
		return t.Add(d)
	}
	t = t.In(w.Loc)
	for {
		y, mo, day := t.Date()
		midnight := time.Date(y, mo, day, 0, 0, 0, 0, w.Loc)
		start, end := midnight.Add(w.Start), midnight.Add(w.End)
		if w.Days[t.Weekday()] && t.Before(end) {
			if t.Before(start) {
				t = start
			}
			left := end.Sub(t)
			if d <= left {
				return t.Add(d)
			}
			d -= left
		}
		t = time.Date(y, mo, day+1, 0, 0, 0, 0, w.Loc)
	}
}
