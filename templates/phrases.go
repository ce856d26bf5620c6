package templates

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Phrases are short texts per language, language -> key -> text, with {name} for a
// value: the bot's texts and the reports' labels.
type Phrases map[string]map[string]string

// FallbackLang is the language every set of phrases has: a phrase another language
// lacks is taken from it.
const FallbackLang = "ru"

// ReadPhrases reads dir/<lang>.txt files of fsys: one "key = text" a line, "\n" for a
// line break, # for a comment. dir/<FallbackLang>.txt must be among them.
func ReadPhrases(fsys fs.FS, dir string) (Phrases, error) {
	files, err := fs.Glob(fsys, dir+"/*.txt")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s/*.txt is missing: %v", dir, err)
	}
	out := Phrases{}
	for _, name := range files {
		m, err := readPhraseFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(path.Base(name), ".txt")] = m
	}
	if out[FallbackLang] == nil {
		return nil, fmt.Errorf("%s/%s.txt is missing", dir, FallbackLang)
	}
	return out, nil
}

// Lookup returns the phrase key of lang, else of FallbackLang, else the key itself,
// with {name} values put in as given; args are name, value pairs.
func (p Phrases) Lookup(lang, key string, args ...string) string {
	s, ok := p[lang][key]
	if !ok {
		if s, ok = p[FallbackLang][key]; !ok {
			s = key
		}
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func readPhraseFile(fsys fs.FS, name string) (map[string]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected key = text", name, n)
		}
		m[strings.TrimSpace(k)] = strings.ReplaceAll(strings.TrimSpace(v), `\n`, "\n")
	}
	return m, sc.Err()
}
