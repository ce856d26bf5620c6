package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// FerretDB's SQLite backend looks a document up with
//
//	WHERE _ferretdb_sjson->'$._id' = ?
//
// but the index it creates for _id is on _ferretdb_sjson->"_id", and SQLite matches
// index expressions by their text, so every _id look-up scans the table. An index on
// exactly the query's expression makes look-ups O(log n). It is the one fix made
// inside the engine's files; the choices the store makes for the engine are listed in
// store/engine.go.
const (
	idExpr           = `_ferretdb_sjson->'$._id'`
	idIndexSuffix    = "_crm_id"
	collectionsTable = "_ferretdb_collections"
)

type idIndexFixer struct {
	dir string
	log *slog.Logger

	mu  sync.Mutex
	dbs map[string]*sql.DB // by file path
}

func newIDIndexFixer(dir string, log *slog.Logger) *idIndexFixer {
	return &idIndexFixer{dir: dir, log: log, dbs: map[string]*sql.DB{}}
}

// FixAll creates the missing _id indexes in every database of the engine.
func (f *idIndexFixer) FixAll(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(f.dir, "*.sqlite"))
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, file := range files {
		db, err := f.open(file)
		if err != nil {
			return err
		}
		if err := fixDatabase(ctx, db); err != nil {
			return fmt.Errorf("index _id in %s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

func (f *idIndexFixer) open(file string) (*sql.DB, error) {
	if db, ok := f.dbs[file]; ok {
		return db, nil
	}
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	f.dbs[file] = db
	return db, nil
}

// Close closes the fixer's own connections.
func (f *idIndexFixer) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, db := range f.dbs {
		_ = db.Close()
		delete(f.dbs, k)
	}
}

// MissingIDIndexes lists the tables of a database whose _id look-up has no usable index.
func MissingIDIndexes(ctx context.Context, db *sql.DB) ([]string, error) {
	var exists int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, collectionsTable).Scan(&exists)
	if err != nil || exists == 0 {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name FROM "`+collectionsTable+`" c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

func fixDatabase(ctx context.Context, db *sql.DB) error {
	tables, err := MissingIDIndexes(ctx, db)
	if err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, quoteIdent(t+idIndexSuffix), quoteIdent(t), idExpr)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// IDQueryPlan returns SQLite's plan for the look-up FerretDB runs for a filter
// {_id: <value>} on the collection's table; tests check it says SEARCH ... USING INDEX.
func IDQueryPlan(ctx context.Context, db *sql.DB, table string) (string, error) {
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM `+quoteIdent(table)+` WHERE `+idExpr+` = ?`, `"x"`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; "), rows.Err()
}

// OpenSQLite opens one database file of the engine read-only, for checks and tests.
func OpenSQLite(dataDir, database string) (*sql.DB, error) {
	file := filepath.Join(dataDir, sqliteDir, database+".sqlite")
	return sql.Open("sqlite", "file:"+file+"?mode=ro&_pragma=busy_timeout(10000)")
}

// CollectionTables maps collection names to their SQLite tables in one database.
func CollectionTables(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, table_name FROM "`+collectionsTable+`"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		m[n] = t
	}
	return m, rows.Err()
}
