package main

import (
	"context"
	"strings"
	"testing"
)

// crm manager set gives a manager their head and e-mail address; a manager who is
// no head is refused with the reason, and "none" takes the head away.
func TestManagerSetHead(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir(), "CRM_LOG_LEVEL": "warn"}
	for _, args := range [][]string{
		{"--name", "Ольга", "--role", "head"},
		{"--name", "Борис"},
		{"--name", "Иван", "--head", "Ольга"},
	} {
		if r := runCRM(ctx, t, vars, append([]string{"manager", "add"}, args...)...); r.code != 0 {
			t.Fatalf("manager add %v: %+v", args, r)
		}
	}
	heads := func() map[string]string {
		r := runCRM(ctx, t, vars, "manager", "list")
		out := map[string]string{}
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) == 8 {
				out[f[1]] = f[6] + " " + f[7]
			}
		}
		return out
	}
	if got := heads()["Иван"]; got != "- Ольга" {
		t.Fatalf("Иван after add: %q", got)
	}
	if r := runCRM(ctx, t, vars, "manager", "set", "Борис", "--head", "Ольга", "--email", "Boris@Company.ru"); r.code != 0 ||
		!strings.Contains(r.stdout, "Борис's head: Ольга") {
		t.Fatalf("set: %+v", r)
	}
	if got := heads()["Борис"]; got != "boris@company.ru Ольга" {
		t.Fatalf("Борис after set: %q", got)
	}
	if r := runCRM(ctx, t, vars, "manager", "set", "Иван", "--head", "Борис"); r.code != 1 || !strings.Contains(r.stderr, "only a head of sales or an administrator") {
		t.Fatalf("a manager as head: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "manager", "set", "Иван", "--email", "not an address"); r.code != 1 || !strings.Contains(r.stderr, "not an e-mail address") {
		t.Fatalf("a bad address: %+v", r)
	}
	if r := runCRM(ctx, t, vars, "manager", "set", "Иван", "--head", "none"); r.code != 0 {
		t.Fatalf("set none: %+v", r)
	}
	if got := heads()["Иван"]; got != "- -" {
		t.Fatalf("Иван after none: %q", got)
	}
	if r := runCRM(ctx, t, vars, "manager", "set", "Иван"); r.code != 2 {
		t.Fatalf("set without a change: %+v", r)
	}
}
