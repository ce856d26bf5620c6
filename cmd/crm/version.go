package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// buildInfo is what the binary says of itself: the module's version (a tagged
// `go install`), the commit and its time, and whether the tree had changes.
type buildInfo struct {
	Version, Commit, Date string
	Modified              bool
	Go                    string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Go = info.GoVersion
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Date = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one line `crm version` prints and a backup's manifest keeps.
func (b buildInfo) String() string {
	s := "crm " + b.Version
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += ", commit " + c
		if b.Modified {
			s += " (with local changes)"
		}
	}
	if b.Date != "" {
		s += ", built from a commit of " + b.Date
	}
	if b.Go != "" {
		s += ", " + b.Go
	}
	return s
}

// runVersion is `crm version`.
func runVersion(_ context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("version takes no arguments")}
	}
	fmt.Fprintln(e.stdout, readBuildInfo())
	return nil
}
