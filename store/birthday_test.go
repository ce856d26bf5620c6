package store_test

import (
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

func TestParseBirthdayReadsWhatPeopleAndSheetsWrite(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"25.12": "25.12", "25.12.1980": "25.12.1980", "5.3.1980": "05.03.1980", "25/12/1980": "25.12.1980",
		"25-12-1980": "25.12.1980", "1980-12-25": "25.12.1980", "1980-12-25T00:00:00": "25.12.1980",
		"25.12.1980 0:00": "25.12.1980", "29.02": "29.02", "25 12 1980": "25.12.1980", " 01.01.2000 ": "01.01.2000",
	} {
		b, err := store.ParseBirthday(in, now)
		if err != nil || b.String() != want {
			t.Errorf("%q: %v %v, want %s", in, b, err, want)
		}
	}
	for _, in := range []string{"", "25", "31.02", "29.02.2025", "25.13.1980", "25.12.1850", "25.12.2027", "1.2.3.4", "ab.cd", "25.12.80"} {
		if b, err := store.ParseBirthday(in, now); err == nil {
			t.Errorf("%q read as %v", in, b)
		}
	}
}
