package bench_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// BenchmarkChatDuringImport measures what managers wait for while the client
// directory catches up: 50 managers chat through the real Telegram transport and the
// in-process Bot API server (tgtest), with Telegram's own limits (30 messages a
// second, 1 a chat), on 10,000 clients, while csvio.Import (the code of crm import)
// adds CRM_BENCH_IMPORT rows (default 10,000) through a second connection to the same
// database, as crm import attached to crm serve's engine does. Each manager sends an
// update (a phone, a name, /today, /tasks, /clients or /help), waits for the first
// message of its reply, and pauses 1.5-2.5 s, so that the limits are not what is
// measured. Each of b.N rounds imports new clients. It reports the time from an update
// pushed to its first reply for the updates sent while an import ran: p50, p99 and
// the largest, with how many there were; the longest import, the longest it took
// after an import for the directory to have its last client, and the most it was
// behind the change log when a reply was sent (DirectoryState).
//
//	go test -run '^$' -bench ChatDuringImport -benchtime 5x -timeout 30m ./bench/
func BenchmarkChatDuringImport(b *testing.B) {
	const clients, managers = 10_000, 50
	rows := envInt("CRM_BENCH_IMPORT", 10_000)
	base := storetest.Seed(b, clients, managers)
	ctx := context.Background()
	if err := base.Store.Directory().Sync(ctx); err != nil { // loaded, as serve has it a while after its start
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "import.csv")
	core, err := bot.New(base.Store, bot.Options{Texts: templates.FS})
	if err != nil {
		b.Fatal(err)
	}
	srv := tgtest.New(b)
	tr, err := telegram.New(tgtest.Token, telegram.Options{APIURL: srv.URL(), PollTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(runCtx, core) }()
	defer func() { stop(); <-done }()

	b.ResetTimer()
	b.StopTimer()
	var during []time.Duration
	var lag time.Duration // the most the directory was behind, as the bot saw it
	var took, after []float64
	for range b.N {
		// Each round imports new clients, numbered on from those there are.
		all, err := base.Store.ReportClients(ctx)
		if err != nil {
			b.Fatal(err)
		}
		first := len(all) - clients
		if err := writeImport(path, first, rows); err != nil {
			b.Fatal(err)
		}
		// A second connection, as crm import has.
		importer, err := store.Open(ctx, storetest.Engine(b).URI(), fmt.Sprintf("seed_%d_%d", clients, managers), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var (
			mu        sync.Mutex
			importing bool
			quit      = make(chan struct{})
			wg        sync.WaitGroup
		)
		for m := range managers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				chat := base.Managers[m].TelegramID
				rnd := rand.New(rand.NewPCG(uint64(m), uint64(first)))
				for k := 0; ; k++ {
					select {
					case <-quit:
						return
					case <-time.After(time.Duration(1500+rnd.IntN(1000)) * time.Millisecond):
					}
					j := rnd.IntN(clients)
					text := []string{base.Phones[j], base.Names[j], "/today", base.Phones[j], "/tasks", base.Names[j], "/clients", "/help"}[k%8]
					mu.Lock()
					counted := importing
					mu.Unlock()
					sent := time.Now()
					srv.SendText(chat, text)
					if _, ok := srv.TryNext(chat, 5*time.Minute); !ok {
						b.Errorf("manager %d: no reply to %q", m, text)
						return
					}
					if counted {
						latency := time.Since(sent)
						behind := base.Store.DirectoryState().Behind
						mu.Lock()
						during = append(during, latency)
						lag = max(lag, behind)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(3 * time.Second) // every manager chatting
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		importing = true
		mu.Unlock()
		b.StartTimer()
		started := time.Now()
		rep, err := csvio.Import(ctx, importer, "bench", f, csvio.ImportOptions{})
		took = append(took, time.Since(started).Seconds())
		b.StopTimer()
		f.Close()
		mu.Lock()
		importing = false
		mu.Unlock()
		if err != nil || rep.Created != rows {
			b.Fatalf("import: %v %s", err, rep)
		}
		// How long after the import the directory had its last client, searched for
		// by name as a manager would.
		last := fmt.Sprintf("Импорт %d", first+rows-1)
		for {
			res, err := base.Store.Search(ctx, store.Viewer{Role: store.RoleAdmin}, last, 1)
			if err != nil {
				b.Fatal(err)
			}
			if len(res) == 1 && res[0].Name == last {
				after = append(after, time.Since(started).Seconds()-took[len(took)-1])
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		close(quit)
		wg.Wait()
		_ = importer.Close(ctx)
	}
	slices.Sort(during)
	if len(during) == 0 {
		b.Fatal("no update was answered during the imports")
	}
	pct := func(p float64) float64 {
		return during[min(len(during)-1, int(p*float64(len(during))))].Seconds() * 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(during[len(during)-1].Seconds()*1000, "max-ms")
	b.ReportMetric(float64(len(during)), "updates")
	b.ReportMetric(slices.Max(took), "import-max-s")
	b.ReportMetric(slices.Max(after), "dir-after-max-s")
	b.ReportMetric(lag.Seconds(), "behind-max-s")
}

// writeImport writes n new clients numbered from first: name, INN, phone and e-mail
// each their own.
func writeImport(path string, first, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString("name;inn;city;contact_name;contact_phone;contact_email\r\n")
	for k := first; k < first+n; k++ {
		fmt.Fprintf(w, "Импорт %d;%s;Казань;Контакт %d;+7 925 %07d;c%d@import%d.ru\r\n", k, innOf(k), k, k, k, k)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// innOf makes the k-th organisation INN: "78", seven digits of k, the control digit.
func innOf(k int) string {
	d := []byte(fmt.Sprintf("78%07d", k))
	sum := 0
	for i, w := range []int{2, 4, 10, 3, 5, 9, 4, 6, 8} {
		sum += w * int(d[i]-'0')
	}
	return string(d) + fmt.Sprint(sum%11%10)
}
