package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/embedded"
)

// runBackup is `crm backup FILE`: the whole base, from either engine, while crm serve
// runs.
func runBackup(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{fmt.Errorf("say where: crm backup FILE (e.g. crm-2026-12-03.backup)")}
	}
	rep, err := writeBackup(ctx, e.cfg, e.log, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %d documents of %d collections into %s\n", rep.Documents, rep.Collections, args[0])
	return nil
}

// writeBackup writes a backup to path whole or not at all: into a file beside it,
// synced, then renamed, so that a crash leaves at most that file (removed by the next
// backup) and never half a backup under the final name.
func writeBackup(ctx context.Context, cfg Config, log *slog.Logger, path string) (store.BackupReport, error) {
	var rep store.BackupReport
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeParts(dir, base)
	part, err := os.CreateTemp(dir, base+".part-*")
	if err != nil {
		return rep, fmt.Errorf("cannot write the backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = part.Close()
			_ = os.Remove(part.Name())
		}
	}()
	if err := part.Chmod(0o600); err != nil { // it holds the whole base
		return rep, err
	}
	opts := store.BackupOptions{Version: readBuildInfo().String()}
	if cfg.MongoURI != "" {
		s, closeStore, err := openStore(ctx, cfg, log, "crm backup", true)
		if err != nil {
			return rep, err
		}
		defer closeStore()
		opts.Snapshot = true
		rep, err = s.Backup(ctx, part, opts)
		if err != nil {
			return rep, hint(err, "a consistent backup of MongoDB needs MongoDB 5.0 or later run as a replica set (one node is enough)")
		}
	} else if rep, err = backupEmbedded(ctx, cfg, log, part, opts); err != nil {
		return rep, err
	}
	if err := part.Sync(); err != nil {
		return rep, fmt.Errorf("cannot write the backup: %w", err)
	}
	if err := part.Close(); err != nil {
		return rep, fmt.Errorf("cannot write the backup: %w", err)
	}
	if err := os.Rename(part.Name(), path); err != nil {
		return rep, fmt.Errorf("cannot write the backup: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // the rename itself survives a power cut
		_ = d.Sync()
		_ = d.Close()
	}
	return rep, nil
}

// backupEmbedded dumps a copy of the embedded engine's database taken at one moment,
// through an engine of its own on the copy: the owner (crm serve) goes on meanwhile.
func backupEmbedded(ctx context.Context, cfg Config, log *slog.Logger, part *os.File, opts store.BackupOptions) (store.BackupReport, error) {
	var rep store.BackupReport
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return rep, err
	}
	snap, err := os.MkdirTemp(cfg.DataDir, ".backup-")
	if err != nil {
		return rep, fmt.Errorf("cannot copy the database: %w", err)
	}
	defer os.RemoveAll(snap)
	if err := embedded.Snapshot(ctx, cfg.DataDir, cfg.Database, snap); err != nil {
		return rep, err
	}
	eng, err := embedded.Start(ctx, snap, embedded.Options{Command: "crm backup", Logger: log})
	if err != nil {
		return rep, err
	}
	defer eng.Close()
	s, err := store.Open(ctx, eng.URI(), cfg.Database, store.Options{Logger: log, Now: cfg.Now})
	if err != nil {
		return rep, err
	}
	defer s.Close(context.WithoutCancel(ctx))
	return s.Backup(ctx, part, opts)
}

// removeParts removes what backups to base that stopped half-way left in dir.
func removeParts(dir, base string) {
	parts, _ := filepath.Glob(filepath.Join(dir, base+".part-*"))
	for _, p := range parts {
		_ = os.Remove(p)
	}
}

// runRestore is `crm restore FILE`: a backup into an empty database of either engine
// (CRM_MONGODB_URI set: MongoDB; otherwise the data directory's engine).
func runRestore(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{fmt.Errorf("say which backup: crm restore FILE")}
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("cannot read the backup: %w", err)
	}
	defer f.Close()
	s, closeStore, err := openStore(ctx, e.cfg, e.log, "crm restore", false)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := s.Restore(ctx, f)
	if errors.Is(err, store.ErrNotEmpty) {
		return hint(err, "crm restore fills an empty database only; to replace a base, restore into a new one and point crm at it")
	}
	if err != nil {
		return err
	}
	// A backup taken while crm ran holds what a crash at that moment would leave:
	// the start-up repairs mend it, as they would after the crash.
	keys, err := s.RepairKeys(ctx)
	if err != nil {
		return err
	}
	for _, r := range []func(context.Context) (int, error){s.RepairOrders, s.RepairTaskRefs, s.ResumeHandovers} {
		if _, err := r(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "restored %d documents of %d collections; keys: %d stale removed, %d missing created\n",
		rep.Documents, rep.Collections, keys.StaleRemoved, keys.MissingCreated)
	return nil
}

// pruneBackups keeps the newest keep backups in dir named by nightlyName.
func pruneBackups(dir string, keep int) error {
	names, err := filepath.Glob(filepath.Join(dir, nightlyPrefix+"*"+nightlySuffix))
	if err != nil {
		return err
	}
	sort.Strings(names) // the date in the name sorts them by age
	for len(names) > keep {
		if err := os.Remove(names[0]); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}

const (
	nightlyPrefix = "crm-"
	nightlySuffix = ".backup"
)

// nightlyName names the night's backup by the company's date.
func nightlyName(at time.Time) string {
	return nightlyPrefix + at.Format("2006-01-02") + nightlySuffix
}
