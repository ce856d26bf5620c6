package embedded

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func startEngine(t *testing.T, dir string) *Engine {
	t.Helper()
	ctx := context.Background()
	e, err := Start(ctx, dir, Options{Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(context.Background(), options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func assertIndexedPlans(t *testing.T, dir, database string, collections ...string) {
	t.Helper()
	ctx := context.Background()
	db, err := OpenSQLite(dir, database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := CollectionTables(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range collections {
		table, ok := tables[c]
		if !ok {
			t.Fatalf("collection %s has no table; tables: %v", c, tables)
		}
		plan, err := IDQueryPlan(ctx, db, table)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "SEARCH") || !strings.Contains(plan, "USING INDEX") {
			t.Errorf("collection %s: _id look-up plan is %q, want SEARCH ... USING INDEX", c, plan)
		}
	}
}

func TestIDLookupsUseIndexInEveryCollection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := startEngine(t, dir)
	client := connect(t, e.URI())
	db := client.Database("crm")
	for _, name := range []string{"clients", "keys"} {
		if err := db.CreateCollection(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.FixIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	assertIndexedPlans(t, dir, "crm", "clients", "keys")

	// A collection created later, implicitly by an insert, is fixed by the next pass.
	if _, err := db.Collection("later").InsertOne(ctx, bson.M{"_id": "a", "v": 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.FixIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	assertIndexedPlans(t, dir, "crm", "clients", "keys", "later")

	var got bson.M
	if err := db.Collection("later").FindOne(ctx, bson.M{"_id": "a"}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["v"] != int32(1) {
		t.Fatalf("read back %v", got)
	}
}

func TestSecondEngineOnSameDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := startEngine(t, dir)

	_, err := Start(ctx, dir, Options{Command: "crm serve"})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), `"test"`) || strings.Contains(err.Error(), "CRM_") {
		t.Fatalf("second owner: err = %v, want ErrInUse naming the owner (and no setting of crm's)", err)
	}

	other, err := Start(ctx, dir, Options{Command: "crm import", Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	if other.Owned() || other.Socket() != e.Socket() {
		t.Fatalf("attached engine: owned=%v socket=%q, want the owner's %q", other.Owned(), other.Socket(), e.Socket())
	}
	if _, err := connect(t, e.URI()).Database("crm").Collection("x").InsertOne(ctx, bson.M{"_id": "k"}); err != nil {
		t.Fatal(err)
	}
	c := connect(t, other.URI())
	if n, err := c.Database("crm").Collection("x").CountDocuments(ctx, bson.M{"_id": "k"}); err != nil || n != 1 {
		t.Fatalf("through the attached engine: n=%d err=%v", n, err)
	}
	_ = c.Disconnect(ctx)
	other.Close() // does not stop the owner's engine
	if err := connect(t, e.URI()).Ping(ctx, nil); err != nil {
		t.Fatalf("owner's engine stopped when an attached process closed: %v", err)
	}
}

// storeAndStop runs an engine on dir just to store the document {_id: "k"} in crm.x.
func storeAndStop(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	e, err := Start(ctx, dir, Options{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, e.URI())
	if _, err := c.Database("crm").Collection("x").InsertOne(ctx, bson.M{"_id": "k"}); err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(ctx)
	e.Close()
}

func TestRestartAfterClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	storeAndStop(t, dir)

	start := time.Now()
	e2 := startEngine(t, dir)
	c2 := connect(t, e2.URI())
	n, err := c2.Database("crm").Collection("x").CountDocuments(ctx, bson.M{"_id": "k"})
	if err != nil || n != 1 {
		t.Fatalf("after restart: n=%d err=%v (restart took %v)", n, err, time.Since(start))
	}
}
