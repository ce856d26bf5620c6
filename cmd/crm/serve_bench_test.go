package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot/telegram/tgtest"
)

// BenchmarkColdStart measures crm serve's start on a base of CRM_BENCH_CLIENTS clients
// (default 100,000) on the embedded engine, as a manager sees it: /help waits at the
// Bot API (tgtest) when serve starts, and the benchmark reports how long after the
// start its reply came, then how long a phone and a name typed a second apart took to
// be answered, and how long after the start a name search first found its client
// (the client directory loaded). The base is made once by crm import of a generated file (about a minute
// at 100,000) in CRM_BENCH_DIR, kept there for the next run, or in a temporary
// directory.
//
//	CRM_BENCH_DIR=/tmp/crm-cold go test -run '^$' -bench ColdStart -benchtime 3x -timeout 30m ./cmd/crm/
func BenchmarkColdStart(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CRM_BENCH_CLIENTS")); err == nil && v > 0 {
		n = v
	}
	dir := os.Getenv("CRM_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	dir = filepath.Join(dir, fmt.Sprintf("clients-%d", n))
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": dir, "CRM_LOG_LEVEL": "error"}
	const tg = 501
	if _, err := os.Stat(filepath.Join(dir, "seeded")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		file := filepath.Join(b.TempDir(), "clients.csv")
		if err := writeColdBase(file, n); err != nil {
			b.Fatal(err)
		}
		for _, args := range [][]string{{"import", file}, {"manager", "add", "--name", "Анна", "--role", "admin", "--telegram-id", strconv.Itoa(tg)}} {
			var out, errb strings.Builder
			if code := run(ctx, args, func(k string) string { return vars[k] }, testNow, strings.NewReader(""), &out, &errb); code != 0 {
				b.Fatalf("crm %s: %d\n%s", args[0], code, errb.String())
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "seeded"), nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	j := n / 2
	phone, name := fmt.Sprintf("+7916%07d", j), fmt.Sprintf("Холодный %d", j)
	var help, byPhone, byName, loaded []float64
	for range b.N {
		srv := tgtest.New(b)
		vars := map[string]string{"CRM_DATA_DIR": dir, "CRM_LOG_LEVEL": "error", "CRM_HTTP_ADDR": freeAddr(b),
			"CRM_TELEGRAM_TOKEN": tgtest.Token, "CRM_TELEGRAM_API_URL": srv.URL()}
		srv.SendText(tg, "/help")
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan int, 1)
		var errb lockedBuffer
		start := time.Now()
		go func() {
			done <- run(runCtx, []string{"serve"}, func(k string) string { return vars[k] }, testNow, strings.NewReader(""), &errb, &errb)
		}()
		reply := func(text string) (string, float64) {
			if text != "" {
				// As a person types: a chat gets a message a second (Telegram's limit),
				// which the transport keeps to.
				time.Sleep(1100 * time.Millisecond)
			}
			t0 := time.Now()
			if text != "" {
				srv.SendText(tg, text)
			}
			c, ok := srv.TryNext(tg, 5*time.Minute)
			if !ok {
				b.Fatalf("no reply to %q; serve's log:\n%s", text, errb.String())
			}
			return c.Text, time.Since(t0).Seconds()
		}
		if got, _ := reply(""); !strings.Contains(got, "/new") {
			b.Fatalf("/help: %q", got)
		}
		help = append(help, time.Since(start).Seconds())
		got, took := reply(phone)
		if !strings.Contains(got, name) {
			b.Fatalf("the phone: %q", got)
		}
		byPhone = append(byPhone, took)
		_, took = reply(name)
		byName = append(byName, took)
		for {
			got, _ := reply(name)
			if strings.Contains(got, name) && !strings.Contains(got, "загружается") {
				loaded = append(loaded, time.Since(start).Seconds())
				break
			}
		}
		stop()
		if code := <-done; code != 0 {
			b.Fatalf("serve exited with %d:\n%s", code, errb.String())
		}
		srv.Close()
	}
	b.ReportMetric(median(help), "help-s")
	b.ReportMetric(median(byPhone)*1000, "phone-ms")
	b.ReportMetric(median(byName)*1000, "name-ms")
	b.ReportMetric(median(loaded), "names-s")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// writeColdBase writes n clients, each with a contact with a phone.
func writeColdBase(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString("name;city;contact_name;contact_phone\r\n")
	for i := range n {
		fmt.Fprintf(w, "Холодный %d;Москва;Контакт %d;+7 916 %07d\r\n", i, i, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
