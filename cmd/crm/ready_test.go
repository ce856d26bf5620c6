package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crm-team/crm/store/storetest"
)

// /readyz says the database does not answer in plain words; the driver's error goes to
// the log only.
func TestReadyzKeepsTheDriversErrorInTheLog(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	var logged bytes.Buffer
	ready := &readiness{}
	ready.add("database", databaseReady(s, slog.New(slog.NewTextHandler(&logged, nil))))
	ready.add("telegram bot", off("set CRM_TELEGRAM_TOKEN to run it"))
	h := healthHandler(ready)
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := readyz(); code != http.StatusOK || body != "ready\ndatabase: ok\ntelegram bot: off (set CRM_TELEGRAM_TOKEN to run it)\n" {
		t.Fatalf("readyz: %d %q", code, body)
	}

	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	perr := s.Ping(ctx)
	driver := errors.Unwrap(perr)
	if driver == nil {
		t.Fatalf("ping of a closed store: %v", perr)
	}
	code, body := readyz()
	if code != http.StatusServiceUnavailable || body != "not ready\ndatabase: not ready — the database does not answer (crm's log says why)\n"+
		"telegram bot: off (set CRM_TELEGRAM_TOKEN to run it)\n" {
		t.Fatalf("readyz on a closed store: %d %q", code, body)
	}
	if !strings.Contains(logged.String(), driver.Error()) {
		t.Fatalf("the driver's error %q is not in the log:\n%s", driver, logged.String())
	}
}
