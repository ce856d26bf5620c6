// Package store keeps the CRM's data in MongoDB (or the embedded engine that speaks its
// protocol). Every hot path is a read or write by _id: natural keys, timeline pages and
// work queues are documents with computed _id values. engine.go lists what the
// embedded engine makes the store do.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Collection names.
const (
	colClients    = "clients"
	colKeys       = "keys"
	colTimeline   = "timeline"
	colTasks      = "tasks"
	colManagers   = "managers"
	colOrders     = "orders"
	colCampaigns  = "campaigns"
	colDeliveries = "deliveries"
	colMailboxes  = "mailboxes"
	colAudit      = "audit"
	colChanges    = "changes"
	colCounters   = "counters"
	colFiles      = "files"
	colInvites    = "invites"
	colAgendas    = "agendas"
	colLetters    = "letters"
	colUnsorted   = "unsorted"
	colIgnored    = "ignored"
	colWaiting    = "waiting"
	colIngesting  = "ingesting"
	colReplies    = "replies"
	colSchedule   = "schedule"
	colClaims     = "claims"
	colReminders  = "reminders"
	colBatches    = "batches"
	colBatchLists = "batchLists"
	colOptOuts    = "optouts"
	colStageDays  = "stageDays"
	colActivity   = "activity"
	colSent       = "sent"
	colOutbox     = "outbox"
	// colClientOrders keeps each client's order list by the client's _id;
	// colOrderWork the order changes on their way (ordersync.go).
	colClientOrders = "clientOrders"
	colOrderWork    = "orderWork"
	colOpenOrders   = "openOrders" // copies of the orders with money owed
	colSettings     = "settings"
	// Sign-in to the web workspace (websessions.go): one-time links and their uses,
	// and sessions, each by the hash of its secret.
	colWebLogins   = "webLogins"
	colWebSessions = "webSessions"
	// colPendingLines keeps history lines written in bulk until they are numbered
	// into the timeline (pendinglines.go).
	colPendingLines = "pendingLines"
)

// ErrNotFound is returned when a document does not exist.
var ErrNotFound = errors.New("not found")

// Options configure a Store.
type Options struct {
	// PhoneRegion reads numbers without a country code (default "RU").
	PhoneRegion string
	// AfterCreateCollections runs after the store creates collections; the embedded
	// engine indexes _id look-ups there. Nil for MongoDB.
	AfterCreateCollections func(context.Context) error
	Logger                 *slog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
	// Location is the company's time zone: activity is counted by its days (default
	// UTC).
	Location *time.Location
	// DirectoryHook, for tests, is called at points of the client directory's catching
	// up, in the goroutine doing it, which it may hold: "read" (the change log was read,
	// the clients not yet), "built" (a full load read every client, not swapped in
	// yet), "swapped".
	DirectoryHook func(point string)
	// Monitor sees every command sent to the database (crm serve times them for
	// /metrics); nil: none.
	Monitor *event.CommandMonitor
}

// Store is the CRM's data access.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	phones Phones
	after  func(context.Context) error
	log    *slog.Logger
	now    func() time.Time
	dir    *Directory
	loc    *time.Location
	crash  func(point string) error // tests only: see crashPoint
	locks  *docLocks
	// money serialises the changes of one client's orders: a change reads the order
	// list, then writes what follows from it, taking s.locks on the way.
	money *docLocks
	// logEnd is the last number of the change log this process knows of (writers
	// append after it), and when it learnt it (Unix ns).
	logEnd, logEndAt atomic.Int64
}

// Open connects to the database at uri and checks that it answers.
func Open(ctx context.Context, uri, database string, opts Options) (*Store, error) {
	// Defaults first, so that options given in the URI win.
	client, err := mongo.Connect(ctx, options.Client().
		SetServerSelectionTimeout(10*time.Second).
		SetAppName("crm").
		SetMonitor(opts.Monitor).
		ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("database address is not valid: %w", err)
	}
	s := New(client, database, opts)
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// New wraps a connected client.
func New(client *mongo.Client, database string, opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	s := &Store{
		client: client,
		db:     client.Database(database),
		phones: Phones{Region: opts.PhoneRegion},
		after:  opts.AfterCreateCollections,
		log:    opts.Logger,
		now:    func() time.Time { return opts.Now().UTC().Truncate(time.Millisecond) },
		loc:    opts.Location,
	}
	s.dir = newDirectory(s)
	s.dir.hook = opts.DirectoryHook
	s.locks, s.money = &docLocks{}, &docLocks{}
	return s
}

// Close stops following the change log and disconnects.
func (s *Store) Close(ctx context.Context) error {
	s.dir.close()
	return s.client.Disconnect(ctx)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("the database does not answer (is it running?): %w", err)
	}
	return nil
}

// Phones returns the phone normaliser configured for this store.
func (s *Store) Phones() Phones { return s.phones }

// Directory is the in-process index used for name search and managers' client lists.
func (s *Store) Directory() *Directory { return s.dir }

func (s *Store) c(name string) *mongo.Collection { return s.db.Collection(name) }

// Now is the store's clock (tests set it), so that what is stamped and what is
// scheduled agree.
func (s *Store) Now() time.Time { return s.now() }

func newID() string { return primitive.NewObjectID().Hex() }

// indexSpecs are the secondary indexes. The embedded engine maintains them without
// reading through them; on MongoDB they serve the cold paths (reports, exports).
var indexSpecs = map[string][]mongo.IndexModel{
	colClients: {
		{Keys: bson.D{{Key: "managerId", Value: 1}}},
		{Keys: bson.D{{Key: "stage", Value: 1}}},
		{Keys: bson.D{{Key: "city", Value: 1}}},
		{Keys: bson.D{{Key: "industry", Value: 1}}},
		{Keys: bson.D{{Key: "tags", Value: 1}}},
		{Keys: bson.D{{Key: "updatedAt", Value: 1}}},
	},
	colKeys:         {{Keys: bson.D{{Key: "client", Value: 1}}}},
	colTimeline:     {{Keys: bson.D{{Key: "client", Value: 1}}}},
	colTasks:        {{Keys: bson.D{{Key: "assigneeId", Value: 1}, {Key: "due", Value: 1}}}, {Keys: bson.D{{Key: "clientId", Value: 1}}}},
	colManagers:     {{Keys: bson.D{{Key: "telegramId", Value: 1}}}},
	colOrders:       {{Keys: bson.D{{Key: "clientId", Value: 1}, {Key: "date", Value: -1}}}},
	colCampaigns:    {{Keys: bson.D{{Key: "state", Value: 1}}}},
	colDeliveries:   {{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "state", Value: 1}}}},
	colMailboxes:    nil,
	colAudit:        {{Keys: bson.D{{Key: "entityId", Value: 1}, {Key: "at", Value: -1}}}, {Keys: bson.D{{Key: "at", Value: -1}}}},
	colChanges:      {{Keys: bson.D{{Key: "at", Value: 1}}}},
	colCounters:     nil,
	colFiles:        {{Keys: bson.D{{Key: "clientId", Value: 1}}}},
	colInvites:      nil,
	colAgendas:      nil,
	colLetters:      {{Keys: bson.D{{Key: "clients", Value: 1}}}, {Keys: bson.D{{Key: "date", Value: -1}}}},
	colUnsorted:     nil,
	colIgnored:      nil,
	colWaiting:      nil,
	colIngesting:    nil,
	colReplies:      nil,
	colSchedule:     nil,
	colClaims:       {{Keys: bson.D{{Key: "at", Value: 1}}}},
	colReminders:    nil,
	colBatches:      {{Keys: bson.D{{Key: "campaignId", Value: 1}, {Key: "run", Value: 1}}}},
	colBatchLists:   nil,
	colOptOuts:      nil,
	colStageDays:    nil,
	colActivity:     nil,
	colSent:         nil,
	colOutbox:       nil,
	colClientOrders: nil,
	colOrderWork:    nil,
	colOpenOrders:   nil,
	colSettings:     nil,
	colWebLogins:    nil,
	colWebSessions:  nil,
	colPendingLines: nil,
}

// Collections lists every collection the store uses.
func Collections() []string {
	names := make([]string, 0, len(indexSpecs))
	for n := range indexSpecs {
		names = append(names, n)
	}
	return names
}

// legacyStageMonths held stage moves by month before they were kept by day.
const legacyStageMonths = "stageMoves"

// Migrate creates every collection and index; running it again changes nothing.
func (s *Store) Migrate(ctx context.Context) error {
	have, err := s.existingCollections(ctx)
	if err != nil {
		return err
	}
	for name, indexes := range indexSpecs {
		if !have[name] {
			if err := s.db.CreateCollection(ctx, name); err != nil && !isNamespaceExists(err) {
				return fmt.Errorf("create collection %s: %w", name, err)
			}
		}
		if err := s.createMissingIndexes(ctx, name, indexes); err != nil {
			return fmt.Errorf("create indexes of %s: %w", name, err)
		}
	}
	if have[legacyStageMonths] {
		// An earlier version kept stage moves by month; BackfillStageMoves copies them
		// again from the timelines into stageDays.
		if err := s.c(legacyStageMonths).Drop(ctx); err != nil {
			return fmt.Errorf("drop %s: %w", legacyStageMonths, err)
		}
	}
	if err := s.migrateCampaignStates(ctx); err != nil {
		return err
	}
	if s.after != nil {
		if err := s.after(ctx); err != nil {
			return fmt.Errorf("prepare collections: %w", err)
		}
	}
	return s.startCounting(ctx)
}

// createMissingIndexes creates only the indexes that do not exist yet: asking the
// embedded engine to create an existing compound index again drops the connection.
func (s *Store) createMissingIndexes(ctx context.Context, col string, indexes []mongo.IndexModel) error {
	missing, err := s.missingIndexes(ctx, col, indexes)
	if err != nil || len(missing) == 0 {
		return err
	}
	_, err = s.c(col).Indexes().CreateMany(ctx, missing)
	return err
}

// missingIndexes are those of indexes the collection does not have.
func (s *Store) missingIndexes(ctx context.Context, col string, indexes []mongo.IndexModel) ([]mongo.IndexModel, error) {
	specs, err := s.c(col).Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, sp := range specs {
		have[sp.Name] = true
	}
	var missing []mongo.IndexModel
	for _, ix := range indexes {
		if !have[indexName(ix.Keys.(bson.D))] {
			missing = append(missing, ix)
		}
	}
	return missing, nil
}

// indexName is the name MongoDB gives an index by default: field_1_other_-1.
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}

// getByID reads one document by _id into v.
func (s *Store) getByID(ctx context.Context, col, id string, v any) error {
	err := s.c(col).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("%s %q: %w", col, id, ErrNotFound)
	}
	return err
}

// getOne reads one document of type T by _id.
func getOne[T any](ctx context.Context, s *Store, col, id string) (*T, error) {
	var v T
	if err := s.getByID(ctx, col, id, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// insertNew inserts documents in few round trips (one per insertChunk bytes, by the
// sizes given; nil sizes: one); there[i] says document i was not inserted because one
// with its _id exists.
func (s *Store) insertNew(ctx context.Context, col string, docs []any, sizes []int) (there map[int]bool, err error) {
	there = map[int]bool{}
	for start := 0; start < len(docs); {
		end, bytes := start+1, 0
		if sizes != nil {
			for bytes += sizes[start]; end < len(docs) && bytes+sizes[end] <= insertChunk; end++ {
				bytes += sizes[end]
			}
		} else {
			end = len(docs)
		}
		_, err = s.c(col).InsertMany(ctx, docs[start:end], options.InsertMany().SetOrdered(false))
		var bw mongo.BulkWriteException
		switch {
		case errors.As(err, &bw) && bw.WriteConcernError == nil:
			for _, we := range bw.WriteErrors {
				if !mongo.IsDuplicateKeyError(we) {
					return nil, err
				}
				there[start+we.Index] = true
			}
		case err != nil:
			return nil, err
		}
		start = end
	}
	return there, nil
}

// nextSeq reserves n numbers of a named counter and returns the last one.
// eachDoc decodes every document of a cursor into a T and calls fn with it.
func eachDoc[T any](ctx context.Context, cur *mongo.Cursor, fn func(*T) error) error {
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return cur.Err()
}

// upsertOne applies update to the document id, creating it when missing: two first
// writes race on the creation, and the loser applies its update again.
func (s *Store) upsertOne(ctx context.Context, col, id string, update bson.D) error {
	var err error
	for range 3 {
		_, err = s.c(col).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update, options.Update().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	return err
}

func (s *Store) nextSeq(ctx context.Context, name string, n int64) (int64, error) {
	var doc struct {
		N int64 `bson:"n"`
	}
	defer s.locks.lock(colCounters, name)()
	err := s.c(colCounters).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: name}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: n}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	return doc.N, err
}

// currentSeq reads a counter without changing it.
func (s *Store) currentSeq(ctx context.Context, name string) (int64, error) {
	var doc struct {
		N int64 `bson:"n"`
	}
	err := s.getByID(ctx, colCounters, name, &doc)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return doc.N, err
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, actor, action, entity, entityID string, changes map[string]any) error {
	e := AuditEntry{ID: newID(), At: s.now(), ActorID: actor, Action: action, Entity: entity, EntityID: entityID, Changes: changes}
	if _, err := s.c(colAudit).InsertOne(ctx, e); err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditBetween calls fn for every audit entry in [from, to), oldest first (a cold
// path for weekly summaries and reports: it scans).
func (s *Store) AuditBetween(ctx context.Context, from, to time.Time, fn func(AuditEntry) error) error {
	cur, err := s.c(colAudit).Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: from.UTC()}, {Key: "$lt", Value: to.UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	return eachDoc(ctx, cur, func(e *AuditEntry) error { return fn(*e) })
}

// AuditLog returns the newest entries about one entity (a cold path: it scans).
func (s *Store) AuditLog(ctx context.Context, entityID string, limit int64) ([]AuditEntry, error) {
	cur, err := s.c(colAudit).Find(ctx, bson.D{{Key: "entityId", Value: entityID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	return out, cur.All(ctx, &out)
}

// DropDatabase removes the whole database (tests and benchmarks clean up with it).
func (s *Store) DropDatabase(ctx context.Context) error { return s.db.Drop(ctx) }

func (s *Store) existingCollections(ctx context.Context) (map[string]bool, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	return have, nil
}

// MissingCollections lists the store's collections that do not exist yet.
// MissingIndexes lists the secondary indexes Migrate makes that do not exist, as
// "collection.index".
func (s *Store) MissingIndexes(ctx context.Context) ([]string, error) {
	var missing []string
	for col, indexes := range indexSpecs {
		lack, err := s.missingIndexes(ctx, col, indexes)
		if err != nil {
			return nil, fmt.Errorf("list the indexes of %s: %w", col, err)
		}
		for _, ix := range lack {
			missing = append(missing, col+"."+indexName(ix.Keys.(bson.D)))
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// ReplicaSet names the replica set the database runs in; "" for a standalone server.
func (s *Store) ReplicaSet(ctx context.Context) (string, error) {
	var hello struct {
		SetName string `bson:"setName"`
	}
	if err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return "", fmt.Errorf("ask the server what it is: %w", err)
	}
	return hello.SetName, nil
}

func (s *Store) MissingCollections(ctx context.Context) ([]string, error) {
	have, err := s.existingCollections(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range Collections() {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return missing, nil
}
