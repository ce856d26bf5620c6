package store

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Natural keys are stored as _id values in the keys collection, so each kind has one
// canonical text form. The prefixes keep kinds apart.
const (
	keyEmail    = "email:"
	keyPhone    = "phone:"
	keyINN      = "inn:"
	keyTelegram = "tg:"
	// keyCampaignName keys a campaign's name (store/campaigns.go).
	keyCampaignName = "campaign-name:"
)

// ErrInvalid marks input the user has to correct; its message says what is wrong.
var ErrInvalid = errors.New("invalid input")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// NormalizeEmail lower-cases an address and checks its shape.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", invalidf("%q is not an e-mail address (expected something like name@company.ru)", s)
	}
	addr := strings.ToLower(a.Address)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || !strings.Contains(addr[at:], ".") || strings.HasSuffix(addr, ".") {
		return "", invalidf("%q is not an e-mail address (expected something like name@company.ru)", s)
	}
	return addr, nil
}

// Phones normalises phone numbers to E.164, reading numbers without a country code
// in the default region (RU unless configured).
type Phones struct{ Region string }

// Normalize returns the E.164 form of s ("8 (916) 123-45-67" -> "+79161234567").
func (p Phones) Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	region := p.Region
	if region == "" {
		region = "RU"
	}
	digits := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	if digits < 5 {
		return "", invalidf("%q is not a phone number", s)
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", invalidf("%q is not a phone number (expected e.g. +7 916 123-45-67)", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NormalizeINN checks a Russian taxpayer number: 10 digits for an organisation, 12 for
// a person or sole trader, with the control digits of the tax service's algorithm.
func NormalizeINN(s string) (string, error) {
	var d []int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, int(r-'0'))
		case r == ' ' || r == '-':
		default:
			return "", invalidf("INN %q must contain only digits", s)
		}
	}
	check := func(weights []int, n int) int {
		sum := 0
		for i, w := range weights {
			sum += w * d[i]
		}
		return sum % 11 % 10
	}
	switch len(d) {
	case 10:
		if check([]int{2, 4, 10, 3, 5, 9, 4, 6, 8}, 9) != d[9] {
			return "", invalidf("INN %q has a wrong control digit; check it against the company's documents", s)
		}
	case 12:
		if check([]int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}, 10) != d[10] ||
			check([]int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}, 11) != d[11] {
			return "", invalidf("INN %q has a wrong control digit; check it against the person's documents", s)
		}
	default:
		return "", invalidf("INN %q must have 10 digits (organisation) or 12 (person)", s)
	}
	var b strings.Builder
	for _, x := range d {
		b.WriteByte(byte('0' + x))
	}
	return b.String(), nil
}

// legalForms are dropped from names for search, so "ООО «Ромашка»" ranks as a prefix
// match for "ромашка".
var legalForms = map[string]bool{
	"ооо": true, "оао": true, "зао": true, "пао": true, "ао": true, "нао": true, "ип": true,
	"ук": true, "тоо": true, "чп": true, "нко": true, "ано": true, "фгуп": true, "муп": true, "гуп": true,
	"llc": true, "ltd": true, "inc": true, "gmbh": true, "corp": true, "co": true,
}

// NormalizeName folds a name for search: lower case, ё -> е, punctuation and quotes
// to spaces, legal forms dropped, single spaces.
func NormalizeName(s string) string {
	words := nameWords(s)
	kept := words[:0]
	for _, w := range words {
		if !legalForms[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		kept = words
	}
	return strings.Join(kept, " ")
}

func nameWords(s string) []string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == 'ё':
			b.WriteRune('е')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// normalizeQuery folds a search query the same way as names, keeping legal forms
// (someone may search for "ИП Иванов").
func normalizeQuery(s string) string { return strings.Join(nameWords(s), " ") }
