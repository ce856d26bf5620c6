package store

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// RepairReport says what RepairKeys changed.
type RepairReport struct {
	StaleRemoved   int // keys whose client does not list them
	MissingCreated int // keys a client lists that had no key document
	Conflicts      int // keys two clients list; the key's owner keeps it
}

// RepairKeys brings the keys collection in line with the clients after a crash between
// writes: stale keys are removed (unless younger than staleGrace, whose client may be
// being written right now) and missing ones created. It reads both collections whole,
// so it runs at start-up and from `crm migrate`, not on a hot path.
func (s *Store) RepairKeys(ctx context.Context) (RepairReport, error) {
	var rep RepairReport
	owned := map[string]string{} // key -> client, as the clients list them
	clients := map[string]string{}
	err := s.EachClient(ctx, func(c *Client) error {
		clients[c.ID] = c.Name
		keys, _ := keysOf(c)
		for k := range keys {
			if _, dup := owned[k]; !dup {
				owned[k] = c.ID
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("read clients: %w", err)
	}

	cur, err := s.c(colKeys).Find(ctx, bson.D{}, options.Find().SetBatchSize(2000))
	if err != nil {
		return rep, fmt.Errorf("read keys: %w", err)
	}
	defer cur.Close(ctx)
	present := map[string]bool{}
	now := s.now()
	for cur.Next(ctx) {
		var k keyDoc
		if err := cur.Decode(&k); err != nil {
			return rep, err
		}
		if strings.HasPrefix(k.ID, keyTelegram) || strings.HasPrefix(k.ID, keyCampaignName) {
			continue // managers' and campaigns' keys are not clients'
		}
		present[k.ID] = true
		if owner, ok := owned[k.ID]; ok && owner == k.ClientID {
			continue
		} else if ok {
			rep.Conflicts++
			continue
		}
		if now.Sub(k.CreatedAt) < staleGrace {
			continue
		}
		if _, err := s.c(colKeys).DeleteOne(ctx, bson.D{{Key: "_id", Value: k.ID}}); err != nil {
			return rep, err
		}
		rep.StaleRemoved++
	}
	if err := cur.Err(); err != nil {
		return rep, err
	}

	for k, clientID := range owned {
		if present[k] {
			continue
		}
		c, err := s.Client(ctx, clientID)
		if err != nil {
			continue // deleted meanwhile
		}
		keys, _ := keysOf(c)
		contact, ok := keys[k]
		if !ok {
			continue
		}
		errs := s.claimKeys(ctx, []claim{{clientID: clientID, clientName: c.Name, keys: map[string]string{k: contact}}})
		if errs[0] != nil {
			rep.Conflicts++
			continue
		}
		rep.MissingCreated++
	}
	return rep, nil
}

// crashPoint lets tests stop a write sequence halfway, as a crash would: the caller
// returns at once, skipping any clean-up.
func (s *Store) crashPoint(name string) error {
	if s.crash == nil {
		return nil
	}
	return s.crash(name)
}
