package store_test

import (
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

func TestWorkingTimeSkipsNightsAndWeekends(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	w := store.DefaultWorkCalendar(msk)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, msk)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		from string
		add  time.Duration
		want string
	}{
		{"2026-11-23 10:00", 4 * time.Hour, "2026-11-23 14:00"},             // Monday morning
		{"2026-11-23 16:30", 4 * time.Hour, "2026-11-24 11:30"},             // evening carries over
		{"2026-11-23 07:00", 4 * time.Hour, "2026-11-23 13:00"},             // before the day starts
		{"2026-11-27 17:00", 4 * time.Hour, "2026-11-30 12:00"},             // Friday to Monday
		{"2026-11-28 12:00", 4 * time.Hour, "2026-11-30 13:00"},             // a letter on Saturday
		{"2026-11-23 20:00", 9 * time.Hour, "2026-11-24 18:00"},             // a whole day
		{"2026-11-23 10:00", 9*time.Hour + time.Minute, "2026-11-24 10:01"}, // just over
	} {
		if got := w.AddWorking(at(c.from), c.add); !got.Equal(at(c.want)) {
			t.Errorf("%s + %v = %s, want %s", c.from, c.add, got.In(msk).Format("Mon 2006-01-02 15:04"), c.want)
		}
	}

	sat, err := store.ParseWorkCalendar(msk, "10:00-14:00", "mon-wed,sat")
	if err != nil {
		t.Fatal(err)
	}
	if got := sat.AddWorking(at("2026-11-25 13:00"), 2*time.Hour); !got.Equal(at("2026-11-28 11:00")) {
		t.Errorf("Wednesday 13:00 + 2h on a Mon-Wed,Sat calendar = %s", got)
	}
	for _, bad := range [][2]string{{"18:00-09:00", "mon-fri"}, {"9-18", "mon-fri"}, {"09:00-18:00", "mon-funday"}, {"09:00-25:00", "mon"}} {
		if _, err := store.ParseWorkCalendar(msk, bad[0], bad[1]); err == nil {
			t.Errorf("%q %q accepted", bad[0], bad[1])
		}
	}
}
