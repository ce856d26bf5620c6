package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/web"
)

func runServe(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("serve takes no arguments; configure it with CRM_* variables")}
	}
	e.metrics = newServeMetrics(e.cfg.Now, e.log)
	e.cfg.DBMonitor = e.metrics.dbMonitor()
	s, closeStore, err := openMigrated(ctx, e, "crm serve", false)
	if err != nil {
		return err
	}
	defer closeStore()
	e.metrics.watchDirectory(s)
	go func() {
		// Load the search directory in the background: until it is loaded, searches
		// find clients by phone, e-mail and INN, and say the names are loading. The
		// repairs, which read whole collections too, wait for it.
		if err := s.Directory().Sync(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("load the client directory", "err", err)
		}
		go repairKeys(ctx, e, s)
		go repairAtStart(ctx, e, "task copies repair", s.RepairTaskRefs)
		go repairAtStart(ctx, e, "finishing interrupted handovers", s.ResumeHandovers)
		go repairAtStart(ctx, e, "finishing interrupted order changes", s.RepairOrders)
		go repairAtStart(ctx, e, "copying stage moves for reports", s.BackfillStageMoves)
		go repairAtStart(ctx, e, "counting past activity for reports", s.BackfillActivity)
		go repairAtStart(ctx, e, "indexing the senders of unsorted letters", s.BackfillWaitingIndex)
		go repairAtStart(ctx, e, "removing expired web sign-ins", s.PruneWeb)
	}()

	ln, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on CRM_HTTP_ADDR=%s (is another crm running? choose another port): %w", e.cfg.HTTPAddr, err)
	}
	ready := &readiness{}
	ready.add("database", databaseReady(s, e.log))
	mux := healthHandler(ready)
	mux.Handle("GET /metrics", e.metrics.handler())
	unsub, err := newUnsubscriber(e, s)
	if err != nil {
		ln.Close()
		return err
	}
	if unsub != nil {
		mux.Handle(campaign.UnsubscribePath, unsub)
	}
	given := &botGiven{}
	webApp, webLinks, closeWeb, err := newWeb(e, s, given)
	if err != nil {
		ln.Close()
		return fmt.Errorf("web workspace: %w", err)
	}
	defer closeWeb()
	mux.Handle(web.Prefix+"/", webApp)
	core, link, err := startBot(ctx, e, s, mux, webLinks)
	if err != nil {
		ln.Close()
		return fmt.Errorf("Telegram bot: %w", err)
	}
	given.core.Store(core)
	if link != nil {
		ready.add("telegram bot", link.status)
	} else {
		ready.add("telegram bot", off("set CRM_TELEGRAM_TOKEN to run it"))
	}
	ready.add("mailboxes", startMail(ctx, e, s, core, link))
	smtpPool, scheduled, err := startScheduler(ctx, e, s, core, link)
	if err != nil {
		ln.Close()
		return fmt.Errorf("scheduler: %w", err)
	}
	if smtpPool != nil {
		defer smtpPool.Close()
		ready.add("mail sending", func(context.Context) (bool, string) {
			return true, "on (" + e.cfg.SMTP.Host + "; the server is tried when a letter goes out)"
		})
	} else {
		ready.add("mail sending", off("set CRM_SMTP_HOST to send greetings and mailings"))
	}
	ready.add("scheduler", stoppedCheck(scheduled))
	srv := newHTTPServer(mux, serveTimeouts())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	e.log.Info("crm is running", "http", ln.Addr().String(), "database", describeDB(e.cfg))

	select {
	case <-ctx.Done():
		e.log.Info("stopping")
	case err := <-served:
		return fmt.Errorf("HTTP listener stopped: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		e.log.Warn("HTTP shutdown", "err", err)
	}
	select { // messages under way are finished and recorded before the store closes
	case <-scheduled:
	case <-shutdownCtx.Done():
		e.log.Warn("the scheduler did not stop in time")
	}
	if link != nil {
		select { // the bot's queued replies are sent, or kept for the next start
		case <-link.stopped:
		case <-shutdownCtx.Done():
			e.log.Warn("the Telegram bot did not stop in time")
		}
	}
	e.log.Info("stopped cleanly")
	return nil
}

// repairKeys runs the key repair once at start: it mends what a crash between writes
// may have left (see store.RepairKeys).
func repairKeys(ctx context.Context, e *env, s *store.Store) {
	rep, err := s.RepairKeys(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Warn("key repair failed; it runs again at the next start", "err", err)
	case rep != store.RepairReport{}:
		e.log.Info("keys repaired", "stale_removed", rep.StaleRemoved, "missing_created", rep.MissingCreated, "conflicts", rep.Conflicts)
	}
}

// repairAtStart runs a repair that counts what it did once at start: RepairTaskRefs
// rebuilds the copies of open tasks on cards and agendas, ResumeHandovers finishes
// giving a leaving manager's clients and tasks away, BackfillStageMoves and
// BackfillActivity copy for reports what an older version kept in the timelines only,
// BackfillWaitingIndex indexes the senders of letters an older version left in /inbox,
// PruneWeb removes expired web sign-in links and sessions.
// A failed one runs again at the next start.
func repairAtStart(ctx context.Context, e *env, what string, repair func(context.Context) (int, error)) {
	n, err := repair(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		e.log.Warn(what+" failed; it runs again at the next start", "err", err)
	case n > 0:
		e.log.Info(what+" done", "count", n)
	}
}

func describeDB(cfg Config) string {
	if cfg.MongoURI != "" {
		return "MongoDB (CRM_MONGODB_URI)"
	}
	return "embedded, " + cfg.DataDir
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("migrate takes no arguments")}
	}
	s, closeStore, err := openMigrated(ctx, e, "crm migrate", true)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := s.RepairKeys(ctx)
	if err != nil {
		return err
	}
	moves, err := s.BackfillStageMoves(ctx)
	if err != nil {
		return err
	}
	events, err := s.BackfillActivity(ctx)
	if err != nil {
		return err
	}
	waiting, err := s.BackfillWaitingIndex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "migrated: %d collections with their indexes; keys: %d stale removed, %d missing created, %d conflicts; "+
		"copied for reports: %d stage moves, %d past events; unsorted letters indexed by sender: %d\n",
		len(store.Collections()), rep.StaleRemoved, rep.MissingCreated, rep.Conflicts, moves, events, waiting)
	return nil
}
