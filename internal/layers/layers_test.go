package layers_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/crm-team/crm"

// allowed names, for each package of the project, the project's packages it may
// import (a name ending in "/..." covers the packages under it). cmd/crm wires
// everything; bot, mail, scheduler and the reports never import one another, and
// scheduler reaches campaign delivery only through campaign.
var allowed = map[string][]string{
	"store":               nil,
	"store/embedded":      nil,
	"store/csvio":         {"store"},
	"store/storetest":     {"store", "store/embedded"},
	"templates":           nil,
	"notice":              {"store"},
	"reports":             {"store", "templates"},
	"reports/chart":       {"reports"},
	"reports/sheet":       {"reports"},
	"invoice":             {"store"},
	"mail":                {"store"},
	"mail/imaptest":       {"internal/selfexec", "internal/selfsigned"},
	"mail/smtptest":       {"internal/selfexec", "internal/selfsigned"},
	"campaign":            {"store", "store/csvio", "internal/lease"},
	"scheduler":           {"store", "notice", "campaign", "reports", "internal/lease"},
	"bot":                 {"store", "notice", "templates"},
	"bot/telegram":        {"bot", "store"},
	"bot/telegram/tgtest": nil,
	"bot/terminal":        {"bot", "store"},
	"web":                 {"store", "store/csvio", "templates", "reports", "reports/chart", "reports/sheet", "campaign"},
	"internal/lease":      nil,
	"internal/procmem":    nil,
	"internal/selfexec":   nil,
	"internal/selfsigned": nil,
	"internal/layers":     nil,
	"cmd/crm":             {"..."},
	"bench":               {"..."},
	"deploy":              nil,
}

func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := parse(string(out))
	if len(graph) < 10 {
		t.Fatalf("go list gave %d packages: %q", len(graph), out)
	}
	for pkg, imports := range graph {
		rules, known := allowed[pkg]
		if !known {
			t.Errorf("%s is not in the layer table: add it here and to the README's architecture map", pkg)
			continue
		}
		for _, imp := range imports {
			if !permits(rules, imp) {
				t.Errorf("%s imports %s, which its layer does not allow", pkg, imp)
			}
		}
	}
}

// The table is checked against a graph that breaks it, so the test can fail.
func TestALayerBreakIsFound(t *testing.T) {
	for _, c := range []struct{ pkg, imp string }{{"bot", "mail"}, {"mail", "bot"}, {"scheduler", "bot"}, {"campaign", "scheduler"}, {"store", "templates"},
		{"bot", "invoice"}, {"invoice", "bot"}, {"web", "bot"}, {"bot", "web"}} {
		if permits(allowed[c.pkg], c.imp) {
			t.Errorf("%s may import %s", c.pkg, c.imp)
		}
	}
	if !permits(allowed["scheduler"], "internal/lease") || !permits(allowed["cmd/crm"], "bot/telegram") {
		t.Error("the wildcards permit nothing")
	}
}

// parse reads go list's lines into the project's packages and their project imports,
// both relative to the module.
func parse(out string) map[string][]string {
	graph := map[string][]string{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var imports []string
		for _, imp := range f[1:] {
			if rel, ok := relative(imp); ok {
				imports = append(imports, rel)
			}
		}
		if pkg, ok := relative(f[0]); ok {
			graph[pkg] = imports
		}
	}
	return graph
}

func relative(p string) (string, bool) {
	if p == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(p, module+"/")
	return rel, ok
}

func permits(rules []string, imp string) bool {
	return slices.ContainsFunc(rules, func(r string) bool {
		if r == "..." {
			return true
		}
		if dir, ok := strings.CutSuffix(r, "/..."); ok {
			return imp == dir || strings.HasPrefix(imp, dir+"/")
		}
		return r == imp
	})
}
