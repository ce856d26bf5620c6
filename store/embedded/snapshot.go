package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshot copies one database of the engine on dataDir, as it is at one moment,
// into dest, a new data directory an engine can be started on. SQLite's VACUUM INTO
// reads the file in one read transaction while the engine's owner goes on writing:
// a copy of the file itself, taken meanwhile, would not be consistent.
func Snapshot(ctx context.Context, dataDir, database, dest string) error {
	src := filepath.Join(dataDir, sqliteDir, database+".sqlite")
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database %q in %s: nothing to back up (run crm migrate first?)", database, dataDir)
	}
	if err := os.MkdirAll(filepath.Join(dest, sqliteDir), 0o700); err != nil {
		return err
	}
	db, err := OpenSQLite(dataDir, database)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, filepath.Join(dest, sqliteDir, database+".sqlite")); err != nil {
		return fmt.Errorf("copy the database %s at one moment: %w", src, err)
	}
	return nil
}
