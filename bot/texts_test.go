package bot

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/crm-team/crm/templates"
)

// Every language has every phrase, with the same {values}: a missing one would show
// its key to a manager.
func TestTextsMatchAcrossLanguages(t *testing.T) {
	tx, err := loadTexts(templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tx.langs(), []string{"en", "ru"}) {
		t.Fatalf("languages: %v", tx.langs())
	}
	values := regexp.MustCompile(`\{[a-z]+\}`)
	for key, ru := range tx["ru"] {
		en, ok := tx["en"][key]
		if !ok {
			t.Errorf("en.txt lacks %q", key)
			continue
		}
		a, b := values.FindAllString(ru, -1), values.FindAllString(en, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%q: ru has %v, en has %v", key, a, b)
		}
	}
	for key := range tx["en"] {
		if _, ok := tx["ru"][key]; !ok {
			t.Errorf("ru.txt lacks %q", key)
		}
	}
	if got := tx.get("en", "find.none", "q", "<b>&"); !strings.Contains(got, "&lt;b&gt;&amp;") {
		t.Fatalf("a value was not escaped: %s", got)
	}
	if got := tx.pickLang("uk-UA"); got != "ru" {
		t.Fatalf("Ukrainian picks %s", got)
	}
	if got := tx.pickLang("de"); got != "en" {
		t.Fatalf("German picks %s", got)
	}
}

func TestLongTextsAreCutAtALine(t *testing.T) {
	line := "<b>Контакт</b> 📞 +7 916 123-45-67\n"
	long := strings.Repeat(line, 400)
	got := fit(long)
	if n := len(utf16.Encode([]rune(got))); n > maxText || !strings.HasSuffix(got, "\n…") {
		t.Fatalf("cut to %d units, ends %q", n, got[len(got)-10:])
	}
	if strings.Count(got, "<b>") != strings.Count(got, "</b>") {
		t.Fatal("the cut broke a tag")
	}
	if fit("short") != "short" {
		t.Fatal("a short text changed")
	}
}
