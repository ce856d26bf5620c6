package embedded

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// countedValue counts how often a handler resolves it.
type countedValue struct{ n *int }

func (v countedValue) LogValue() slog.Value { *v.n++; return slog.StringValue("doc") }

func TestQuietHandlerFormatsOnlyWhatItWrites(t *testing.T) {
	var buf bytes.Buffer
	resolved := 0
	log := slog.New(quietHandler{h: slog.NewTextHandler(&buf, nil)})

	// What FerretDB does before each statement: attributes, then a debug line.
	log.With("args", countedValue{&resolved}).Debug("statement")
	log.With("args", countedValue{&resolved}).Warn("duplicate key")
	if resolved != 0 || buf.Len() != 0 {
		t.Fatalf("attributes of unwritten lines were formatted %d times; written: %q", resolved, buf.String())
	}

	parent := log.With("conn", 7).WithGroup("cmd")
	parent.With("name", "update").Error("failed", "code", 11000)
	parent.With("name", "insert").Error("failed too")
	got := buf.String()
	for _, want := range []string{"conn=7 cmd.name=update cmd.code=11000", "conn=7 cmd.name=insert"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "debug") || strings.Contains(got, "duplicate") {
		t.Errorf("only errors are written:\n%s", got)
	}
}
