package store

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// SetCrash makes the store stop a write sequence at the named point, as a crash would.
func (s *Store) SetCrash(f func(point string) error) { s.crash = f }

// DeleteKeyForTest removes a key document behind the store's back, as a partial
// restore might.
func (s *Store) DeleteKeyForTest(ctx context.Context, key string) error {
	_, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}

// ClearTaskRefsForTest drops the copies of open tasks, as a crash after the task's own
// write would leave them.
func (s *Store) ClearTaskRefsForTest(ctx context.Context, t *testing.T, clientID, managerID string) {
	t.Helper()
	empty := func([]TaskRef) []TaskRef { return nil }
	if err := s.updateClientTasks(ctx, clientID, empty); err != nil {
		t.Fatal(err)
	}
	if err := s.updateAgenda(ctx, managerID, empty); err != nil {
		t.Fatal(err)
	}
}

// ForgetActivityForTest drops every activity count and says counting began at since,
// as a base an older version kept would look after its first migrate.
func (s *Store) ForgetActivityForTest(ctx context.Context, t testing.TB, since time.Time) {
	t.Helper()
	if _, err := s.c(colActivity).DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.c(colActivity).InsertOne(ctx, bson.D{{Key: "_id", Value: activitySince}, {Key: "at", Value: since}}); err != nil {
		t.Fatal(err)
	}
}

// SeedHistoryForTest writes timelines and orders in bulk, as years of use under an
// older version would have left them (no stage-move or activity records: BackfillStageMoves
// and BackfillActivity count them): benchmarks of the reports need 300,000 entries and
// 500,000 orders, which the one-by-one paths write in hours. Besides the orders it
// writes what the store keeps of them: each client's order list and the copies of the
// orders with money owed. A client's orders must all come in one call.
func (s *Store) SeedHistoryForTest(ctx context.Context, t testing.TB, timelines map[string][]Interaction, orders []Order) {
	t.Helper()
	var docs []any
	flush := func(col string) {
		if len(docs) == 0 {
			return
		}
		if _, err := s.c(col).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		docs = docs[:0]
	}
	for client, items := range timelines {
		sort.Slice(items, func(i, j int) bool { return items[i].At.Before(items[j].At) })
		for i := range items {
			items[i].Seq = int64(i + 1)
		}
		for b := 0; b*timelineBucket < len(items); b++ {
			part := items[b*timelineBucket : min(len(items), (b+1)*timelineBucket)]
			docs = append(docs, timelineDoc{ID: timelineID(client, int64(b)), Client: client, Bucket: int64(b), Items: part})
			if len(docs) == 1000 {
				flush(colTimeline)
			}
		}
	}
	flush(colTimeline)
	refs := map[string][]OrderRef{}
	var clients []string
	for i := range orders {
		o := &orders[i]
		docs = append(docs, o)
		if len(docs) == 5000 {
			flush(colOrders)
		}
		if refs[o.ClientID] == nil {
			clients = append(clients, o.ClientID)
		}
		refs[o.ClientID] = append(refs[o.ClientID], refOf(o))
	}
	flush(colOrders)
	for _, client := range clients {
		list := refs[client]
		sort.SliceStable(list, func(i, j int) bool { return list[i].Date.After(list[j].Date) })
		docs = append(docs, clientOrdersDoc{ID: client, Orders: list})
		if len(docs) == 1000 {
			flush(colClientOrders)
		}
	}
	flush(colClientOrders)
	for i := range orders {
		if orders[i].Owed() > 0 {
			docs = append(docs, openOf(&orders[i]))
			if len(docs) == 5000 {
				flush(colOpenOrders)
			}
		}
	}
	flush(colOpenOrders)
}

// RecordStageMoveForTest records a move as MoveStage or BackfillStageMoves would.
func (s *Store) RecordStageMoveForTest(ctx context.Context, m StageMove) error {
	return s.recordStageMove(ctx, m)
}

// StageDayForTest reads a day of stage moves as it is stored: the lines added one by
// one, and the packed text.
func (s *Store) StageDayForTest(ctx context.Context, t testing.TB, day string) ([]string, string) {
	var doc stageDay
	if err := s.getByID(ctx, colStageDays, day, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Moves, doc.Packed
}

// DirectoryBehindForTest is how many logged changes this process's directory has not
// applied yet.
func (s *Store) DirectoryBehindForTest(ctx context.Context, t testing.TB) int {
	t.Helper()
	s.dir.st.Lock()
	applied := s.dir.applied
	s.dir.st.Unlock()
	run, err := s.readChanges(ctx, applied, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return len(run.clients)
}

// SetDirectoryHook replaces Options.DirectoryHook.
func (s *Store) SetDirectoryHook(f func(point string)) {
	s.dir.st.Lock()
	s.dir.hook = f
	s.dir.st.Unlock()
}

// ChangesAfterForTest reads the change log after number from, as the directory does.
func (s *Store) ChangesAfterForTest(ctx context.Context, t testing.TB, from int64) []string {
	t.Helper()
	run, err := s.readChanges(ctx, from, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return run.clients
}

// DeleteClientUnloggedForTest deletes a client without logging the change, as a
// writer that died between the two would.
func (s *Store) DeleteClientUnloggedForTest(ctx context.Context, id string) error {
	_, err := s.c(colClients).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// LogCreationForTest logs the creation of c again, as its writer would have if it
// logged it late.
func (s *Store) LogCreationForTest(ctx context.Context, c *Client) error {
	return s.recordCreated(ctx, []*Client{c})
}

// AgeDirectoryForTest makes the directory's last full load d older.
func (s *Store) AgeDirectoryForTest(d time.Duration) {
	s.dir.st.Lock()
	s.dir.loadedAt = s.dir.loadedAt.Add(-d)
	s.dir.st.Unlock()
}

// ChangeLogDocsForTest lists the change log's documents: each one's first number and
// its clients.
func (s *Store) ChangeLogDocsForTest(ctx context.Context, t testing.TB) map[int64][]string {
	t.Helper()
	cur, err := s.c(colChanges).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []changeDoc
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	out := map[int64][]string{}
	for _, d := range docs {
		n, err := strconv.ParseInt(d.ID, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = d.ids()
	}
	return out
}

// StageMoves lists the moves made in [from, to), oldest first; reports stream them
// with EachStageMove.
func (s *Store) StageMoves(ctx context.Context, from, to time.Time) ([]StageMove, error) {
	var out []StageMove
	err := s.EachStageMove(ctx, from, to, func(m StageMove) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// StoreListUndeflatedForTest stores a batch's list as versions before deflating did.
func (s *Store) StoreListUndeflatedForTest(ctx context.Context, t testing.TB, list *BatchList) {
	t.Helper()
	data, err := bson.Marshal(struct {
		R []BatchRecipient `bson:"r"`
	}{list.Recipients})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.c(colBatchLists).InsertOne(ctx, bson.D{{Key: "_id", Value: list.ID}, {Key: "n", Value: len(list.Recipients)}, {Key: "data", Value: data}}); err != nil {
		t.Fatal(err)
	}
}

// AddStageLineForTest adds a line to a day of stage moves as it is stored, as an
// older version wrote it.
func (s *Store) AddStageLineForTest(ctx context.Context, t testing.TB, day, line string) {
	t.Helper()
	if err := s.upsertOne(ctx, colStageDays, day, bson.D{{Key: "$addToSet", Value: bson.D{{Key: "moves", Value: line}}}}); err != nil {
		t.Fatal(err)
	}
}

// QueueUnindexedForTest puts a letter in the unsorted queue as a version without the
// sender index did: the queue entry alone.
func (s *Store) QueueUnindexedForTest(ctx context.Context, t testing.TB, l *Letter) {
	t.Helper()
	_, err := s.c(colUnsorted).InsertOne(ctx, bson.D{{Key: "_id", Value: l.ID}, {Key: "from", Value: l.From},
		{Key: "subject", Value: l.Subject}, {Key: "date", Value: l.Date}, {Key: "unknownBounce", Value: l.UnknownBounce}})
	if err != nil {
		t.Fatal(err)
	}
}

// WaitingIndexForTest lists the unsorted queue's sender index: each document's _id
// with its letters.
func (s *Store) WaitingIndexForTest(ctx context.Context, t testing.TB) map[string][]string {
	t.Helper()
	cur, err := s.c(colWaiting).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []waitingDoc
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range docs {
		if d.ID != waitingIndexed {
			out[d.ID] = d.Letters
		}
	}
	return out
}

// RawSetCampaignName renames a campaign behind the store's back, keys untouched, as
// versions before names were unique could leave two campaigns of one name.
func (s *Store) RawSetCampaignName(ctx context.Context, id, name string) error {
	_, err := s.c(colCampaigns).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}})
	return err
}

// WriteUnpackedOrderWorkForTest writes down the creation of orders as a version
// before the packing of work documents did, and left it to a repair.
func (s *Store) WriteUnpackedOrderWorkForTest(ctx context.Context, t testing.TB, clientID string, orders []Order) {
	t.Helper()
	before := make([]Order, len(orders))
	doc := bson.M{"_id": newID(), "client": clientID, "actor": "m", "before": before, "after": orders, "paidBefore": 0}
	if _, err := s.c(colOrderWork).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
}

// DropIndexForTest drops one of a collection's secondary indexes, as a base an older
// version made might lack it.
func (s *Store) DropIndexForTest(ctx context.Context, t testing.TB, col, name string) {
	t.Helper()
	if _, err := s.c(col).Indexes().DropOne(ctx, name); err != nil {
		t.Fatal(err)
	}
}
