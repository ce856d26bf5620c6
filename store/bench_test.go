package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// The benchmarks seed a base of the size the issue names and measure the hot paths.
// 10k clients run by default; set CRM_BENCH_LARGE=1 for 100k as well (seeding 100k
// takes minutes on a 2-core machine). Each reports p50/p95/p99 in milliseconds.
//
//	go test -run '^$' -bench . -benchtime 2000x ./store/
//	CRM_BENCH_LARGE=1 go test -run '^$' -bench . -benchtime 2000x -timeout 60m ./store/

type benchBase struct {
	s       *store.Store
	clients []string // IDs
	emails  []string
	phones  []string
	inns    []string
	words   []string // name fragments that occur
}

var (
	benchMu    sync.Mutex
	benchBases = map[int]*benchBase{}
)

func benchSizes(b *testing.B) []int {
	sizes := []int{10_000}
	if os.Getenv("CRM_BENCH_LARGE") != "" {
		sizes = append(sizes, 100_000)
	}
	return sizes
}

var (
	nameHeads = []string{"Альфа", "Бета", "Вектор", "Гранит", "Дельта", "Енисей", "Жемчуг", "Зенит", "Импульс", "Кристалл",
		"Лидер", "Меридиан", "Нева", "Омега", "Прогресс", "Ресурс", "Сигма", "Техно", "Урал", "Феникс", "Хром", "Циркон", "Элемент", "Ёлка"}
	nameTails  = []string{"Строй", "Трейд", "Логистик", "Сервис", "Пром", "Агро", "Медиа", "Софт", "Энерго", "Маркет", "Групп", "Холдинг"}
	firstNames = []string{"Анна", "Иван", "Ольга", "Пётр", "Мария", "Сергей", "Елена", "Дмитрий"}
)

// validINN makes a 10-digit INN with correct control digit from a serial number.
func validINN(n int) string {
	d := fmt.Sprintf("%09d", n%1_000_000_000)
	w := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, c := range d {
		sum += w[i] * int(c-'0')
	}
	return d + strconv.Itoa(sum%11%10)
}

func seedBase(b *testing.B, n int) *benchBase {
	benchMu.Lock()
	defer benchMu.Unlock()
	if base, ok := benchBases[n]; ok {
		return base
	}
	ctx := context.Background()
	// Not storetest.New: the base outlives the benchmark that seeds it, and goes with
	// the engine's directory when the binary ends.
	eng := storetest.Engine(b)
	s, err := store.Open(ctx, eng.URI(), fmt.Sprintf("bench%d", n), store.Options{AfterCreateCollections: eng.FixIndexes})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	base := &benchBase{s: s}
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	const batch = 1000
	for off := 0; off < n; off += batch {
		var cs []*store.Client
		for i := off; i < min(off+batch, n); i++ {
			name := fmt.Sprintf("ООО «%s-%s %d»", nameHeads[rng.IntN(len(nameHeads))], nameTails[rng.IntN(len(nameTails))], i)
			c := &store.Client{Name: name, ManagerID: "m" + strconv.Itoa(i%20), City: "Москва",
				Legal: store.Legal{INN: validINN(i + 1)}, Contacts: map[string]store.Contact{}}
			for k := 0; k < 3; k++ {
				email := fmt.Sprintf("p%d.%d@client%d.ru", k, i, i)
				phone := fmt.Sprintf("+7916%07d", i*3+k)
				c.Contacts["c"+strconv.Itoa(k)] = store.Contact{Name: firstNames[rng.IntN(len(firstNames))],
					Emails: []string{email}, Phones: []string{phone}}
				if k == 0 {
					base.emails = append(base.emails, email)
					base.phones = append(base.phones, phone)
				}
			}
			base.inns = append(base.inns, c.Legal.INN)
			cs = append(cs, c)
		}
		for i, err := range s.CreateClients(ctx, "seed", cs) {
			if err != nil {
				b.Fatalf("seed client %d: %v", off+i, err)
			}
		}
		for _, c := range cs {
			base.clients = append(base.clients, c.ID)
		}
	}
	// 300k interactions in all: 30 a client at 10k; at larger sizes the same 300k,
	// spread 3 a client (a card reads the same one or two buckets either way).
	per := max(300_000/n, 1)
	err = runParallel(len(base.clients), 4, func(i int) error {
		items := make([]store.Interaction, per)
		for k := range items {
			items[k] = store.Interaction{Kind: store.InteractionCall, AuthorID: "m1", Text: "Обсудили поставку, перезвонить через неделю",
				Call: &store.Call{Direction: "out", Outcome: "reached", DurationSec: 120}}
		}
		return s.AppendInteractions(ctx, base.clients[i], items)
	})
	if err != nil {
		b.Fatal(err)
	}
	base.words = []string{"альфа", "строй", "вектор-тр", "зенит", "елка", "меридиан", "омега-агро"}
	b.Logf("seeded %d clients, %d contacts, %d interactions in %v", n, 3*n, per*n, time.Since(start).Round(time.Second))
	benchBases[n] = base
	return base
}

func runParallel(n, workers int, fn func(int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// measure runs op b.N times and reports latency percentiles.
func measure(b *testing.B, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		base := seedBase(b, n)
		s := base.s
		b.Run(fmt.Sprintf("email/%dk", n/1000), func(b *testing.B) {
			measure(b, func(i int) error {
				_, err := s.FindByEmail(ctx, strings.ToUpper(base.emails[(i*7919)%len(base.emails)]))
				return err
			})
		})
		b.Run(fmt.Sprintf("phone/%dk", n/1000), func(b *testing.B) {
			measure(b, func(i int) error {
				p := base.phones[(i*7919)%len(base.phones)]
				_, err := s.FindByPhone(ctx, "8 ("+p[2:5]+") "+p[5:8]+"-"+p[8:10]+"-"+p[10:])
				return err
			})
		})
		b.Run(fmt.Sprintf("inn/%dk", n/1000), func(b *testing.B) {
			measure(b, func(i int) error {
				_, err := s.FindByINN(ctx, base.inns[(i*7919)%len(base.inns)])
				return err
			})
		})
	}
}

func BenchmarkSearchName(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		base := seedBase(b, n)
		if err := base.s.Directory().Sync(ctx); err != nil { // the first search loads the directory
			b.Fatal(err)
		}
		for _, who := range []store.Viewer{{ManagerID: "m3", Role: store.RoleManager}, {Role: store.RoleHead}} {
			b.Run(fmt.Sprintf("%s/%dk", who.Role, n/1000), func(b *testing.B) {
				measure(b, func(i int) error {
					res, err := base.s.Search(ctx, who, base.words[i%len(base.words)], 10)
					if err == nil && len(res) == 0 {
						err = fmt.Errorf("nothing found for %q", base.words[i%len(base.words)])
					}
					return err
				})
			})
		}
	}
}

func BenchmarkCard(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		base := seedBase(b, n)
		b.Run(fmt.Sprintf("last20/%dk", n/1000), func(b *testing.B) {
			measure(b, func(i int) error {
				card, err := base.s.Card(ctx, base.clients[(i*7919)%len(base.clients)], 20)
				if err == nil && len(card.Interactions) == 0 {
					err = fmt.Errorf("card without interactions")
				}
				return err
			})
		})
	}
}
