package store

import "time"

// NamedPeriod is the period a report's period code names, in whole days of loc,
// from the first day to the day after the last: "tw" this week (weeks start on
// Monday), "lw" last week, "tm" this month, "lm" last month, "tq" this quarter, "ty"
// this year. The current ones run to the end of today: the days to come hold nothing
// yet, and a report's title names the days its figures are about. The bot's /report
// buttons and the web workspace's period picker both read their codes here.
func NamedPeriod(code string, now time.Time, loc *time.Location) (from, to time.Time, ok bool) {
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tomorrow := today.AddDate(0, 0, 1)
	monday := today.AddDate(0, 0, -(int(today.Weekday())+6)%7)
	month := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	switch code {
	case "tw":
		return monday, tomorrow, true
	case "lw":
		return monday.AddDate(0, 0, -7), monday, true
	case "tm":
		return month, tomorrow, true
	case "lm":
		return month.AddDate(0, -1, 0), month, true
	case "tq":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc), tomorrow, true
	case "ty":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), tomorrow, true
	}
	return time.Time{}, time.Time{}, false
}
