package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// A backup is the base's every collection as a logical dump, the same on either
// engine, so that the embedded engine's backup restores into MongoDB. The file is
// gzip of "crm-backup 1\n" and then frames, each a kind byte, a big-endian uint32
// length and the payload:
//
//	'M' the manifest (JSON: BackupManifest)
//	'C' a collection begins (its name)
//	'D' a document of it (BSON, as the database gives it)
//	'E' the collection ends (JSON: {"name", "documents"})
//	'Z' the end (JSON: {"documents"}): a file without it is incomplete
//
// Documents are read as they are stored and written back byte for byte.
const backupMagic = "crm-backup 1\n"

// BackupManifest says what a backup holds.
type BackupManifest struct {
	Created     time.Time `json:"created"`
	Database    string    `json:"database"`
	Collections []string  `json:"collections"`
	Version     string    `json:"version,omitempty"` // crm's, for the reader
}

// BackupReport counts what a backup or a restore carried.
type BackupReport struct {
	Collections int
	Documents   int64
}

// BackupOptions control Backup.
type BackupOptions struct {
	// Snapshot reads every collection at one moment, in a MongoDB snapshot session
	// (MongoDB 5.0 or later, a replica set). The embedded engine has none: its backup
	// reads a copy of its file taken at one moment instead (embedded.Snapshot).
	Snapshot bool
	// Version is written into the manifest.
	Version string
}

// backupFrame kinds.
const (
	frameManifest   = 'M'
	frameCollection = 'C'
	frameDocument   = 'D'
	frameEnd        = 'E'
	frameDone       = 'Z'
)

// Backup writes every collection of the store to w.
func (s *Store) Backup(ctx context.Context, w io.Writer, opts BackupOptions) (BackupReport, error) {
	var rep BackupReport
	if opts.Snapshot {
		sess, err := s.client.StartSession(options.Session().SetSnapshot(true))
		if err != nil {
			return rep, fmt.Errorf("start a snapshot session (MongoDB 5.0 or later, a replica set): %w", err)
		}
		defer sess.EndSession(context.WithoutCancel(ctx))
		ctx = mongo.NewSessionContext(ctx, sess)
	}
	names := Collections()
	slices.Sort(names)
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<16)
	fw := frameWriter{w: bw}
	fw.raw([]byte(backupMagic))
	fw.json(frameManifest, BackupManifest{Created: s.now().UTC(), Database: s.db.Name(), Collections: names, Version: opts.Version})
	for _, name := range names {
		fw.frame(frameCollection, []byte(name))
		cur, err := s.c(name).Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
		if err != nil {
			return rep, fmt.Errorf("back up %s: %w", name, err)
		}
		var n int64
		for cur.Next(ctx) {
			fw.frame(frameDocument, cur.Current)
			n++
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return rep, fmt.Errorf("back up %s: %w", name, err)
		}
		fw.json(frameEnd, map[string]any{"name": name, "documents": n})
		if fw.err != nil {
			return rep, fmt.Errorf("write the backup: %w", fw.err)
		}
		rep.Collections++
		rep.Documents += n
	}
	fw.json(frameDone, map[string]any{"documents": rep.Documents})
	if fw.err == nil {
		fw.err = bw.Flush()
	}
	if fw.err == nil {
		fw.err = zw.Close()
	}
	if fw.err != nil {
		return rep, fmt.Errorf("write the backup: %w", fw.err)
	}
	return rep, nil
}

// frameWriter writes frames, keeping the first error.
type frameWriter struct {
	w   io.Writer
	err error
	hdr [5]byte
}

func (f *frameWriter) raw(b []byte) {
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
}

func (f *frameWriter) frame(kind byte, payload []byte) {
	f.hdr[0] = kind
	binary.BigEndian.PutUint32(f.hdr[1:], uint32(len(payload)))
	f.raw(f.hdr[:])
	f.raw(payload)
}

func (f *frameWriter) json(kind byte, v any) {
	b, err := json.Marshal(v)
	if err != nil && f.err == nil {
		f.err = err
	}
	f.frame(kind, b)
}

// ErrNotEmpty says a restore found the database in use.
var ErrNotEmpty = errors.New("the database is not empty")

// contentCollections are those whose documents mean a base is in use: a restore
// refuses a database with any of them. (A migrated empty base has only markers.)
var contentCollections = []string{colClients, colManagers, colTimeline, colOrders, colCampaigns, colLetters, colTasks}

// Restore loads a backup into an empty database, then creates what Migrate creates.
// A file cut short (no end frame) or damaged is refused, with what was loaded so far
// left for the admin to drop. The caller runs the start-up repairs afterwards.
func (s *Store) Restore(ctx context.Context, r io.Reader) (BackupReport, error) {
	var rep BackupReport
	for _, name := range contentCollections {
		n, err := s.c(name).EstimatedDocumentCount(ctx)
		if err != nil {
			return rep, fmt.Errorf("check %s is empty: %w", name, err)
		}
		if n > 0 {
			return rep, fmt.Errorf("%w: %s has %d documents; restore into a new database (another CRM_DB_NAME, or an empty data directory)", ErrNotEmpty, name, n)
		}
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return rep, invalidf("not a crm backup: %v", err)
	}
	br := bufio.NewReaderSize(zr, 1<<16)
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return rep, invalidf("not a crm backup (made by crm backup)")
	}
	known := map[string]bool{}
	for _, n := range Collections() {
		known[n] = true
	}
	var (
		col   string
		batch []any
		size  int
		count int64
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		there, err := s.insertNew(ctx, col, batch, nil)
		if err != nil {
			return fmt.Errorf("restore %s: %w", col, err)
		}
		// A document there already is one Migrate made (a marker): the backup's wins.
		for i := range there {
			raw := batch[i].(bson.Raw)
			id := raw.Lookup("_id")
			if _, err := s.c(col).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, raw); err != nil {
				return fmt.Errorf("restore %s: %w", col, err)
			}
		}
		batch, size = batch[:0], 0
		return nil
	}
	for {
		kind, payload, err := readFrame(br)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return rep, invalidf("the backup is incomplete (cut short after %d documents): it was not finished; use an older one", rep.Documents)
		}
		if err != nil {
			return rep, fmt.Errorf("read the backup: %w", err)
		}
		switch kind {
		case frameManifest:
		case frameCollection:
			col, count = string(payload), 0
			if !known[col] {
				return rep, invalidf("the backup has a collection this crm does not know (%s): restore it with the crm that made it", col)
			}
		case frameDocument:
			if col == "" {
				return rep, invalidf("the backup is damaged: a document outside a collection")
			}
			doc := bson.Raw(payload) // readFrame gives each frame its own buffer
			if err := doc.Validate(); err != nil {
				return rep, invalidf("the backup is damaged in %s: %v", col, err)
			}
			batch, size = append(batch, doc), size+len(doc)
			count++
			if len(batch) >= 1000 || size >= 8<<20 {
				if err := flush(); err != nil {
					return rep, err
				}
			}
		case frameEnd:
			var end struct {
				Name      string `json:"name"`
				Documents int64  `json:"documents"`
			}
			if err := json.Unmarshal(payload, &end); err != nil || end.Name != col || end.Documents != count {
				return rep, invalidf("the backup is damaged in %s: %d documents read, %d written", col, count, end.Documents)
			}
			if err := flush(); err != nil {
				return rep, err
			}
			rep.Collections++
			rep.Documents += count
			col = ""
		case frameDone:
			return rep, s.Migrate(ctx)
		default:
			return rep, invalidf("the backup is damaged: unknown frame %q", kind)
		}
	}
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 64<<20 {
		return 0, nil, invalidf("the backup is damaged: a frame of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return hdr[0], b, nil
}
