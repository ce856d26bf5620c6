package campaign

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template/parse"
)

// What a template error says in Go's words: the place, the field as written, and what
// went wrong with it.
var (
	execError  = regexp.MustCompile(`^template: ([^ ]+:\d+:\d+): executing "[^"]*" at <([^>]*)>: (.*)$`)
	noField    = regexp.MustCompile(`^can't evaluate field (\w+) in type (\S+)$`)
	noMapEntry = regexp.MustCompile(`^map has no entry for key "([^"]*)"$`)
)

// explain rewrites an error of executing a template in the words of the one who wrote
// it: "text:2:3: {{.Contact.Nmae}}: no field Nmae; fields: Name, FirstName, …", not
// Go's type names. Other errors are returned as they are.
func explain(err error) error {
	m := execError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	at, what := m[1]+": {{"+m[2]+"}}", m[3]
	if f := noField.FindStringSubmatch(what); f != nil {
		if names, ok := dataFields()[f[2]]; ok {
			return fmt.Errorf("%s: no field %s; fields: %s", at, f[1], strings.Join(names, ", "))
		}
		return fmt.Errorf("%s: no field %s: what comes before it has no fields", at, f[1])
	}
	if k := noMapEntry.FindStringSubmatch(what); k != nil && strings.HasPrefix(m[2], ".Client.Custom.") {
		return fmt.Errorf(`%s: this client has no custom field %q; {{index .Client.Custom %q}} is empty for a client without it`, at, k[1], k[1])
	}
	return errors.New(at + ": " + what)
}

// dataFields lists the fields of MailData and of each struct in it, by Go's name of
// the type, as template errors name it ("campaign.ContactData").
func dataFields() map[string][]string {
	out := map[string][]string{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t.Kind() != reflect.Struct || out[t.String()] != nil {
			return
		}
		names := []string{}
		for i := range t.NumField() {
			names = append(names, t.Field(i).Name)
			walk(t.Field(i).Type)
		}
		out[t.String()] = names
	}
	walk(reflect.TypeOf(MailData{}))
	return out
}

// fieldUse is a field a template prints: its path in MailData, and a map key for
// {{index .Client.Custom "car"}}.
type fieldUse struct {
	path []string
	key  string
}

func (f fieldUse) String() string {
	if f.key != "" {
		return fmt.Sprintf("{{index .%s %q}}", strings.Join(f.path, "."), f.key)
	}
	return "{{." + strings.Join(f.path, ".") + "}}"
}

// printedFields lists the fields the template prints, in order, each once: not those
// only tested ({{if .Client.City}}) nor printed only where such a test made sure they
// are not empty, and not the unsubscribe link, which every letter sent has.
func (t *Template) printedFields() []fieldUse {
	var out []fieldUse
	seen := map[string]bool{}
	add := func(f fieldUse) {
		if s := f.String(); !seen[s] && s != "{{.UnsubscribeURL}}" {
			seen[s] = true
			out = append(out, f)
		}
	}
	trees := []*parse.Tree{t.subject.Tree, t.text.Tree}
	if t.html != nil {
		trees = append(trees, t.html.Tree)
	}
	for _, tree := range trees {
		if tree != nil {
			walkPrinted(tree.Root, map[string]bool{}, add)
		}
	}
	return out
}

// walkPrinted calls add for each field printed under n; guarded are the fields an
// enclosing if or with tested.
func walkPrinted(n parse.Node, guarded map[string]bool, add func(fieldUse)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkPrinted(c, guarded, add)
			}
		}
	case *parse.ActionNode:
		for _, f := range pipeFields(n.Pipe) {
			if !guarded[f.String()] {
				add(f)
			}
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, guarded, add)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, guarded, add)
	case *parse.RangeNode:
		walkPrinted(n.List, guarded, add)
		walkPrinted(n.ElseList, guarded, add)
	}
}

func walkBranch(b *parse.BranchNode, guarded map[string]bool, add func(fieldUse)) {
	inner := map[string]bool{}
	for k := range guarded {
		inner[k] = true
	}
	for _, f := range pipeFields(b.Pipe) {
		inner[f.String()] = true
	}
	walkPrinted(b.List, inner, add)
	walkPrinted(b.ElseList, guarded, add)
}

// pipeFields are the fields a pipeline reads: {{.Contact.Name}}, and
// {{index .Client.Custom "car"}} with its key.
func pipeFields(p *parse.PipeNode) []fieldUse {
	if p == nil {
		return nil
	}
	var out []fieldUse
	for _, cmd := range p.Cmds {
		if len(cmd.Args) == 3 {
			fn, ok1 := cmd.Args[0].(*parse.IdentifierNode)
			field, ok2 := cmd.Args[1].(*parse.FieldNode)
			key, ok3 := cmd.Args[2].(*parse.StringNode)
			if ok1 && ok2 && ok3 && fn.Ident == "index" {
				out = append(out, fieldUse{path: field.Ident, key: key.Text})
				continue
			}
		}
		for _, a := range cmd.Args {
			if f, ok := a.(*parse.FieldNode); ok {
				out = append(out, fieldUse{path: f.Ident})
			}
		}
	}
	return out
}

// empty says the field has no text for this recipient (a field that is not text, or
// not there, counts as not empty: the template's own errors report it).
func (f fieldUse) empty(d MailData) bool {
	v := reflect.ValueOf(d)
	for _, name := range f.path {
		if v.Kind() != reflect.Struct {
			return false
		}
		if v = v.FieldByName(name); !v.IsValid() {
			return false
		}
	}
	if f.key != "" {
		if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
			return false
		}
		if v = v.MapIndex(reflect.ValueOf(f.key)); !v.IsValid() {
			return true
		}
	}
	return v.Kind() == reflect.String && strings.TrimSpace(v.String()) == ""
}

// TemplateFields are the fields a letter's template may print, as written in it
// ("{{.Contact.FirstName}}"; a custom field as {{index .Client.Custom "key"}}), read
// from MailData as template errors list them: the editor offers them.
func TemplateFields() []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for i := range t.NumField() {
			f := t.Field(i)
			switch p := path + "." + f.Name; f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, p)
			case reflect.Map:
				out = append(out, fmt.Sprintf("{{index %s %q}}", p, "key"))
			default:
				out = append(out, "{{"+p+"}}")
			}
		}
	}
	walk(reflect.TypeOf(MailData{}), "")
	return out
}
