package campaign

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/crm-team/crm/internal/lease"
	"github.com/crm-team/crm/store"
)

// Store keeps the campaigns, their runs' batches and the clients they go to: what
// Campaigns and Runner read and write. *store.Store is one.
type Store interface {
	Now() time.Time
	lease.Store // a preparation's lease

	// Campaigns, and the clients, contacts and managers their letters are for.
	Campaign(ctx context.Context, id string) (*store.Campaign, error)
	Campaigns(ctx context.Context, states ...store.CampaignState) ([]store.Campaign, error)
	MoveCampaign(ctx context.Context, actor, id, key string, from []store.CampaignState, change func(*store.Campaign)) (*store.Campaign, error)
	SegmentClients(ctx context.Context, seg store.Segment, fn func(*store.Client) error) error
	EachClient(ctx context.Context, fn func(*store.Client) error) error
	Client(ctx context.Context, id string) (*store.Client, error)
	Manager(ctx context.Context, id string) (*store.Manager, error)

	// A run's batches: queued, held by one instance while it sends, and dropped.
	QueueBatch(ctx context.Context, b *store.Batch, list *store.BatchList) error
	QueuedClients(ctx context.Context, campaignID string, run, n int) (map[string]bool, int, error)
	SetPrepared(ctx context.Context, campaignID string, run, batches int, done bool) error
	Batch(ctx context.Context, id string) (*store.Batch, error)
	Batches(ctx context.Context, campaignID string, run, n int) ([]store.Batch, error)
	BatchList(ctx context.Context, id string) (*store.BatchList, error)
	TakeBatch(ctx context.Context, b *store.Batch, owner string, ttl time.Duration) (bool, error)
	RenewBatch(ctx context.Context, id, owner string, takes int, ttl time.Duration) (bool, error)
	SaveBatchProgress(ctx context.Context, b *store.Batch, owner string, ttl time.Duration) (bool, error)
	ReleaseBatch(ctx context.Context, b *store.Batch, owner string, ttl time.Duration) error
	BeginLines(ctx context.Context, b *store.Batch, owner string, ttl time.Duration) (bool, error)
	DropBatches(ctx context.Context, campaignID string, run, n int) error
	DropBatchLetters(ctx context.Context, campaignID string, run, n int) error

	// Who opted out since a batch was queued; the "mailing sent" lines of a batch.
	OptOutsOn(ctx context.Context, day time.Time) ([]store.OptOut, error)
	ShowMailings(ctx context.Context, byClient map[string][]store.Interaction) error
}

// DeliveryStore keeps the deliveries of single letters (Deliver) and the record of
// letters sent that bounces are checked against. *store.Store is one.
type DeliveryStore interface {
	QueueDeliveries(ctx context.Context, ds []store.Delivery) (int, error)
	Delivery(ctx context.Context, id string) (*store.Delivery, error)
	AdvanceDelivery(ctx context.Context, id string, from, to store.DeliveryState, set bson.D) (bool, error)
	Claim(ctx context.Context, id string) (bool, error)
	RecordSent(ctx context.Context, recs ...*store.Sent) error
}

// UnsubscribeStore records an unsubscribe and its undoing, and tells whether a
// person has unsubscribed (Unsubscriber). *store.Store is one.
type UnsubscribeStore interface {
	Client(ctx context.Context, id string) (*store.Client, error)
	Unsubscribe(ctx context.Context, clientID, contactID, via, campaignID string) (*store.Client, error)
	Resubscribe(ctx context.Context, clientID, contactID, campaignID string) (*store.Client, error)
}

// The store cmd/crm passes in is all three.
var (
	_ Store            = (*store.Store)(nil)
	_ DeliveryStore    = (*store.Store)(nil)
	_ UnsubscribeStore = (*store.Store)(nil)
)
