package bot

import (
	"testing"
	"time"
)

func TestParseTimePhrases(t *testing.T) {
	p := NewTimeParser()
	moscow, _ := time.LoadLocation("Europe/Moscow")
	vladivostok, _ := time.LoadLocation("Asia/Vladivostok")
	// Sunday 22 November 2026, 21:40 in Moscow (18:40 UTC).
	now := time.Date(2026, 11, 22, 18, 40, 0, 0, time.UTC)
	for _, tc := range []struct {
		text string
		loc  *time.Location
		want string // in loc
		rest string
	}{
		{"завтра в 10 позвонить Ивану", moscow, "2026-11-23 10:00", "позвонить Ивану"},
		{"через 2 часа отправить КП", moscow, "2026-11-22 23:40", "отправить КП"},
		{"в пятницу напомнить о договоре", moscow, "2026-11-27 10:00", "напомнить о договоре"},
		{"tomorrow 9am call back", moscow, "2026-11-23 09:00", "call back"},
		{"in 30 min check the invoice", moscow, "2026-11-22 22:10", "check the invoice"},
		{"25.12 15:00 поздравить", moscow, "2026-12-25 15:00", "поздравить"},
		{"завтра в 3 встреча", moscow, "2026-11-23 15:00", "встреча"},
		{"завтра в 10 утра", moscow, "2026-11-23 10:00", ""},
		{"сегодня в 23:15 отчёт", moscow, "2026-11-22 23:15", "отчёт"},
		{"через 3 дня", moscow, "2026-11-25 10:00", ""},
		{"tomorrow at 3pm demo", moscow, "2026-11-23 15:00", "demo"},
		{"10.01 в 12:00", moscow, "2027-01-10 12:00", ""},
		{"25.12.2027", moscow, "2027-12-25 10:00", ""},
		// The same phrase in another zone means that zone's clock.
		{"завтра в 10", vladivostok, "2026-11-24 10:00", ""},
	} {
		got, rest, err := p.Parse(tc.text, now, tc.loc)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if s := got.In(tc.loc).Format("2006-01-02 15:04"); s != tc.want || rest != tc.rest {
			t.Errorf("%q in %s = %s, rest %q; want %s, %q", tc.text, tc.loc, s, rest, tc.want, tc.rest)
		}
	}
	if _, _, err := p.Parse("просто текст", now, moscow); err == nil {
		t.Error("a text without a time parsed")
	}
}
