package bot

import (
	"fmt"
	"html"
	"io/fs"
	"sort"
	"strings"

	"github.com/crm-team/crm/templates"
)

// texts holds the bot's phrases per language, read from templates/bot/<lang>.txt, with
// {name} for a value. Values are HTML-escaped when put in, so a client called "<b>"
// stays text.
type texts templates.Phrases

// fallbackLang is the language of a manager whose language the bot does not speak.
const fallbackLang = templates.FallbackLang

func loadTexts(fsys fs.FS) (texts, error) {
	out, err := templates.ReadPhrases(fsys, "bot")
	if err != nil {
		return nil, fmt.Errorf("the bot's texts: %w", err)
	}
	return texts(out), nil
}

// langs lists the languages, sorted.
func (t texts) langs() []string {
	var out []string
	for l := range t {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// safe marks a value that is already HTML.
type safe string

// get returns the phrase (templates.Phrases.Lookup) with {name} values, HTML-escaped
// unless safe, put in; args are name, value pairs.
func (t texts) get(lang, key string, args ...any) string {
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		var v string
		switch x := args[i+1].(type) {
		case safe:
			v = string(x)
		case string:
			v = html.EscapeString(x)
		default:
			v = html.EscapeString(fmt.Sprint(x))
		}
		pairs = append(pairs, fmt.Sprint(args[i]), v)
	}
	return templates.Phrases(t).Lookup(lang, key, pairs...)
}

// pickLang maps a Telegram language code to one the bot speaks.
func (t texts) pickLang(code string) string {
	code = strings.ToLower(code)
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	switch code {
	case "uk", "be", "kk", "uz", "ky", "tg", "hy", "az":
		// Russian is the shared second language there, more likely than English.
		return "ru"
	}
	if _, ok := t[code]; ok {
		return code
	}
	if code == "" {
		return fallbackLang
	}
	return "en"
}
