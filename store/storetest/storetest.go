// Package storetest gives tests a real store on the embedded engine: one engine per
// test binary, a fresh database per test. No mocks: the tests talk to the engine the
// product runs on.
package storetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/embedded"
)

// shared is the engine of this test binary, started on first use and stopped by Main.
var shared struct {
	once sync.Once
	eng  *embedded.Engine
	dir  string
	err  error
	next atomic.Int64
}

// Main runs a package's tests and then stops the engine; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.eng != nil {
		shared.eng.Close()
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// Engine returns the test binary's engine.
func Engine(t testing.TB) *embedded.Engine {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "crmtest")
		if shared.err != nil {
			return
		}
		shared.eng, shared.err = embedded.Start(context.Background(), shared.dir, embedded.Options{Command: "go test"})
	})
	if shared.err != nil {
		t.Fatalf("start embedded engine: %v", shared.err)
	}
	return shared.eng
}

// New opens a migrated store on a fresh database.
func New(t testing.TB, opts ...func(*store.Options)) *store.Store {
	t.Helper()
	s, _ := NewNamed(t, opts...)
	return s
}

// NewNamed is New that also returns the database name.
func NewNamed(t testing.TB, opts ...func(*store.Options)) (*store.Store, string) {
	t.Helper()
	eng := Engine(t)
	ctx := context.Background()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), shared.next.Add(1))
	o := store.Options{AfterCreateCollections: eng.FixIndexes}
	for _, f := range opts {
		f(&o)
	}
	s, err := store.Open(ctx, eng.URI(), name, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Loaded while empty, as crm serve's is a moment after its start: from then on the
	// directory has every client this store writes.
	if err := s.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.DropDatabase(context.Background())
		_ = s.Close(context.Background())
	})
	return s, name
}
