package templates

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ReadPhrases reads dir/<lang>.txt files of fsys: one "key = text" a line, "\n" for a
// line break, # for a comment. It returns language -> key -> text.
func ReadPhrases(fsys fs.FS, dir string) (map[string]map[string]string, error) {
	files, err := fs.Glob(fsys, dir+"/*.txt")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s/*.txt is missing: %v", dir, err)
	}
	out := map[string]map[string]string{}
	for _, name := range files {
		m, err := readPhraseFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(path.Base(name), ".txt")] = m
	}
	return out, nil
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
