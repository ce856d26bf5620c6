package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// CreateOrder saves an order; a paid order counts towards the client's totals and is
// recorded in the timeline.
func (s *Store) CreateOrder(ctx context.Context, actor string, o *Order) error {
	if o.ClientID == "" {
		return invalidf("an order needs a client")
	}
	if o.Amount <= 0 {
		return invalidf("an order needs a positive amount")
	}
	if o.Currency == "" {
		o.Currency = "RUB"
	}
	if o.State == "" {
		o.State = OrderNew
	}
	if o.Date.IsZero() {
		o.Date = s.now()
	}
	if o.ID == "" {
		o.ID = newID()
	}
	o.CreatedAt, o.CreatedBy = s.now(), actor
	if _, err := s.Client(ctx, o.ClientID); err != nil {
		return err
	}
	if _, err := s.c(colOrders).InsertOne(ctx, o); err != nil {
		return fmt.Errorf("save order: %w", err)
	}
	if _, err := s.AppendInteraction(ctx, o.ClientID, Interaction{Kind: InteractionOrder, AuthorID: actor, OrderID: o.ID,
		Text: fmt.Sprintf("%d.%02d %s", o.Amount/100, o.Amount%100, o.Currency)}); err != nil {
		return err
	}
	if o.State != OrderPaid {
		return nil
	}
	var c Client
	unlock := s.locks.lock(colClients, o.ClientID)
	err := s.c(colClients).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: o.ClientID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "ordersCount", Value: 1}, {Key: "ordersTotal", Value: o.Amount}}},
			{Key: "$unset", Value: bson.D{{Key: "atRiskSince", Value: ""}}}}, // an order ends the risk
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	unlock()
	if err != nil {
		return fmt.Errorf("count order: %w", err)
	}
	s.countOrder(ctx, o, c.ManagerID)
	// The methodology: the first paid order makes a client gold, more than three
	// make it platinum; a client who had left and pays again comes back.
	target := StageGold
	if c.OrdersCount > 3 {
		target = StagePlatinum
	}
	if c.Stage == target || c.Stage == StagePlatinum && target == StageGold {
		return nil
	}
	_, err = s.MoveStage(ctx, actor, o.ClientID, target, Refusal{})
	return err
}

// ClientOrders lists a client's orders, newest first (a cold path).
func (s *Store) ClientOrders(ctx context.Context, clientID string) ([]Order, error) {
	cur, err := s.c(colOrders).Find(ctx, bson.D{{Key: "clientId", Value: clientID}}, options.Find().SetSort(bson.D{{Key: "date", Value: -1}}))
	if err != nil {
		return nil, err
	}
	var out []Order
	return out, cur.All(ctx, &out)
}

// EachPaidOrder streams the paid orders dated in [from, to) (reports: a cold path that
// reads every order).
func (s *Store) EachPaidOrder(ctx context.Context, from, to time.Time, fn func(*Order) error) error {
	cur, err := s.c(colOrders).Find(ctx, bson.D{{Key: "state", Value: OrderPaid}}, options.Find().SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("read orders: %w", err)
	}
	return eachDoc(ctx, cur, func(o *Order) error {
		if o.Date.Before(from) || !o.Date.Before(to) {
			return nil
		}
		return fn(o)
	})
}

// DeliveryID is the _id of a campaign's delivery to a contact (contact IDs are unique
// within their client only).
func DeliveryID(campaignID, clientID, contactID string) string {
	return campaignID + "/" + clientID + "/" + contactID
}

// QueueDeliveries creates the deliveries of a campaign; ones that exist are kept as
// they are, so queueing again after a crash sends nobody a second copy.
func (s *Store) QueueDeliveries(ctx context.Context, ds []Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	docs := make([]any, len(ds))
	now := s.now()
	for i := range ds {
		ds[i].ID = DeliveryID(ds[i].CampaignID, ds[i].ClientID, ds[i].ContactID)
		ds[i].State, ds[i].UpdatedAt = DeliveryQueued, now
		docs[i] = ds[i]
	}
	there, err := s.insertNew(ctx, colDeliveries, docs, nil)
	if err != nil {
		return 0, fmt.Errorf("queue deliveries: %w", err)
	}
	return len(docs) - len(there), nil
}

// Delivery reads one delivery.
func (s *Store) Delivery(ctx context.Context, id string) (*Delivery, error) {
	return getOne[Delivery](ctx, s, colDeliveries, id)
}

// AdvanceDelivery moves a delivery from one state to another and returns false when it
// was not in the expected state (someone else advanced it). The check is on the
// document read by _id, then written by _id; a delivery is advanced by one worker.
func (s *Store) AdvanceDelivery(ctx context.Context, id string, from, to DeliveryState, set bson.D) (bool, error) {
	defer s.locks.lock(colDeliveries, id)()
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return false, err
	}
	if d.State != from {
		return false, nil
	}
	set = append(set, bson.E{Key: "state", Value: to}, bson.E{Key: "updatedAt", Value: s.now()})
	_, err = s.c(colDeliveries).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err == nil, err
}

// MailboxStateID is the _id of a folder's IMAP progress.
func MailboxStateID(mailbox, folder string) string { return mailbox + "/" + folder }

// MailboxState reads a folder's IMAP progress; a folder never read has zero values.
func (s *Store) MailboxState(ctx context.Context, mailbox, folder string) (*MailboxState, error) {
	st := MailboxState{ID: MailboxStateID(mailbox, folder), Mailbox: mailbox, Folder: folder}
	err := s.getByID(ctx, colMailboxes, st.ID, &st)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	return &st, nil
}

// SaveMailboxState records progress after the letters up to LastUID are stored.
func (s *Store) SaveMailboxState(ctx context.Context, st *MailboxState) error {
	st.ID = MailboxStateID(st.Mailbox, st.Folder)
	st.UpdatedAt = s.now()
	_, err := s.c(colMailboxes).ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.ID}}, st, options.Replace().SetUpsert(true))
	return err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
