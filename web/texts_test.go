package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// Both languages have every text, and every text a page or handler names exists.
func TestTextsInBothLanguages(t *testing.T) {
	p, err := templates.ReadPhrases(templates.FS, "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{"ru", "en"}, {"en", "ru"}} {
		for k := range p[pair[0]] {
			if _, ok := p[pair[1]][k]; !ok {
				t.Errorf("%s has %q, %s does not", pair[0], k, pair[1])
			}
		}
	}
	used := map[string]bool{}
	pageKey := regexp.MustCompile(`T "([a-z_]+(?:\.[a-z_]+)+)"`)
	codeKey := regexp.MustCompile(`"((?:refused|error|link|signin|clients|card|form|consent|letter|file|edit|contact|reports|team|dashboard|board|export|mail)\.[a-z_.]+[a-z])"`)
	scan := func(re *regexp.Regexp, text string) {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			used[m[1]] = true
		}
	}
	pages, _ := fs.Glob(uiFS, "ui/*.html")
	for _, name := range pages {
		b, _ := uiFS.ReadFile(name)
		scan(pageKey, string(b))
	}
	code, _ := filepath.Glob("*.go")
	for _, name := range code {
		if !strings.HasSuffix(name, "_test.go") {
			b, _ := os.ReadFile(name)
			scan(codeKey, string(b))
		}
	}
	for _, k := range initDataWhy {
		used[k] = true
	}
	for _, st := range store.Stages {
		used["stage."+string(st)] = true
	}
	// reports, dashboard, team: keys made of a name
	for _, name := range reports.Names() {
		used["reports.name."+name] = true
	}
	for _, code := range reportPeriods {
		used["reports.period."+code] = true
	}
	for _, role := range []store.Role{store.RoleManager, store.RoleHead, store.RoleAdmin} {
		used["role."+string(role)] = true
	}
	if len(used) < 30 {
		t.Fatalf("found only %d text keys in the pages", len(used))
	}
	for k := range used {
		if _, ok := p["en"][k]; !ok {
			t.Errorf("%q is used but not in web/en.txt", k)
		}
	}
}
