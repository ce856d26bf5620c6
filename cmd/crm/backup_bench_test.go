package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBackupRestore times crm backup and crm restore, each run as a process of
// its own as an admin runs it, of a base of CRM_BENCH_CLIENTS clients (default
// 100,000), each found by its INN and with a paid or invoiced order and its history
// (made by crm import and crm import orders), on the embedded engine: the backup
// includes the copy at one moment, the restore (into a new data directory) the
// repairs. Peak memory is each process's own (VmHWM).
//
//	CRM_BENCH_CLIENTS=100000 go test -run '^$' -bench BackupRestore -benchtime 1x -timeout 60m ./cmd/crm/
func BenchmarkBackupRestore(b *testing.B) {
	n := benchEnv("CRM_BENCH_CLIENTS", 100_000)
	dir := b.TempDir()
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "data"), "CRM_LOG_LEVEL": "error"}
	clients, orders := filepath.Join(dir, "clients.csv"), filepath.Join(dir, "orders.xlsx")
	if err := writeINNClients(clients, n); err != nil {
		b.Fatal(err)
	}
	if err := writeOrderBook(orders, n, n); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for _, args := range [][]string{{"import", clients}, {"import", "orders", orders}} {
		if r := runBench(ctx, vars, args...); r.code != 0 {
			b.Fatalf("%v: %+v", args, r)
		}
	}
	b.Logf("made a base of %d clients and orders in %v", n, time.Since(t0).Round(time.Second))
	b.ResetTimer()
	for i := range b.N {
		file := filepath.Join(dir, "base.backup")
		took, peak, out := crmProcess(b, vars, "backup", file)
		fi, err := os.Stat(file)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(took.Seconds(), "s-backup")
		b.ReportMetric(peak, "peak-RSS-MB-backup")
		into := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "restored"), "CRM_LOG_LEVEL": "error"}
		tookR, peakR, outR := crmProcess(b, into, "restore", file)
		b.ReportMetric(tookR.Seconds(), "s-restore")
		b.ReportMetric(peakR, "peak-RSS-MB-restore")
		b.Logf("run %d: %s (%.1f MB) in %v, peak RSS %.0f MB; %s in %v, peak RSS %.0f MB", i+1,
			strings.TrimSpace(out), float64(fi.Size())/1e6, took.Round(time.Millisecond), peak,
			strings.TrimSpace(outR), tookR.Round(time.Millisecond), peakR)
		if err := os.RemoveAll(into["CRM_DATA_DIR"]); err != nil {
			b.Fatal(err)
		}
	}
}

// crmProcess runs a crm command in a process of its own and says how long it took
// and its peak resident memory in MB: the process's VmHWM, read every 20 ms while it
// runs (the rusage of a child Go starts counts the parent's pages from before exec).
func crmProcess(b *testing.B, vars map[string]string, args ...string) (time.Duration, float64, string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), asCRMEnv + "=" + testNow().Format(time.RFC3339Nano)}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	peak := 0.0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("crm %v: %v\n%s", args, err, out.String())
			}
			return time.Since(t0), peak, out.String()
		case <-tick.C:
			if mb := vmHWM(status); mb > peak {
				peak = mb
			}
		}
	}
}

// vmHWM reads a process's peak resident memory in MB from its status file.
func vmHWM(status string) float64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
