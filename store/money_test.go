package store_test

import (
	"errors"
	"testing"

	"github.com/crm-team/crm/store"
)

func TestParseAmountAsPeopleWriteIt(t *testing.T) {
	for in, want := range map[string]int64{
		"12500": 1250000, "12 500": 1250000, "12 500,50": 1250050, "12\u00a0500.5": 1250050,
		"1,250.00": 125000, "1.250,00": 125000, "12500 ₽": 1250000, "12 500 руб.": 1250000,
		"0,99": 99, "7": 700, "1 000 000": 100000000,
	} {
		got, err := store.ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-5", "−5", "abc", "12,5,0.1x", "1e5"} {
		if _, err := store.ParseAmount(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseAmount(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for in, want := range map[int64]string{1250000: "12\u202f500", 1250050: "12\u202f500,50", 5: "0,05", 100000000: "1\u202f000\u202f000", -150: "-1,50"} {
		if got := store.FormatAmount(in); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	for _, ok := range []string{"", "rub", "RUR", "₽", "руб."} {
		if c, err := store.ParseCurrency(ok); err != nil || c != store.Currency {
			t.Errorf("ParseCurrency(%q) = %q, %v", ok, c, err)
		}
	}
	for _, bad := range []string{"USD", "XYZ", "рублики"} {
		if _, err := store.ParseCurrency(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseCurrency(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}
