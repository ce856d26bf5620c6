package bot

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olebedev/when/rules"
	"github.com/olebedev/when/rules/common"
	"github.com/olebedev/when/rules/en"
	"github.com/olebedev/when/rules/ru"
)

// ErrNoTime means a text has no date or time the parser understands.
var ErrNoTime = errors.New("no date or time found")

// TimeParser reads "when" in plain Russian or English ("завтра в 10", "через 2 часа",
// "в пятницу", "tomorrow 9am", "in 30 min", "25.12 15:00") in a manager's time zone,
// with olebedev/when's rules plus one for a day and month without a year.
type TimeParser struct {
	rules []rules.Rule
	opts  *rules.Options
}

// NewTimeParser builds the parser once; it is safe for concurrent use.
func NewTimeParser() *TimeParser {
	// ru.DotDateTime is left out: dayMonth reads the same dates, also without a year,
	// and does not set midnight when no time is given.
	o := rules.Override
	rs := []rules.Rule{dayMonth(), atHour(),
		ru.Weekday(o), ru.CasualDate(o), ru.CasualTime(o), ru.Hour(o), ru.HourMinute(o), ru.Deadline(o), ru.Date(o)}
	rs = append(rs, en.All...)
	rs = append(rs, common.All...)
	return &TimeParser{rules: rs, opts: &rules.Options{Distance: 5, MatchByOrder: true}}
}

// defaultHour is used when a phrase names a day but no time ("в пятницу").
const defaultHour = 10

// Parse finds the time in text, as seen at now in loc. It returns the time (in loc)
// and the text with the phrase cut out, which is the reminder's own text.
//
// It does what when.Parser.Parse does, but keeps the whole cluster of matches: the
// library ends the cluster at the last match's end even when an earlier, longer match
// reaches further, which would leave "в 10" of "завтра в 10" in the reminder's text.
func (p *TimeParser) Parse(text string, now time.Time, loc *time.Location) (time.Time, string, error) {
	base := now.In(loc)
	var matches []*rules.Match
	for i, r := range p.rules {
		if m := r.Find(text); m != nil {
			m.Order = float64(i)
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return time.Time{}, text, ErrNoTime
	}
	matches = dropNested(matches)
	sort.Sort(rules.MatchByIndex(matches))
	left, right := matches[0].Left, matches[0].Right
	cluster := matches[:1]
	for _, m := range matches[1:] {
		if m.Left > right+p.opts.Distance {
			break
		}
		right = max(right, m.Right)
		cluster = append(cluster, m)
	}
	sort.Sort(rules.MatchByOrder(cluster))
	ctx := &rules.Context{Text: text[left:right]}
	applied := false
	for _, m := range cluster {
		ok, err := m.Apply(ctx, p.opts, base)
		if err != nil {
			return time.Time{}, text, fmt.Errorf("read the time in %q: %w", text[left:right], err)
		}
		applied = applied || ok
	}
	if !applied {
		return time.Time{}, text, ErrNoTime
	}
	t, err := ctx.Time(base)
	if err != nil {
		return time.Time{}, text, fmt.Errorf("read the time in %q: %w", text[left:right], err)
	}
	t = t.In(loc)
	// A day without a time of day ("в пятницу", "завтра", "через 2 дня"): the library
	// keeps the current clock time, which is not what a manager means; use the start of
	// the working day.
	if ctx.Hour == nil && ctx.Minute == nil && ctx.Duration%(24*time.Hour) == 0 {
		t = time.Date(t.Year(), t.Month(), t.Day(), defaultHour, 0, 0, 0, loc)
	}
	rest := strings.Join(strings.Fields(text[:left]+" "+text[right:]), " ")
	return t.Truncate(time.Minute), rest, nil
}

// dropNested removes matches that lie inside a longer one: in "через 3 дня" the
// deadline rule reads "in 3 days", and the hour rule's "3 дня" (3 p.m.) inside it is
// a misreading.
func dropNested(ms []*rules.Match) []*rules.Match {
	var out []*rules.Match
	for i, m := range ms {
		nested := false
		for j, o := range ms {
			if i != j && o.Left <= m.Left && m.Right <= o.Right && o.Right-o.Left > m.Right-m.Left {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, m)
		}
	}
	return out
}

// dayMonth reads "25.12", "25.12 15:00", "25.12.26" and "25.12.2026 15:00". Without a
// year it means the next such day: in November, "25.12" is this December and "10.01"
// is next January.
func dayMonth() rules.Rule {
	return &rules.F{
		RegExp: regexp.MustCompile(`(?:^|\b)(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?(?:\s+(?:в\s+|at\s+)?(\d{1,2})[:.](\d{2}))?(?:\b|$)`),
		Applier: func(m *rules.Match, c *rules.Context, o *rules.Options, ref time.Time) (bool, error) {
			day, _ := strconv.Atoi(m.Captures[0])
			month, _ := strconv.Atoi(m.Captures[1])
			if day < 1 || day > 31 || month < 1 || month > 12 {
				return false, nil
			}
			year := ref.Year()
			switch y := m.Captures[2]; len(y) {
			case 2:
				year, _ = strconv.Atoi(y)
				year += 2000
			case 4:
				year, _ = strconv.Atoi(y)
			default:
				if time.Date(year, time.Month(month), day, 23, 59, 0, 0, ref.Location()).Before(ref) {
					year++
				}
			}
			c.Day, c.Month, c.Year = &day, &month, &year
			if m.Captures[3] != "" {
				hour, _ := strconv.Atoi(m.Captures[3])
				minute, _ := strconv.Atoi(m.Captures[4])
				if hour > 23 || minute > 59 {
					return false, nil
				}
				c.Hour, c.Minute = &hour, &minute
			}
			return true, nil
		},
	}
}

// atHour reads "в 10", "в 15 часов", "at 9": a bare hour. Hours 1 to 7 mean the
// afternoon ("завтра в 3" is 15:00 in a sales team's working day); "в 10 утра" and
// "at 3am" are read by the library's own rules, which name the part of the day.
func atHour() rules.Rule {
	return &rules.F{
		RegExp: regexp.MustCompile(`(?i)(?:^|\s)(?:в|at)\s+(\d{1,2})(?:\s*(?:часов|часа|час|ч\.?))?(?:\s|$)`),
		Applier: func(m *rules.Match, c *rules.Context, o *rules.Options, ref time.Time) (bool, error) {
			hour, _ := strconv.Atoi(m.Captures[0])
			if hour > 23 {
				return false, nil
			}
			if hour >= 1 && hour <= 7 {
				hour += 12
			}
			minute := 0
			c.Hour, c.Minute = &hour, &minute
			return true, nil
		},
	}
}
