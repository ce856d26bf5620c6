// Package bench holds benchmarks that join packages the way cmd/crm does (the
// campaign runner sending through mail's SMTP pool), without running the binary.
package bench_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) {
	smtptest.ServeChildIfAsked()
	storetest.Main(m)
}

// BenchmarkCampaign sends a personalised campaign to CRM_BENCH_RECIPIENTS recipients
// (default 20,000) through a go-smtp server on loopback that accepts everything (in a
// process of its own, as a mail server is, so the CPU time and memory measured are
// the sender's), with 1, 4 and 16 SMTP connections (CRM_BENCH_CONNS, e.g. "16"), and
// after each campaign a bare loop that sends the same letters, rendered beforehand,
// with go-mail over the same pool. Each connection count runs CRM_BENCH_ROUNDS
// campaigns (default 5: single rounds vary by ten points) each followed by its bare
// loop, and reports the medians.
//
// A campaign is timed end to end, as a person sees it: from the call of start (which
// returns at once, preparing) to the last letter accepted by the server, while a
// runner, looking for work all along as crm serve does, reads the segment, renders
// and queues the letters and sends them. Reported: messages a second for the campaign
// and the bare loop and their ratio, the CPU time a message, how long start took to
// return and the first letter to arrive, the time from the last letter to the
// campaign done (its "mailing sent" history lines written, shown on the cards;
// CRM_BENCH_TIMELINE=0 leaves them unwritten) and to the lines numbered into the
// timelines, as the history job does after the done, and the process's resident memory at rest and at its peak
// during the campaign (the database's engine runs in this process too, and the
// client directory that crm serve loads at start, from which the segment is read;
// storetest loads it while the database is empty, so it holds the seeded clients
// whatever CRM_BENCH_DIRECTORY says: =0 only leaves it behind the change log).
// CRM_BENCH_BARE=0 skips the bare loop (it holds every letter in memory).
// CRM_BENCH_PROFILE=/tmp/p writes CPU profiles of the campaigns and bare loops.
//
//	go test -run '^$' -bench 'Campaign$' -benchtime 1x -timeout 120m ./bench/
//	CRM_BENCH_RECIPIENTS=200000 CRM_BENCH_CONNS=16 CRM_BENCH_BARE=0 CRM_BENCH_ROUNDS=1 CRM_BENCH_TIMELINE=0 go test -run '^$' -bench 'Campaign$' -benchtime 1x -timeout 120m ./bench/
func BenchmarkCampaign(b *testing.B) {
	procmem.LimitByDefault(os.Getenv) // as crm does
	n := envInt("CRM_BENCH_RECIPIENTS", 20_000)
	conns := []int{1, 4, 16}
	if v := os.Getenv("CRM_BENCH_CONNS"); v != "" {
		conns = nil
		for _, f := range strings.Split(v, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || c <= 0 {
				b.Fatalf("CRM_BENCH_CONNS=%q: give numbers, e.g. 1,4,16", v)
			}
			conns = append(conns, c)
		}
	}
	ctx := context.Background()
	st := storetest.New(b)
	seed(b, st, n)
	// crm serve loads the client directory at start and follows the change log: the
	// process the campaign runs in holds it, and the collector paces itself by what
	// the process holds. CRM_BENCH_DIRECTORY=0 leaves it behind the log.
	if os.Getenv("CRM_BENCH_DIRECTORY") != "0" {
		if err := st.Directory().Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := smtptest.StartChild()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	count := func() int {
		n, err := srv.Count()
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	unsub, err := campaign.NewUnsubscriber(st, "0123456789abcdef-bench", "https://crm.example.com")
	if err != nil {
		b.Fatal(err)
	}
	cs := campaign.NewCampaigns(st, unsub, "news@crm.example.com", time.UTC)
	rounds := envInt("CRM_BENCH_ROUNDS", 5)
	lines := os.Getenv("CRM_BENCH_TIMELINE") != "0"
	for _, k := range conns {
		b.Run(fmt.Sprintf("conns=%d", k), func(b *testing.B) {
			for range b.N {
				pool := newPool(b, srv.Port(), k)
				var rates, bares, shares, cpus, bareCPUs, starts, firsts, rests, afters, numbered []float64
				peak := 0.0
				for round := range rounds {
					camp := benchCampaign(b, st, fmt.Sprintf("Winter %d/%d", k, round))
					// The previous round's bare loop held every letter: its memory goes
					// back to the system before the peak is measured.
					rests = append(rests, procmem.Settle())
					before := count()
					s := campaign.NewRunner(cs, pool, campaign.RunnerOptions{})
					stopProfile := profile(b, fmt.Sprintf("campaign-%d-%d", k, round))
					t0, cpu0 := time.Now(), cpuTime()
					if _, _, err := cs.Start(ctx, "bench", camp.ID); err != nil {
						b.Fatal(err)
					}
					starts = append(starts, time.Since(t0).Seconds())
					passCtx, stopPasses := context.WithCancel(ctx)
					done := make(chan time.Time, 1)
					go func() {
						defer close(done)
						for passCtx.Err() == nil {
							if err := s.Pass(passCtx); err != nil && passCtx.Err() == nil {
								b.Error(err)
							}
							if c, _ := st.Campaign(ctx, camp.ID); c.State == store.CampaignDone {
								done <- time.Now()
								return
							}
						}
					}()
					first := time.Duration(0)
					for got := 0; got < n; got = count() - before {
						if first == 0 && got > 0 {
							first = time.Since(t0)
						}
						time.Sleep(5 * time.Millisecond)
					}
					took := time.Since(t0)
					last := time.Now()
					firsts = append(firsts, first.Seconds())
					cpus = append(cpus, float64((cpuTime()-cpu0).Microseconds())/float64(n))
					if lines {
						at, ok := <-done
						if !ok {
							b.Fatal("the campaign did not finish")
						}
						afters = append(afters, at.Sub(last).Seconds())
						stopProfile()
						// The history job (scheduler) then numbers the lines into
						// the timelines; the cards show them from the done on.
						for {
							n, err := st.FoldPendingLines(ctx, 200)
							if err != nil {
								b.Fatal(err)
							}
							if n < 200 {
								break
							}
						}
						numbered = append(numbered, time.Since(last).Seconds())
					} else {
						// Its lines are left unwritten: the campaign stops here, so
						// that the bare loop and the next round run alone.
						stopProfile()
						stopPasses()
						<-done
						if _, err := st.MoveCampaign(ctx, "bench", camp.ID, "", store.ActiveCampaignStates(), func(c *store.Campaign) {
							c.State, c.PauseReason = store.CampaignPaused, "benchmark: lines left"
						}); err != nil {
							b.Fatal(err)
						}
					}
					stopPasses()
					peak = max(peak, procmem.PeakMB())
					if got := count() - before; got != n {
						b.Fatalf("the campaign sent %d of %d", got, n)
					}
					rates = append(rates, float64(n)/took.Seconds())
					// The bare loop runs after the campaign, so that the letters it
					// holds do not count in the campaign's peak memory.
					if os.Getenv("CRM_BENCH_BARE") != "0" {
						before = count()
						rate, cpu := bareLoop(b, ctx, st, cs, unsub, camp, pool, k)
						bares, bareCPUs = append(bares, rate), append(bareCPUs, cpu)
						if got := count() - before; got != n {
							b.Fatalf("the bare loop sent %d of %d", got, n)
						}
						shares = append(shares, 100*rates[round]/bares[round])
					}
				}
				b.Logf("rounds: campaign msg/s %.0f, bare msg/s %.0f, %% of bare %.0f, start s %.3f, first letter s %.2f, lines done s after %.1f, numbered s after %.1f, peak MB %.0f",
					rates, bares, shares, starts, firsts, afters, numbered, peak)
				b.ReportMetric(median(rates), "campaign-msg/s")
				b.ReportMetric(median(cpus), "campaign-cpu-µs/msg")
				b.ReportMetric(peak, "peak-RSS-MB")
				b.ReportMetric(median(rests), "rest-RSS-MB")
				b.ReportMetric(median(starts), "s-to-start")
				b.ReportMetric(median(firsts), "s-to-first-letter")
				if len(afters) > 0 {
					b.ReportMetric(median(afters), "s-lines-after-last")
					b.ReportMetric(median(numbered), "s-numbered-after-last")
				}
				if len(bares) > 0 {
					b.ReportMetric(median(bares), "bare-msg/s")
					b.ReportMetric(median(bareCPUs), "bare-cpu-µs/msg")
					b.ReportMetric(median(shares), "%-of-bare")
				}
				_ = pool.Close()
			}
		})
	}
}

// benchCampaign saves a draft to every seeded client.
func benchCampaign(b *testing.B, st *store.Store, name string) *store.Campaign {
	camp := &store.Campaign{Name: name, Segment: store.Segment{Tags: []string{"bench"}},
		Subject: "{{.Contact.FirstName}}, winter offers for {{.Client.Name}}",
		Text: "Dear {{.Contact.FirstName}},\n\nour winter prices for {{.Client.Name}} in {{.Client.City}} are ready.\n" +
			"Your car: {{index .Client.Custom \"car\"}}.\n\n{{.Manager.Signature}}\n\nUnsubscribe: {{.UnsubscribeURL}}\n",
		HTML: "<p>Dear {{.Contact.FirstName}},</p><p>our winter prices for <b>{{.Client.Name}}</b> in {{.Client.City}} are ready.</p>" +
			"<p>{{.Manager.Signature}}</p><p><a href=\"{{.UnsubscribeURL}}\">Unsubscribe</a></p>",
		Sender: "Shop <news@crm.example.com>"}
	if err := st.SaveCampaign(context.Background(), "bench", camp); err != nil {
		b.Fatal(err)
	}
	return camp
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

// bareLoop renders every letter first, then sends them over k connections and
// nothing else: no database, no state. It returns messages a second and the CPU time
// a message.
func bareLoop(b *testing.B, ctx context.Context, st *store.Store, cs *campaign.Campaigns, unsub *campaign.Unsubscriber, camp *store.Campaign, pool *mail.SMTP, k int) (rate, cpuPerMsg float64) {
	var msgs []*gomail.Msg
	err := campaign.EachRecipient(ctx, st, camp.Segment, func(r campaign.Recipient) error {
		out, who, err := cs.Preview(ctx, camp, r.Client.ID, r.Contact.ID)
		if err != nil {
			return err
		}
		msg, err := cs.Message(camp, out, campaign.MailData{UnsubscribeURL: unsub.Link(camp.ID, r.Client.ID, r.Contact.ID)}, who.Email)
		msgs = append(msgs, msg)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	next := make(chan *gomail.Msg)
	var wg sync.WaitGroup
	stopProfile := profile(b, fmt.Sprintf("bare-%d", k))
	t0, cpu0 := time.Now(), cpuTime()
	for range k {
		wg.Go(func() {
			for m := range next {
				if err := pool.Send(ctx, m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	took, cpu := time.Since(t0), cpuTime()-cpu0
	stopProfile()
	return float64(len(msgs)) / took.Seconds(), float64(cpu.Microseconds()) / float64(len(msgs))
}

func newPool(b *testing.B, port, k int) *mail.SMTP {
	pool, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: "none", Conns: k})
	if err != nil {
		b.Fatal(err)
	}
	return pool
}

// seed makes n clients tagged "bench", one consenting contact each, with a manager.
func seed(b *testing.B, st *store.Store, n int) {
	ctx := context.Background()
	m := &store.Manager{Name: "Olga Petrova", Email: "olga@crm.example.com"}
	if err := st.CreateManager(ctx, "bench", m); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const batch = 1000
	for off := 0; off < n; off += batch {
		var cs []*store.Client
		for i := off; i < min(off+batch, n); i++ {
			cs = append(cs, &store.Client{Name: fmt.Sprintf("Shop %d", i), City: "Kazan", Tags: []string{"bench"}, ManagerID: m.ID,
				Custom: map[string]string{"car": "Lada"},
				Contacts: map[string]store.Contact{"p": {Name: fmt.Sprintf("Ivanov Ivan %d", i),
					Emails: []string{fmt.Sprintf("c%d@example.ru", i)}, Consent: store.Consent{Given: true}}}})
		}
		for _, err := range st.CreateClients(ctx, "bench", cs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d recipients in %v", n, time.Since(start).Round(time.Second))
}

// profile writes a CPU profile of the sending (campaign or bare loop) to $CRM_BENCH_PROFILE-<name>.prof when
// that variable names a path prefix.
func profile(b *testing.B, name string) func() {
	prefix := os.Getenv("CRM_BENCH_PROFILE")
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + name + ".prof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
