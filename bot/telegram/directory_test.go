package telegram_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot/telegram/tgtest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// holdPoint holds the client directory's catching up at a point once armed, until
// released.
type holdPoint struct {
	point   string
	mu      sync.Mutex
	armed   bool
	reached chan struct{}
	release chan struct{}
}

func newHold(point string) *holdPoint {
	return &holdPoint{point: point, reached: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdPoint) hook(p string) {
	h.mu.Lock()
	hold := h.armed && p == h.point
	h.armed = h.armed && !hold
	h.mu.Unlock()
	if hold {
		close(h.reached)
		<-h.release
	}
}

func (h *holdPoint) arm() {
	h.mu.Lock()
	h.armed = true
	h.mu.Unlock()
}

func ask(t *testing.T, srv *tgtest.Server, chat int64, text string) string {
	t.Helper()
	srv.SendText(chat, text)
	return srv.Next(chat, wait).Text
}

// A search while the directory catches up with another process's changes answers
// from it as it stands, and says so once it is more than a few seconds behind.
func TestSearchSaysTheDirectoryIsBehind(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(convNow)
	h := newHold("read")
	st, name := storetest.NewNamed(t, func(o *store.Options) { o.Now, o.DirectoryHook = clock.Now, h.hook })
	defer close(h.release)
	m := &store.Manager{Name: "Анна", Role: store.RoleAdmin, Language: "ru", TelegramID: 7}
	if err := st.CreateManager(ctx, "test", m); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Альфа-Строй", "Альфа-Сервис"} {
		if err := st.CreateClient(ctx, m.ID, &store.Client{Name: n, ManagerID: m.ID}); err != nil {
			t.Fatal(err)
		}
	}
	srv := botOn(t, st, rate.Inf)
	other, err := store.Open(ctx, storetest.Engine(t).URI(), name, store.Options{Now: clock.Now}) // crm import
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	h.arm()
	if err := other.CreateClient(ctx, "import", &store.Client{Name: "Альфа-Плюс"}); err != nil {
		t.Fatal(err)
	}
	got := ask(t, srv, 7, "альфа")
	if strings.Contains(got, "Альфа-Плюс") || !strings.Contains(got, "Альфа-Сервис") || strings.Contains(got, "отстаёт") {
		t.Fatalf("a search right after the change:\n%s", got)
	}
	<-h.reached
	clock.Add(12 * time.Second)
	got = ask(t, srv, 7, "альфа")
	if strings.Contains(got, "Альфа-Плюс") || !strings.Contains(got, "Альфа-Строй") || !strings.Contains(got, "Поиск отстаёт от базы на 12 с") {
		t.Fatalf("a search while the catch-up is held:\n%s", got)
	}
	h.release <- struct{}{}
	if err := st.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got = ask(t, srv, 7, "альфа")
	if !strings.Contains(got, "Альфа-Плюс") || strings.Contains(got, "отстаёт") {
		t.Fatalf("a search after the catch-up:\n%s", got)
	}
}

// Right after a start, before the directory is loaded, the bot answers: a phone,
// e-mail or INN finds the client, and a name search says the names are loading.
func TestSearchWhileTheDirectoryLoads(t *testing.T) {
	ctx := context.Background()
	st, name := storetest.NewNamed(t)
	m := &store.Manager{Name: "Anna", Role: store.RoleAdmin, Language: "en", TelegramID: 7}
	if err := st.CreateManager(ctx, "test", m); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, m.ID, &store.Client{Name: "Ромашка", ManagerID: m.ID, Legal: store.Legal{INN: "7707083893"}}); err != nil {
		t.Fatal(err)
	}
	h := newHold("built")
	h.arm()
	serve, err := store.Open(ctx, storetest.Engine(t).URI(), name, store.Options{DirectoryHook: h.hook}) // a new start
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close(ctx)
	defer close(h.release)
	srv := botOn(t, serve, rate.Inf)
	if got := ask(t, srv, 7, "/help"); !strings.Contains(got, "/new") {
		t.Fatalf("/help: %s", got)
	}
	if got := ask(t, srv, 7, "Ромашка"); !strings.Contains(got, "Nothing found") || !strings.Contains(got, "Name search is still loading") {
		t.Fatalf("a name while loading:\n%s", got)
	}
	<-h.reached
	if got := ask(t, srv, 7, "7707083893"); !strings.Contains(got, "Ромашка") {
		t.Fatalf("an INN while loading:\n%s", got)
	}
	h.release <- struct{}{}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ask(t, srv, 7, "Ромашка"); !strings.Contains(got, "Ромашка") || strings.Contains(got, "loading") {
		t.Fatalf("a name once loaded:\n%s", got)
	}
}
