package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// httpTimeouts bound how long one client may hold the listener: headers or a body
// trickling in, a slow reader of the answer, a kept-alive connection left idle.
type httpTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// serveTimeouts are crm serve's: its requests are small (a webhook update of at most
// 1 MB, an unsubscribe form, a health check) and a webhook update is answered after
// the bot handled it, which a report can make take seconds.
func serveTimeouts() httpTimeouts {
	return httpTimeouts{readHeader: 5 * time.Second, read: 30 * time.Second, write: time.Minute, idle: 2 * time.Minute}
}

// newHTTPServer builds crm serve's HTTP server.
func newHTTPServer(h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.readHeader, ReadTimeout: t.read, WriteTimeout: t.write,
		IdleTimeout: t.idle}
}

// readyCheck tells whether a part of crm serve is ready, and how it is in plain words
// ("ok", "off (…)", "not ready — …").
type readyCheck func(ctx context.Context) (ready bool, words string)

// readiness answers /readyz: a line a part, and 200 only when every part is ready
// (a part that is off is). Parts are added before the listener starts.
type readiness struct {
	parts []readyPart
}

type readyPart struct {
	name  string
	check readyCheck
}

func (r *readiness) add(name string, check readyCheck) {
	r.parts = append(r.parts, readyPart{name, check})
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	all := true
	var lines strings.Builder
	for _, p := range r.parts {
		ok, words := p.check(ctx)
		all = all && ok
		fmt.Fprintf(&lines, "%s: %s\n", p.name, words)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !all {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "not ready\n", lines.String())
		return
	}
	fmt.Fprint(w, "ready\n", lines.String())
}

// off is a part that is not configured: ready, since nothing waits for it.
func off(how string) readyCheck {
	return func(context.Context) (bool, string) { return true, "off (" + how + ")" }
}

// databaseReady pings the database. The driver's error goes to the log: it is for
// the operator, not for whoever can reach /readyz.
func databaseReady(s *store.Store, log *slog.Logger) readyCheck {
	return func(ctx context.Context) (bool, string) {
		if err := s.Ping(ctx); err != nil {
			log.Warn("readyz: the database does not answer", "err", err)
			return false, "not ready — the database does not answer (crm's log says why)"
		}
		return true, "ok"
	}
}

// stoppedCheck reports a part that runs for serve's whole life: ready until done is
// closed (it stopped, and logged why).
func stoppedCheck(done <-chan struct{}) readyCheck {
	return func(context.Context) (bool, string) {
		select {
		case <-done:
			return false, "not ready — it stopped (crm's log says why)"
		default:
			return true, "ok"
		}
	}
}

// healthHandler serves /healthz (the process runs) and /readyz (see readiness).
func healthHandler(ready *readiness) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	return mux
}
