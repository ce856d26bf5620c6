package store

import (
	"hash/fnv"
	"sync"
)

// docLocks serialises read-modify-writes of one document within this process.
//
// The embedded engine applies an update by reading the document, changing it in Go and
// writing it back, with nothing in between to stop a second update of the same
// document: two concurrent $set or $inc on one _id lose one of them (found by
// TestFieldLevelUpdatesDoNotOverwrite). MongoDB applies them atomically, so there
// these locks cost only a mutex. All writers of a `crm serve` run in its process; a
// command attached to its engine (crm import) writes new documents and the change log,
// which recordChanges makes safe against lost increments on its own.
//
// Locks are striped: never take one while holding another (two documents may share a
// stripe, and a stripe does not nest).
type docLocks struct{ stripes [256]sync.Mutex }

func (l *docLocks) lock(collection, id string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(collection))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(id))
	m := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}
