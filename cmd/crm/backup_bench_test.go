package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkBackupRestore times crm backup of a base of CRM_BENCH_CLIENTS clients
// (default 100,000), each with a contact, a phone and five history entries, on the
// embedded engine (the copy at one moment included), and crm restore of the file
// into a new data directory (the repairs included), with the process's peak resident
// memory during each (the engines run in this process).
//
//	CRM_BENCH_CLIENTS=100000 go test -run '^$' -bench BackupRestore -benchtime 1x -timeout 60m ./cmd/crm/
func BenchmarkBackupRestore(b *testing.B) {
	procmem.LimitByDefault(os.Getenv) // as crm does
	n := benchEnv("CRM_BENCH_CLIENTS", 100_000)
	seedStart := time.Now()
	base := storetest.Seed(b, n, 20)
	b.Logf("seeded %d clients in %v", n, time.Since(seedStart).Round(time.Second))
	eng := storetest.Engine(b)
	dir := b.TempDir()
	ctx := context.Background()
	cfg := Config{DataDir: eng.DataDir(), Database: base.Database, Now: testNow}
	log := slog.New(slog.DiscardHandler)
	b.ResetTimer()
	for i := range b.N {
		file := filepath.Join(dir, "base.backup")
		procmem.Settle()
		t0 := time.Now()
		rep, err := writeBackup(ctx, cfg, log, file)
		took := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		peak := procmem.PeakMB()
		fi, _ := os.Stat(file)
		b.ReportMetric(took.Seconds(), "s-backup")
		b.ReportMetric(peak, "peak-RSS-MB-backup")

		into := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "restored"), "CRM_LOG_LEVEL": "error"}
		procmem.Settle()
		t1 := time.Now()
		r := runBench(ctx, into, "restore", file)
		tookR := time.Since(t1)
		if r.code != 0 || !strings.Contains(r.stdout, "restored") {
			b.Fatalf("restore: %+v", r)
		}
		peakR := procmem.PeakMB()
		b.ReportMetric(tookR.Seconds(), "s-restore")
		b.ReportMetric(peakR, "peak-RSS-MB-restore")
		b.Logf("run %d: backup of %d documents (%.1f MB) in %v, peak RSS %.0f MB; restore in %v, peak RSS %.0f MB",
			i+1, rep.Documents, float64(fi.Size())/1e6, took.Round(time.Millisecond), peak, tookR.Round(time.Millisecond), peakR)
		if err := os.RemoveAll(filepath.Join(dir, "restored")); err != nil {
			b.Fatal(err)
		}
	}
}
