package bot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every tap code declared in the package has a route, every route's code is declared,
// and callback data is made from those constants only: a button cannot carry a code
// no handler takes. (The tests' chats check every button the flows show as well.)
func TestEveryTapCodeHasARoute(t *testing.T) {
	declared := tapConstants(t)
	routes := tapRoutes()
	for code, name := range declared {
		r, ok := routes[code]
		if !ok {
			t.Errorf("%s (%q) is declared but tapRoutes has no route for it: its buttons would say they are stale", name, code)
			continue
		}
		if r.handle == nil {
			t.Errorf("%s (%q) routes to no handler", name, code)
		}
	}
	for code := range routes {
		if _, ok := declared[code]; !ok {
			t.Errorf("tapRoutes routes %q, which is no tap constant", code)
		}
	}
}

// tapConstants reads the package's sources for the tap constants (code -> name), and
// fails on any other way of making callback data: a conversion to tap outside the
// router, a tapData or a Button with data made by hand.
func tapConstants(t *testing.T) map[tap]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[tap]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			// The router reads a code from the wire, tap.data and btn make the data.
			maker := ""
			if fn, ok := decl.(*ast.FuncDecl); ok {
				maker = fn.Name.Name
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					if typ, ok := n.Type.(*ast.Ident); ok && typ.Name == "tap" {
						for i, v := range n.Values {
							lit, ok := v.(*ast.BasicLit)
							code, err := strconv.Unquote(valueOf(lit, ok))
							if err != nil || code == "" || strings.Contains(code, ":") {
								t.Errorf("%s: %s is not a plain code without ':'", fset.Position(v.Pos()), n.Names[i].Name)
								continue
							}
							if other, dup := declared[tap(code)]; dup {
								t.Errorf("%s: %s has the code %q of %s", fset.Position(v.Pos()), n.Names[i].Name, code, other)
							}
							declared[tap(code)] = n.Names[i].Name
						}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "tap" && maker != "onTap" {
						t.Errorf("%s: a code made by conversion, not a tap constant", fset.Position(n.Pos()))
					}
				case *ast.CompositeLit:
					if id, ok := n.Type.(*ast.Ident); ok && (id.Name == "tapData" && maker != "data" || id.Name == "Button" && maker != "btn" && carriesData(n)) {
						t.Errorf("%s: callback data made by hand, not by tap.data", fset.Position(n.Pos()))
					}
				}
				return true
			})
		}
	}
	if len(declared) == 0 {
		t.Fatal("no tap constants found")
	}
	return declared
}

func valueOf(lit *ast.BasicLit, ok bool) string {
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	return lit.Value
}

// carriesData: a Button literal that sets its callback data (one with a URL does not).
func carriesData(lit *ast.CompositeLit) bool {
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Data" {
			return true
		}
	}
	return false
}
