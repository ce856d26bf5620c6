package store_test

import (
	"errors"
	"testing"

	"github.com/crm-team/crm/store"
)

func TestPhoneFormats(t *testing.T) {
	p := store.Phones{Region: "RU"}
	for _, in := range []string{"8 (916) 123-45-67", "+7 916 1234567", "89161234567", "+7(916)123-45-67", "7 916 123 45 67", " 916 123-45-67 "} {
		got, err := p.Normalize(in)
		if err != nil || got != "+79161234567" {
			t.Errorf("Normalize(%q) = %q, %v; want +79161234567", in, got, err)
		}
	}
	if got, err := p.Normalize("+49 30 901820"); err != nil || got != "+4930901820" {
		t.Errorf("German number: %q, %v", got, err)
	}
	for _, bad := range []string{"", "12", "abc", "8 (916) 123"} {
		if _, err := p.Normalize(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Normalize(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestEmailAndINN(t *testing.T) {
	if got, err := store.NormalizeEmail(" Anna.Petrova@Romashka.RU "); err != nil || got != "anna.petrova@romashka.ru" {
		t.Errorf("email: %q %v", got, err)
	}
	for _, bad := range []string{"anna", "anna@", "@romashka.ru", "anna@romashka", "a b@c.ru"} {
		if _, err := store.NormalizeEmail(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NormalizeEmail(%q) err = %v", bad, err)
		}
	}
	for in, want := range map[string]string{"7707083893": "7707083893", "7707 083 893": "7707083893", "500100732259": "500100732259"} {
		if got, err := store.NormalizeINN(in); err != nil || got != want {
			t.Errorf("NormalizeINN(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"7707083894", "123", "77070838931", "500100732258", "77O7083893"} {
		if _, err := store.NormalizeINN(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NormalizeINN(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		`ООО «Ромашка»`:        "ромашка",
		`Ёлкин Пётр`:           "елкин петр",
		`ИП  Иванов И.И.`:      "иванов и и",
		`"Рога и Копыта", LLC`: "рога и копыта",
		`ООО`:                  "ооо",
		`Acme-Trade GmbH`:      "acme trade",
	} {
		if got := store.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}
