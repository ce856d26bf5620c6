package store

import (
	"hash/fnv"
	"sync"
)

// The store runs one code path on MongoDB and on the embedded engine (FerretDB v1 on
// SQLite, store/embedded). These choices are made for the embedded engine; each is
// correct on MongoDB as well, only not needed there. docs/ARCHITECTURE.md describes
// them at more length.
//
//  1. Only a filter that is exactly {_id: …} is served by an index; any other filter
//     reads the whole collection (indexSpecs serve MongoDB only). So every hot path
//     reads and writes documents whose _id it computes: natural keys in keys
//     (keys.go), timeline buckets of timelineBucket entries (timeline.go), managers'
//     agendas (OpenTasks), reminder slots, leases and claims (schedule.go), a document
//     per company day for activity, stage moves and opt-outs (activity.go,
//     stagemoves.go, optouts.go), letters by Message-ID (LetterID), records of sent
//     letters (sent.go), the letters waiting in /inbox from one sender (waiting.go),
//     campaign batches read one by one (Batches) and written under a hold filtered
//     by _id alone (stillHeld), outbox lanes read [lo, hi) by number (outbox.go).
//     Name search and managers' client lists come from the in-process Directory,
//     kept current by a change log whose documents each hold a run of changes and
//     are found by _id, one after another (changelog.go): a query for a range of
//     _id, or an $in, reads the whole collection (measured). Collections kept small
//     are read whole or filtered on other fields: managers, campaigns, schedule
//     (AcquireLease, writeHeld), ingesting (letters in flight), replies (letters
//     awaiting an answer) and unsorted (the /inbox queue). Every other scan is a
//     cold path (exports, repairs, backfills, pruning, a client's orders, the audit
//     log) and says so.
//  2. An update is a read, a change in Go and a write, and two updates of one document
//     may interleave: concurrent $set or $inc lose one. docLocks, below, serialises
//     the updates of one document within the process. findOneAndUpdate is not atomic
//     either, so a lease only says who should work and a claim (an insert under a
//     unique _id, Claim) says who does. The change log is appended to the same way:
//     a writer inserts at the number after the last document it knows of, and
//     another process that got there first makes it try after that one.
//  3. There are no multi-document transactions. Write orders leave a crash's remains
//     where a check or a repair finds them: keys before the client that lists them
//     and removed after it (RepairKeys at start and in crm migrate), a reminder slot
//     before its task and the task before its copies on card and agenda
//     (RepairTaskRefs), a timeline number before its entry (a gap, never half an
//     entry), opt-outs before the client write that causes them, a letter's pending
//     links before the letter (PendingLinks), an unsorted letter's sender hints
//     before its queue entry and removed after it (waiting.go), a batch's record of
//     letters and list before its head (QueueBatch), an outbox message before it is
//     sent, and "sending" marks before letters go to the SMTP server (cut, never
//     twice).
//  4. Documents are stored as JSON and decoded value by value: a day's stage moves are
//     lines of text (stagemoves.go), a batch's recipients one deflated binary field
//     (batchListDoc), and an outbox message's button rows documents, since arrays of
//     arrays are refused (OutRow).
//  5. Sizes tuned to it: insertChunk, below; BatchSize (a batch costs about ten
//     operations, as many for 500 recipients as for 2,000); stageDaysAtOnce; the
//     eight concurrent _id reads of parallel.
//  6. Asking it to create a compound index that exists drops the connection, so
//     Migrate creates only the missing ones (createMissingIndexes).
//  7. Its own _id index does not match the expression its queries use; the engine
//     package adds one that does (store/embedded/idindex.go), after Migrate creates
//     collections (Options.AfterCreateCollections) and every few seconds for
//     collections that processes attached to the engine create.

// docLocks serialises read-modify-writes of one document within this process: two
// concurrent $set or $inc on one _id would lose one of them on the embedded engine
// (found by TestFieldLevelUpdatesDoNotOverwrite). On MongoDB they cost only a mutex.
// All writers of a `crm serve` run in its process; a command attached to its engine
// (crm import) writes new documents and the change log, which recordChanges makes
// safe against lost increments on its own.
//
// Locks are striped: never take one while holding another (two documents may share a
// stripe, and a stripe does not nest).
type docLocks struct{ stripes [256]sync.Mutex }

func (l *docLocks) lock(collection, id string) func() {
	m := &l.stripes[l.stripe(collection, id)]
	m.Lock()
	return m.Unlock
}

func (l *docLocks) stripe(collection, id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(collection))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(len(l.stripes)))
}

// insertChunk is about the most bytes one insert carries: the driver and the engine
// each hold a few copies of a batch, and a mailbox's batch can be large.
const insertChunk = 4 << 20
