package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestSearchRankingAndNormalisation(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	mk := func(name, manager, email, phone, inn string) *store.Client {
		c := &store.Client{Name: name, ManagerID: manager, Legal: store.Legal{INN: inn}}
		if email != "" || phone != "" {
			c.Contacts = map[string]store.Contact{"p": {Name: "Контакт", Emails: nonEmpty(email), Phones: nonEmpty(phone)}}
		}
		if err := s.CreateClient(ctx, "admin", c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	romashka := mk(`ООО «Ромашка»`, "m1", "info@romashka.ru", "8 (916) 123-45-67", "7707083893")
	romashkaPlus := mk(`Ромашка-Плюс`, "m1", "", "", "")
	bigRomashka := mk(`Большая ромашка`, "m2", "", "", "")
	field := mk(`Полевые ромашки`, "", "", "", "")
	elka := mk(`Ёлка и Сосна`, "m1", "", "+7 495 765-43-21", "500100732259")
	hidden := mk(`Ромашковый рай`, "m2", "", "", "")

	head := store.Viewer{ManagerID: "h", Role: store.RoleHead}
	m1 := store.Viewer{ManagerID: "m1", Role: store.RoleManager}
	ids := func(rs []store.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ClientID)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		viewer store.Viewer
		query  string
		want   []string
	}{
		{"prefix before word, then by folded name", head, "ромашк", []string{romashka.ID, romashkaPlus.ID, hidden.ID, bigRomashka.ID, field.ID}},
		{"any case", head, "РОМАШКА", []string{romashka.ID, romashkaPlus.ID, bigRomashka.ID}},
		{"manager sees own and unassigned only", m1, "ромашк", []string{romashka.ID, romashkaPlus.ID, field.ID}},
		{"ё = е", head, "елка", []string{elka.ID}},
		{"е finds ё", head, "Елка и сосна", []string{elka.ID}},
		{"latin transliteration", head, "romashka", []string{romashka.ID, romashkaPlus.ID, bigRomashka.ID}},
		{"fragment inside a word", head, "сосн", []string{elka.ID}},
		{"phone any format", m1, "+7 916 1234567", []string{romashka.ID}},
		{"phone with 8", m1, "8 (916) 123-45-67", []string{romashka.ID}},
		{"e-mail", m1, "INFO@romashka.ru", []string{romashka.ID}},
		{"INN", m1, "7707083893", []string{romashka.ID}},
		{"12-digit INN", head, "500100732259", []string{elka.ID}},
		{"phone of another's client is hidden", store.Viewer{ManagerID: "m2"}, "+74957654321", nil},
		{"nothing", head, "ландыш", nil},
	} {
		got, err := s.Search(ctx, tc.viewer, tc.query, 10)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g := ids(got); !equal(g, tc.want) {
			t.Errorf("%s: Search(%q) = %v, want %v", tc.name, tc.query, names(got), tc.want)
		}
	}
	// Exact key first, then the name matches.
	got, _ := s.Search(ctx, head, "7707083893", 10)
	if len(got) != 1 || got[0].Match != store.MatchKey {
		t.Fatalf("INN hit: %+v", got)
	}
	// Limited.
	if got, _ := s.Search(ctx, head, "ромашк", 2); len(got) != 2 {
		t.Fatalf("limit 2 gave %d", len(got))
	}
}

// A second process (another Store on the same database) sees changes through the
// change log, without rescanning, once its directory caught up.
func TestSearchSeesOtherProcessChanges(t *testing.T) {
	ctx := context.Background()
	s, name := storetest.NewNamed(t)
	other, err := store.Open(ctx, storetest.Engine(t).URI(), name, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	head := store.Viewer{Role: store.RoleHead}
	search := func(q string) []store.Result {
		t.Helper()
		if err := other.Directory().Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := other.Search(ctx, head, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := search("альфа"); len(got) != 0 {
		t.Fatalf("empty base found %v", got)
	}
	c := &store.Client{Name: "Альфа-Строй"}
	if err := s.CreateClient(ctx, "m", c); err != nil {
		t.Fatal(err)
	}
	if got := search("альфа"); len(got) != 1 {
		t.Fatalf("new client not seen by the other process: %v", got)
	}
	newName := "Бета-Строй"
	if _, err := s.UpdateClient(ctx, "m", c.ID, store.ClientPatch{Name: &newName}); err != nil {
		t.Fatal(err)
	}
	if got := search("бета"); len(got) != 1 {
		t.Fatalf("renamed client not found by its new name: %v", got)
	}
	if got := search("альфа"); len(got) != 0 {
		t.Fatalf("renamed client still found by its old name: %v", got)
	}
	if err := s.DeleteClient(ctx, "m", c.ID); err != nil {
		t.Fatal(err)
	}
	if got := search("бета"); len(got) != 0 {
		t.Fatalf("deleted client still found: %v", got)
	}
	list, total, err := s.ManagerClients(ctx, "m", 0, 10)
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("manager list: %v %d %v", list, total, err)
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func names(rs []store.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestPruneChangeLog(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return clock } })
	for _, name := range []string{"Один", "Два"} {
		if err := s.CreateClient(ctx, "m", &store.Client{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PruneChangeLog(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("fresh entries pruned: %d %v", n, err)
	}
	clock = clock.Add(3 * time.Hour)
	if n, err := s.PruneChangeLog(ctx, time.Minute); err != nil || n != 2 {
		t.Fatalf("pruned %d entries, want 2: %v", n, err)
	}
	// A new process still finds everything: it loads the directory whole.
	if got, err := s.Search(ctx, store.Viewer{Role: store.RoleAdmin}, "два", 10); err != nil || len(got) != 1 {
		t.Fatalf("search after pruning: %v %v", got, err)
	}
}
