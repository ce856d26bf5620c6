package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// backupBase is a data directory with n clients imported, found by their INN.
func backupBase(t *testing.T, n int) (map[string]string, string) {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "data"), "CRM_LOG_LEVEL": "error"}
	clients := filepath.Join(dir, "clients.csv")
	if err := writeINNClients(clients, n); err != nil {
		t.Fatal(err)
	}
	if r := runBench(context.Background(), vars, "import", clients); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	return vars, dir
}

func configOf(t *testing.T, vars map[string]string) Config {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = testNow
	return cfg
}

// A backup taken while clients, history and orders are written restores, into a
// new data directory, to a base whose keys, timelines and order totals agree.
func TestBackupTakenDuringWritesRestoresWhole(t *testing.T) {
	ctx := context.Background()
	vars, dir := backupBase(t, 200)
	cfg := configOf(t, vars)
	log := slog.New(slog.DiscardHandler)
	s, closeStore, err := openStore(ctx, cfg, log, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := s.EachClient(ctx, func(c *store.Client) error { ids = append(ids, c.ID); return nil }); err != nil {
		t.Fatal(err)
	}

	// A writer adds clients, history entries and paid orders until the backup is done.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var wrote atomic.Int64
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			id := ids[i%len(ids)]
			if _, err := s.AppendInteraction(ctx, id, store.Interaction{Kind: store.InteractionNote, Text: fmt.Sprintf("заметка %d", i)}); err != nil {
				t.Error(err)
				return
			}
			if err := s.CreateOrder(ctx, "test", &store.Order{ClientID: id, Amount: 100_00, State: store.OrderPaid}); err != nil {
				t.Error(err)
				return
			}
			c := &store.Client{Name: fmt.Sprintf("Новый %d", i), Phones: []string{fmt.Sprintf("+7925%07d", i)}}
			if err := s.CreateClient(ctx, "test", c); err != nil {
				t.Error(err)
				return
			}
			wrote.Add(1)
		}
	})
	for wrote.Load() < 5 { // the backup starts amid the writes
		time.Sleep(time.Millisecond)
	}
	file := filepath.Join(dir, "base.backup")
	rep, err := writeBackup(ctx, cfg, log, file)
	stop.Store(true)
	wg.Wait()
	closeStore()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Documents == 0 {
		t.Fatal("an empty backup")
	}

	into := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "restored"), "CRM_LOG_LEVEL": "error"}
	if r := runBench(ctx, into, "restore", file); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("restored %d documents", rep.Documents)) {
		t.Fatalf("restore: %+v (backed up %d)", r, rep.Documents)
	}
	r, closeRestored, err := openStore(ctx, configOf(t, into), log, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRestored()
	n := 0
	err = r.EachClient(ctx, func(c *store.Client) error {
		n++
		// Its keys find it.
		for _, p := range c.Phones {
			hit, err := r.FindByPhone(ctx, p)
			if err != nil || hit == nil || hit.Client.ID != c.ID {
				return fmt.Errorf("%s by %s: %+v %v", c.Name, p, hit, err)
			}
		}
		if c.Legal.INN != "" {
			if hit, err := r.FindByINN(ctx, c.Legal.INN); err != nil || hit == nil || hit.Client.ID != c.ID {
				return fmt.Errorf("%s by INN: %+v %v", c.Name, hit, err)
			}
		}
		// Its timeline is numbered once, within its counter.
		items, _, err := r.Timeline(ctx, c.ID, 0, 200)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, it := range items {
			if it.Seq > c.TimelineSeq || seen[it.Seq] {
				return fmt.Errorf("%s: entry %d of %d, or twice", c.Name, it.Seq, c.TimelineSeq)
			}
			seen[it.Seq] = true
		}
		// Its totals are its paid orders.
		money, err := r.ClientMoney(ctx, c.ID)
		if err != nil {
			return err
		}
		if money.PaidOrders != c.OrdersCount {
			return fmt.Errorf("%s: %d paid orders, the card says %d", c.Name, money.PaidOrders, c.OrdersCount)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 200 {
		t.Fatalf("%d clients restored", n)
	}
	if rep, err := r.RepairKeys(ctx); err != nil || rep != (store.RepairReport{}) {
		t.Fatalf("keys still to repair after the restore: %+v %v", rep, err)
	}
}

// A restore never lands on a base in use, and a backup cut short is refused.
func TestRestoreRefusesABaseInUseAndACutBackup(t *testing.T) {
	ctx := context.Background()
	vars, dir := backupBase(t, 20)
	file := filepath.Join(dir, "base.backup")
	if r := runBench(ctx, vars, "backup", file); r.code != 0 {
		t.Fatalf("backup: %+v", r)
	}
	if r := runBench(ctx, vars, "restore", file); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("restore into the base itself: %+v", r)
	}
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.backup")
	if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	into := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "restored"), "CRM_LOG_LEVEL": "error"}
	if r := runBench(ctx, into, "restore", cut); r.code == 0 || !strings.Contains(r.stderr, "incomplete") {
		t.Fatalf("restore of a cut backup: %+v", r)
	}
	if r := runBench(ctx, map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "other"), "CRM_LOG_LEVEL": "error"}, "restore", file); r.code != 0 {
		t.Fatalf("restore into a new directory: %+v", r)
	}
}

// A backup killed half-way leaves the previous one as it was and no file under the
// name it was writing; the next backup clears what it left.
func TestBackupKilledHalfWayLeavesNoHalfFile(t *testing.T) {
	ctx := context.Background()
	vars, dir := backupBase(t, 3000)
	file := filepath.Join(dir, "nightly.backup")
	if r := runBench(ctx, vars, "backup", file); r.code != 0 {
		t.Fatalf("first backup: %+v", r)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "next.backup")
	cmd := exec.Command(os.Args[0], "backup", next)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), asCRMEnv + "=" + testNow().Format(time.RFC3339Nano)}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed once it has begun writing.
	var part string
	for part == "" {
		if _, err := os.Stat(next); err == nil {
			t.Fatal("the backup finished before it could be killed: give it a larger base")
		}
		parts, _ := filepath.Glob(next + ".part-*")
		if len(parts) == 1 {
			if fi, err := os.Stat(parts[0]); err == nil && fi.Size() > 0 {
				part = parts[0]
			}
		}
		time.Sleep(time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(next); err == nil {
		t.Fatal("a killed backup left a file under its name")
	}
	if after, err := os.ReadFile(file); err != nil || string(after) != string(before) {
		t.Fatalf("the previous backup changed: %v", err)
	}
	if r := runBench(ctx, vars, "backup", next); r.code != 0 {
		t.Fatalf("the next backup: %+v", r)
	}
	if _, err := os.Stat(part); err == nil {
		t.Fatalf("the killed backup's %s is still there", part)
	}
	into := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "restored"), "CRM_LOG_LEVEL": "error"}
	if r := runBench(ctx, into, "restore", next); r.code != 0 || !strings.Contains(r.stdout, "restored") {
		t.Fatalf("restore: %+v", r)
	}
}

func TestNightlyBackupsKeepTheNewest(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(dir, nightlyName(day.AddDate(0, 0, i))), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := pruneBackups(dir, 3); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var names []string
	for _, l := range left {
		names = append(names, filepath.Base(l))
	}
	if strings.Join(names, " ") != "crm-2026-11-03.backup crm-2026-11-04.backup crm-2026-11-05.backup notes.txt" {
		t.Fatalf("left: %v", names)
	}
}
