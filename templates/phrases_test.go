package templates_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crm-team/crm/templates"
)

// A phrase a language lacks comes from the fallback language, an unknown key is shown
// as itself, and {name} values are put in as given.
func TestPhrasesLookUp(t *testing.T) {
	fsys := fstest.MapFS{
		"x/ru.txt": {Data: []byte("# a comment\nhello = Привет, {name}!\nonly.ru = Только\\nпо-русски\n")},
		"x/en.txt": {Data: []byte("hello = Hello, {name}!\n")},
	}
	p, err := templates.ReadPhrases(fsys, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang, key string
		args      []string
		want      string
	}{
		{"en", "hello", []string{"name", "<Anna>"}, "Hello, <Anna>!"},
		{"ru", "hello", []string{"name", "Анна"}, "Привет, Анна!"},
		{"en", "only.ru", nil, "Только\nпо-русски"},
		{"de", "hello", []string{"name", "Anna"}, "Привет, Anna!"},
		{"en", "no.such", nil, "no.such"},
	} {
		if got := p.Lookup(c.lang, c.key, c.args...); got != c.want {
			t.Errorf("Lookup(%s, %s) = %q, want %q", c.lang, c.key, got, c.want)
		}
	}
	_, err = templates.ReadPhrases(fstest.MapFS{"y/en.txt": {Data: []byte("a = b\n")}}, "y")
	if err == nil || !strings.Contains(err.Error(), "y/ru.txt is missing") {
		t.Fatalf("without the fallback language: %v", err)
	}
}
