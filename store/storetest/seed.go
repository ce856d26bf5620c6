package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/crm-team/crm/store"
)

// Seeded is a generated base for benchmarks: clients spread over a team of managers,
// each client with one contact, a phone and a few calls in its history.
type Seeded struct {
	Store    *store.Store
	Managers []*store.Manager // Telegram IDs 10001, 10002, ...
	Clients  []string         // IDs
	Phones   []string         // the i-th client's contact phone, E.164
	Names    []string         // a distinctive part of the i-th client's name
}

var seeded = struct {
	sync.Mutex
	bases map[string]*Seeded
}{bases: map[string]*Seeded{}}

var (
	seedHeads = []string{"Альфа", "Бета", "Вектор", "Гранит", "Дельта", "Енисей", "Жемчуг", "Зенит", "Импульс", "Кристалл",
		"Лидер", "Меридиан", "Нева", "Омега", "Прогресс", "Ресурс", "Сигма", "Техно", "Урал", "Феникс"}
	seedTails = []string{"Строй", "Трейд", "Логистик", "Сервис", "Пром", "Агро", "Медиа", "Софт", "Энерго", "Маркет"}
)

// Seed returns a base of n clients and a team of managers, built once per test binary
// (benchmark functions run several times; the base outlives them).
func Seed(tb testing.TB, n, managers int) *Seeded {
	seeded.Lock()
	defer seeded.Unlock()
	key := fmt.Sprintf("seed_%d_%d", n, managers)
	if b, ok := seeded.bases[key]; ok {
		return b
	}
	ctx := context.Background()
	eng := Engine(tb)
	s, err := store.Open(ctx, eng.URI(), key, store.Options{AfterCreateCollections: eng.FixIndexes})
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err == nil {
		err = s.Directory().Sync(ctx) // empty: from now on it has every client seeded
	}
	if err != nil {
		tb.Fatal(err)
	}
	b := &Seeded{Store: s}
	for i := range managers {
		m := &store.Manager{Name: fmt.Sprintf("Менеджер %d", i+1), TelegramID: int64(10001 + i), Language: "ru"}
		if err := s.CreateManager(ctx, "seed", m); err != nil {
			tb.Fatal(err)
		}
		b.Managers = append(b.Managers, m)
	}
	const batch = 1000
	for off := 0; off < n; off += batch {
		var cs []*store.Client
		for i := off; i < min(off+batch, n); i++ {
			name := fmt.Sprintf("%s%s-%d", seedHeads[i%len(seedHeads)], seedTails[(i/len(seedHeads))%len(seedTails)], i)
			phone := fmt.Sprintf("+7916%07d", i)
			cs = append(cs, &store.Client{Name: "ООО «" + name + "»", ManagerID: b.Managers[i%managers].ID, City: "Москва",
				Contacts: map[string]store.Contact{"p": {Name: "Иван " + strconv.Itoa(i), Phones: []string{phone}}}})
			b.Phones = append(b.Phones, phone)
			b.Names = append(b.Names, name)
		}
		for i, err := range s.CreateClients(ctx, "seed", cs) {
			if err != nil {
				tb.Fatalf("seed client %d: %v", off+i, err)
			}
		}
		for _, c := range cs {
			b.Clients = append(b.Clients, c.ID)
		}
	}
	// A short history each, so a card reads a real bucket.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(b.Clients); i += 4 {
				items := make([]store.Interaction, 5)
				for k := range items {
					items[k] = store.Interaction{Kind: store.InteractionCall, AuthorID: "seed", Text: "Обсудили поставку",
						Call: &store.Call{Direction: "out", Outcome: "reached"}}
				}
				if err := s.AppendInteractions(ctx, b.Clients[i], items); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
	seeded.bases[key] = b
	return b
}
