package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseBirthday reads a birthday as people and spreadsheets write it: DD.MM,
// DD.MM.YYYY (also with /, - or a space between), or YYYY-MM-DD; a time after the date, as
// Excel may add, is ignored. A year before 1900 or a day after now is refused; 29.02
// without a year is a birthday.
func ParseBirthday(v string, now time.Time) (*Birthday, error) {
	s := strings.TrimSpace(v)
	if i := strings.IndexAny(s, " T"); i > 0 && strings.Contains(s[i:], ":") {
		s = s[:i] // the time of day a spreadsheet's date carries
	}
	bad := invalidf("%q is not a date (use DD.MM.YYYY, DD.MM or YYYY-MM-DD)", v)
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '/' || r == '-' || r == ' ' })
	if len(parts) < 2 || len(parts) > 3 {
		return nil, bad
	}
	num := func(p string, min, max int) (int, bool) {
		n, err := strconv.Atoi(p)
		return n, err == nil && len(p) >= min && len(p) <= max
	}
	var b Birthday
	var ok1, ok2, ok3 bool
	switch {
	case len(parts) == 3 && len(parts[0]) == 4: // 1980-12-25
		b.Year, ok1 = num(parts[0], 4, 4)
		b.Month, ok2 = num(parts[1], 1, 2)
		b.Day, ok3 = num(parts[2], 1, 2)
	default:
		b.Day, ok1 = num(parts[0], 1, 2)
		b.Month, ok2 = num(parts[1], 1, 2)
		ok3 = true
		if len(parts) == 3 {
			b.Year, ok3 = num(parts[2], 4, 4)
		}
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, bad
	}
	year := b.Year
	if year == 0 {
		year = 2000 // a leap year, so 29.02 is accepted
	}
	d := time.Date(year, time.Month(b.Month), b.Day, 0, 0, 0, 0, time.UTC)
	if b.Month < 1 || b.Month > 12 || b.Day < 1 || d.Day() != b.Day {
		return nil, invalidf("%q is not a date", v)
	}
	if b.Year != 0 && (b.Year < 1900 || d.After(now)) {
		return nil, invalidf("%q is not a plausible birthday (year %d)", v, b.Year)
	}
	return &b, nil
}

// String writes a birthday as ParseBirthday reads it: 25.12 or 25.12.1980.
func (b Birthday) String() string {
	if b.Year == 0 {
		return fmt.Sprintf("%02d.%02d", b.Day, b.Month)
	}
	return fmt.Sprintf("%02d.%02d.%04d", b.Day, b.Month, b.Year)
}
