package mail

import (
	"context"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkIngestCeilings measures what no ingestion design can beat, against the
// same mailbox as BenchmarkIngest, each as a share of the raw fetch (the fastest of three):
//
//   - parse: every letter parsed as the Ingester does (side by side), nothing stored;
//   - store: every letter stored unparsed, as one document of its raw bytes, one
//     unordered insert per FETCH batch, into the embedded engine; nothing else.
//
// Ingestion must do both, so the smaller of the two bounds its share of raw fetch.
//
//	go test -run '^$' -bench IngestCeilings -benchtime 1x ./mail/
func BenchmarkIngestCeilings(b *testing.B) {
	acc := benchAccount(b)
	ctx := context.Background()
	raw := fastestRawFetch(b, acc)
	report := func(b *testing.B, took time.Duration) {
		b.ReportMetric(float64(benchLetters)/took.Seconds(), "letters/s")
		b.ReportMetric(100*raw.Seconds()/took.Seconds(), "%-of-raw")
	}

	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			parse := func(ctx context.Context, batch []Fetched) error {
				return each(ctx, len(batch), func(i int) error {
					Parse(batch[i].Raw, ParseOptions{}) // the Ingester's default limit
					return nil
				})
			}
			start := time.Now()
			if n, err := NewPoller(acc, newProgress(), parse, nil).SyncOnce(ctx); err != nil || n != benchLetters {
				b.Fatalf("%d letters, %v", n, err)
			}
			report(b, time.Since(start))
		}
	})

	b.Run("store", func(b *testing.B) {
		client, err := mongo.Connect(ctx, options.Client().ApplyURI(storetest.Engine(b).URI()))
		if err != nil {
			b.Fatal(err)
		}
		defer client.Disconnect(ctx)
		for b.Loop() {
			letters := client.Database("ceiling_" + strconv.FormatInt(time.Now().UnixNano(), 36)).Collection("letters")
			insert := func(ctx context.Context, batch []Fetched) error {
				if len(batch) == 0 {
					return nil // the end of a pass
				}
				docs := make([]any, len(batch))
				for i, f := range batch {
					docs[i] = bson.D{{Key: "_id", Value: int64(f.UID)}, {Key: "raw", Value: f.Raw}}
				}
				_, err := letters.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
				return err
			}
			start := time.Now()
			if n, err := NewPoller(acc, newProgress(), insert, nil).SyncOnce(ctx); err != nil || n != benchLetters {
				b.Fatalf("%d letters, %v", n, err)
			}
			report(b, time.Since(start))
			if err := letters.Database().Drop(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
