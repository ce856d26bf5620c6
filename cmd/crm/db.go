package main

import (
	"context"
	"log/slog"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/embedded"
)

// openMigrated opens the store with every collection and index in place: what a
// command needs before it reads or writes anything.
func openMigrated(ctx context.Context, e *env, command string, attach bool) (*store.Store, func(), error) {
	s, closeStore, err := openStore(ctx, e.cfg, e.log, command, attach)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		closeStore()
		return nil, nil, err
	}
	return s, closeStore, nil
}

// openStore connects to MongoDB when CRM_MONGODB_URI is set; otherwise it starts the
// embedded engine on CRM_DATA_DIR, or, when attach is set and another crm process
// already runs it there, uses that process's engine. Everything after this is the
// same code path for both engines.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, command string, attach bool) (*store.Store, func(), error) {
	opts := store.Options{PhoneRegion: cfg.PhoneRegion, Logger: log, Location: cfg.Calendar.Loc, Now: cfg.Now, Monitor: cfg.DBMonitor}
	uri := cfg.MongoURI
	stop := func() {}
	if uri == "" {
		eng, err := embedded.Start(ctx, cfg.DataDir, embedded.Options{Command: command, Attach: attach, Logger: log})
		if err != nil {
			return nil, nil, hint(err, databaseHint(cfg))
		}
		uri, stop = eng.URI(), eng.Close
		opts.AfterCreateCollections = eng.FixIndexes
		if eng.Owned() {
			log.Debug("embedded database started", "dir", eng.DataDir())
		}
	}
	s, err := store.Open(ctx, uri, cfg.Database, opts)
	if err != nil {
		stop()
		return nil, nil, hint(err, databaseHint(cfg))
	}
	return s, func() {
		_ = s.Close(context.WithoutCancel(ctx))
		stop()
	}, nil
}
