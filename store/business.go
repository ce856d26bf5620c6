package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

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
