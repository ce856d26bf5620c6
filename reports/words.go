package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// Words are the reports' labels in one language (templates/reports/<lang>.txt); a
// label the language lacks is taken from templates.FallbackLang.
type Words struct {
	Lang    string
	phrases templates.Phrases
}

// LoadWords reads the labels of lang; a language without labels gets English.
func LoadWords(lang string) (Words, error) {
	all, err := templates.ReadPhrases(templates.FS, "reports")
	if err != nil {
		return Words{}, fmt.Errorf("the reports' labels: %w", err)
	}
	if all[lang] == nil {
		lang = "en"
	}
	return Words{Lang: lang, phrases: all}, nil
}

// get returns a label with {name} values put in; args are name, value pairs.
func (w Words) get(key string, args ...string) string { return w.phrases.Lookup(w.Lang, key, args...) }

// NoData says a period has nothing to show.
func (w Words) NoData() string { return w.get("nodata") }

func (w Words) stage(st store.Stage) string { return w.get("stage." + string(st)) }

// Period names p by its first and last days, in p.From's time zone.
func (w Words) Period(p Period) string {
	loc := p.From.Location()
	layout := w.get("date")
	return w.get("period", "from", p.From.Format(layout), "to", p.To.Add(-time.Nanosecond).In(loc).Format(layout))
}

// money writes minor units as whole roubles with grouped thousands: 1 250 000 ₽.
func (w Words) money(minor int64) string {
	return groupThousands(int64(math.Round(float64(minor)/100))) + " " + w.get("unit.rub")
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u00a0')
		}
		b.WriteRune(r)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

func pct(share float64) string { return strconv.FormatFloat(100*share, 'f', 0, 64) + "%" }

// change writes how now compares with before: +15%, −20%, 0%, or "new" after zero.
func (w Words) change(now, before int64) string {
	switch {
	case before == 0 && now == 0:
		return "0%"
	case before == 0:
		return w.get("managers.new")
	}
	d := math.Round(100 * float64(now-before) / float64(before))
	switch {
	case d > 0:
		return "+" + strconv.FormatFloat(d, 'f', 0, 64) + "%"
	case d < 0:
		return "−" + strconv.FormatFloat(-d, 'f', 0, 64) + "%"
	}
	return "0%"
}

func money(minor int64) Money { return Money(float64(minor) / 100) }
