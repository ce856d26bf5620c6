// Amounts of money: kept as int64 minor units (kopecks), never floats, and read and
// written the way a Russian sales team types them.

package store

import (
	"strconv"
	"strings"
)

// Currency is the one currency the CRM keeps money in: reports add amounts up, so
// they must all be of one currency.
const Currency = "RUB"

// knownCurrencies are codes a person or an accounting export may write for roubles.
var knownCurrencies = map[string]string{
	"RUB": Currency, "RUR": Currency, "₽": Currency, "РУБ": Currency, "РУБ.": Currency, "Р": Currency, "Р.": Currency,
}

// ParseCurrency reads a currency as typed; an empty one is the CRM's currency.
func ParseCurrency(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return Currency, nil
	}
	if c, ok := knownCurrencies[s]; ok {
		return c, nil
	}
	return "", invalidf("unknown currency %q: amounts are kept in %s", s, Currency)
}

// ParseAmount reads an amount of money as people and accounting exports write it:
// "12500", "12 500,50", "12\u00a0500.5", "1,250.00", "12500 ₽", "12 500 руб." It returns
// minor units. An empty, negative or malformed amount is refused with the reason.
func ParseAmount(s string) (int64, error) {
	raw := s
	s = strings.TrimSpace(s)
	for _, suffix := range []string{"₽", "руб.", "руб", "р.", "RUB", "rub"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, suffix))
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "").Replace(s)
	if s == "" {
		return 0, invalidf("no amount given")
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		return 0, invalidf("the amount %q is negative", strings.TrimSpace(raw))
	}
	// The last of "," and "." followed by one or two digits is the decimal mark; any
	// other is a thousands separator.
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ",."); i >= 0 && len(s)-i-1 <= 2 && len(s)-i-1 > 0 {
		whole, frac = s[:i], s[i+1:]
	}
	whole = strings.NewReplacer(",", "", ".", "").Replace(whole)
	if whole == "" {
		whole = "0"
	}
	if len(frac) == 1 {
		frac += "0"
	}
	if frac == "" {
		frac = "00"
	}
	w, err1 := strconv.ParseUint(whole, 10, 63)
	f, err2 := strconv.ParseUint(frac, 10, 8)
	if err1 != nil || err2 != nil || w > 1e15 {
		return 0, invalidf("%q is not an amount of money (write it as 12 500 or 12 500,50)", strings.TrimSpace(raw))
	}
	return int64(w)*100 + int64(f), nil
}

// FormatAmount writes minor units with grouped thousands and kopecks only when there
// are any: "12 500", "12 500,50" (a narrow no-break space groups the thousands).
func FormatAmount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	digits := strconv.FormatInt(minor/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	if k := minor % 100; k != 0 {
		b.WriteString("," + strconv.FormatInt(100+k, 10)[1:])
	}
	return b.String()
}
