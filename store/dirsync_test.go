package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// hold stops the directory's follower the first time it reaches point, until release.
type hold struct {
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func holdAt(s *store.Store, point string) *hold {
	h := &hold{reached: make(chan struct{}), release: make(chan struct{})}
	s.SetDirectoryHook(func(p string) {
		if p != point {
			return
		}
		h.once.Do(func() {
			close(h.reached)
			<-h.release
		})
	})
	return h
}

// otherProcess opens a second store on the database of s, as another crm process.
func otherProcess(t *testing.T, name string, opts store.Options) *store.Store {
	t.Helper()
	ctx := context.Background()
	other, err := store.Open(ctx, storetest.Engine(t).URI(), name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close(context.Background()) })
	return other
}

func resultNames(t *testing.T, st *store.Store, q string) []string {
	t.Helper()
	res, err := st.Search(context.Background(), store.Viewer{Role: store.RoleAdmin}, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	return names(res)
}

// While the directory catches up with another process's changes, a search answers
// from it as it stands, and the state says how far behind it is.
func TestSearchDoesNotWaitForTheCatchUp(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s, name := storetest.NewNamed(t, func(o *store.Options) { o.Now = clock.Now })
	if err := s.CreateClient(ctx, "m", &store.Client{Name: "Альфа-Строй"}); err != nil {
		t.Fatal(err)
	}
	serve := otherProcess(t, name, store.Options{Now: clock.Now})
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	h := holdAt(serve, "read")
	defer close(h.release)
	if err := s.CreateClient(ctx, "m", &store.Client{Name: "Альфа-Плюс"}); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "альфа"); !slices.Equal(got, []string{"Альфа-Строй"}) {
		t.Fatalf("search while the change is being read: %v", got)
	}
	<-h.reached
	if st := serve.DirectoryState(); st.Stale() || st.Loading {
		t.Fatalf("a change just made counts as stale: %+v", st)
	}
	clock.Add(10 * time.Second)
	if got := resultNames(t, serve, "альфа"); !slices.Equal(got, []string{"Альфа-Строй"}) {
		t.Fatalf("search while the catch-up is held: %v", got)
	}
	if st := serve.DirectoryState(); !st.Stale() || st.Behind != 10*time.Second {
		t.Fatalf("state while the catch-up is held 10 s: %+v", st)
	}
	h.release <- struct{}{}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "альфа"); !slices.Equal(got, []string{"Альфа-Плюс", "Альфа-Строй"}) {
		t.Fatalf("after the catch-up: %v", got)
	}
	if st := serve.DirectoryState(); st.Stale() || st.Behind != 0 {
		t.Fatalf("state after the catch-up: %+v", st)
	}
}

// Until the directory is loaded, a search finds clients by their keys and says the
// names are loading.
func TestSearchByKeysWhileTheDirectoryLoads(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	c := &store.Client{Name: "Ромашка", Legal: store.Legal{INN: "7707083893"}}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	serve := otherProcess(t, name, store.Options{})
	h := holdAt(serve, "built")
	defer close(h.release)
	if got := resultNames(t, serve, "ромашка"); len(got) != 0 {
		t.Fatalf("a name found before the directory loaded: %v", got)
	}
	<-h.reached
	if got := resultNames(t, serve, "7707083893"); !slices.Equal(got, []string{"Ромашка"}) {
		t.Fatalf("INN while loading: %v", got)
	}
	if st := serve.DirectoryState(); !st.Loading || !st.Stale() {
		t.Fatalf("state while loading: %+v", st)
	}
	h.release <- struct{}{}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "ромашка"); !slices.Equal(got, []string{"Ромашка"}) {
		t.Fatalf("name after the load: %v", got)
	}
	if st := serve.DirectoryState(); st.Loading {
		t.Fatalf("state after the load: %+v", st)
	}
}

// The hourly reload builds a new index beside the one searches use and swaps it in;
// what changed while it was built is in it, and so is no longer what a lost change
// left behind.
func TestDirectoryReloadSwaps(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	gone := &store.Client{Name: "Исчезнувший"}
	for _, c := range []*store.Client{{Name: "Альфа"}, gone} {
		if err := s.CreateClient(ctx, "m", c); err != nil {
			t.Fatal(err)
		}
	}
	serve := otherProcess(t, name, store.Options{})
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := serve.DirectoryState().Clients; n != 2 {
		t.Fatalf("the directory holds %d clients, want 2", n)
	}
	// Deleted by a writer that died before logging it.
	if err := s.DeleteClientUnloggedForTest(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	serve.AgeDirectoryForTest(2 * time.Hour)
	h := holdAt(serve, "built")
	if err := serve.Directory().Sync(ctx); err != nil { // a round: it starts the reload
		t.Fatal(err)
	}
	<-h.reached
	if got := resultNames(t, serve, "исчезнувший"); len(got) != 1 {
		t.Fatalf("the old index is not what searches use while the new one is built: %v", got)
	}
	if err := s.CreateClient(ctx, "m", &store.Client{Name: "Альфа-Новый"}); err != nil {
		t.Fatal(err)
	}
	swapped := make(chan struct{})
	var once sync.Once
	serve.SetDirectoryHook(func(p string) {
		if p == "swapped" {
			once.Do(func() { close(swapped) })
		}
	})
	close(h.release)
	<-swapped
	serve.SetDirectoryHook(nil)
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "исчезнувший"); len(got) != 0 {
		t.Fatalf("the reload did not replace the index: %v", got)
	}
	if got := resultNames(t, serve, "альфа"); !slices.Equal(got, []string{"Альфа", "Альфа-Новый"}) {
		t.Fatalf("a change made during the reload: %v", got)
	}
	if n := serve.DirectoryState().Clients; n != 2 {
		t.Fatalf("after the reload the directory holds %d clients, want 2", n)
	}
}

// The log keeps a write of several clients as one document; reading it in runs gives
// what reading every document one at a time gives, and two processes writing at
// once never share a number nor leave a gap.
func TestChangeLogRuns(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	other := otherProcess(t, name, store.Options{})
	batch := []*store.Client{{Name: "Один"}, {Name: "Два"}, {Name: "Три"}}
	for i, err := range s.CreateClients(ctx, "m", batch) {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	for w, st := range []*store.Store{s, other, s, other} {
		wg.Go(func() {
			for i := range 15 {
				if err := st.CreateClient(ctx, "m", &store.Client{Name: fmt.Sprintf("Писатель %d-%d", w, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	docs := s.ChangeLogDocsForTest(ctx, t)
	if got := docs[1]; len(got) != 3 || got[0] != batch[0].ID || got[2] != batch[2].ID {
		t.Fatalf("the batch's document: %v (all %v)", got, docs)
	}
	// One document at a time: each starts where the one before ends.
	var oneByOne []string
	for n := int64(1); ; {
		ids, ok := docs[n]
		if !ok {
			break
		}
		oneByOne = append(oneByOne, ids...)
		n += int64(len(ids))
	}
	total := 0
	for _, ids := range docs {
		total += len(ids)
	}
	if len(oneByOne) != 3+60 || total != len(oneByOne) {
		t.Fatalf("the log's chain holds %d changes of %d written (%d in documents)", len(oneByOne), 3+60, total)
	}
	for _, st := range []*store.Store{s, other} {
		if got := st.ChangesAfterForTest(ctx, t, 0); !slices.Equal(got, oneByOne) {
			t.Fatalf("read in runs:\n%v\none at a time:\n%v", got, oneByOne)
		}
	}
	if got := s.ChangesAfterForTest(ctx, t, 3); !slices.Equal(got, oneByOne[3:]) {
		t.Fatalf("after the batch: %v", got)
	}
	if err := other.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, other, "писатель"); len(got) != 10 { // the limit
		t.Fatalf("the other process's directory: %v", got)
	}
}

// A creation comes with what the directory keeps of the client: another process puts
// an import's clients in without reading them, and a client it saw deleted stays out
// even when its creation is logged after the deletion.
func TestCreationsCarryWhatTheDirectoryKeeps(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	serve := otherProcess(t, name, store.Options{})
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	batch := []*store.Client{
		{Name: "Ромашка", ManagerID: "m1", City: "Казань", Website: "www.romashka.ru", Emails: []string{"info@romashka.ru"},
			Contacts: map[string]store.Contact{"p1": storetest.Person("Анна", "anna@romashka.ru", 12, 3, true)}},
		{Name: "Лютик", ManagerID: "m2"},
	}
	for i, err := range s.CreateClients(ctx, "import", batch) {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	// Gone from the database before serve follows the log: serve never reads it.
	if err := s.DeleteClientUnloggedForTest(ctx, batch[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "лютик"); !slices.Equal(got, []string{"Лютик"}) {
		t.Fatalf("the creation's record was not what the directory took: %v", got)
	}
	m1 := store.Viewer{ManagerID: "m1", Role: store.RoleManager}
	if res, _ := serve.Search(ctx, m1, "ромашка", 10); len(res) != 1 || res[0].ManagerID != "m1" {
		t.Fatalf("the manager's search: %+v", res)
	}
	owners, err := serve.OwnersOfEmails(ctx, []string{"anna@romashka.ru", "info@romashka.ru"})
	if err != nil || owners["anna@romashka.ru"] != batch[0].ID || owners["info@romashka.ru"] != batch[0].ID {
		t.Fatalf("owners of e-mails: %v %v", owners, err)
	}
	domains, err := serve.ClientsByDomains(ctx, []string{"romashka.ru"})
	if err != nil || !slices.Equal(domains["romashka.ru"], []string{batch[0].ID}) {
		t.Fatalf("clients by domain: %v %v", domains, err)
	}
	birthdays, err := serve.Birthdays(ctx, m1, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), 1)
	if err != nil || len(birthdays) != 1 || birthdays[0].ContactName != "Анна" {
		t.Fatalf("birthdays: %+v %v", birthdays, err)
	}

	if err := s.DeleteClient(ctx, "m", batch[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.LogCreationForTest(ctx, batch[0]); err != nil {
		t.Fatal(err)
	}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := resultNames(t, serve, "ромашка"); len(got) != 0 {
		t.Fatalf("a deleted client came back with its creation logged late: %v", got)
	}
}

// CheckDirectory notices a change another process made while nobody searched, and
// the directory catches up.
func TestCheckDirectoryCatchesUp(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	if err := s.CreateClient(ctx, "m", &store.Client{Name: "Альфа"}); err != nil {
		t.Fatal(err)
	}
	serve := otherProcess(t, name, store.Options{})
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, "m", &store.Client{Name: "Бета"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); serve.CheckDirectory(ctx).Clients != 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := serve.DirectoryState().Clients; n != 2 {
		t.Fatalf("the directory holds %d clients, want 2 once it caught up", n)
	}
}
