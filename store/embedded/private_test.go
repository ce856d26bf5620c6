package embedded

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

func TestDataDirectoryIsPrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	storeAndStop(t, dir)

	// A data directory as an older crm or a careless copy left it: open to everyone.
	loose := func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(path, mode)
	}
	if err := filepath.WalkDir(dir, loose); err != nil {
		t.Fatal(err)
	}

	e := startEngine(t, dir)
	c := connect(t, e.URI())
	// A database created after the start gets its own files.
	if _, err := c.Database("later").Collection("y").InsertOne(ctx, bson.M{"_id": "k"}); err != nil {
		t.Fatal(err)
	}
	if err := e.FixIndexes(ctx); err != nil {
		t.Fatal(err)
	}

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v %v, want drwx------", fi.Mode(), err)
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		seen[rel] = true
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is open to other users: %v", rel, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"engine.sock", "engine.json", "crm.lock", "db", "db/crm.sqlite", "db/later.sqlite"} {
		if !seen[want] {
			t.Errorf("%s is missing from the data directory: %v", want, seen)
		}
	}
}
