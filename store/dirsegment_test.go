package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// segmentView lists what a campaign reads of a segment's clients, a line a contact:
// the client's fields, then the contact's, its address and why it gets no letter.
func segmentView(t *testing.T, st *store.Store, seg store.Segment) []string {
	t.Helper()
	var out []string
	err := st.SegmentClients(context.Background(), seg, func(c *store.Client) error {
		custom := slices.Sorted(maps.Keys(c.Custom))
		for i, k := range custom {
			custom[i] = k + "=" + c.Custom[k]
		}
		head := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%v|%v", c.Name, c.City, c.Industry, c.ManagerID, c.Stage, c.Class, c.Tags, custom)
		for _, p := range c.ContactList() {
			email, why := store.MailableEmail(p)
			out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s|%s", head, p.ID, p.Name, p.Position, email, why))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// A process that keeps the client directory reads a campaign's segment from it, and
// gets what the clients collection holds: clients created, edited, unsubscribed and
// bounced in another process since it loaded, each contact's consent as it is now.
func TestSegmentFromTheDirectory(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	cli, name := storetest.NewNamed(t, func(o *store.Options) { o.Now = clock.Now })
	serve := otherProcess(t, name, store.Options{Now: clock.Now})
	person := func(id, name, position, email string, consent bool) store.Contact {
		p := storetest.Person(name, email, 1, 1, consent)
		p.ID, p.Position = id, position
		return p
	}
	loaded := &store.Client{Name: "Альфа", City: "Казань", Industry: "авто", Tags: []string{"vip"}, Custom: map[string]string{"car": "Lada"},
		Contacts: map[string]store.Contact{
			"p1": person("p1", "Иванов Иван", "директор", "ivan@alfa.ru", true),
			"p2": person("p2", "Петрова Анна", "", "anna@alfa.ru", true),
			"p3": person("p3", "Сидоров Пётр", "", "petr@alfa.ru", false),
		}}
	if err := cli.CreateClient(ctx, "m", loaded); err != nil {
		t.Fatal(err)
	}
	if err := serve.Directory().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(10 * time.Minute)
	// Created after the load: the directory takes it from the creation's record.
	made := &store.Client{Name: "Бета", City: "Казань", Tags: []string{"VIP", "new"}, Custom: map[string]string{"car": "Kia"},
		Contacts: map[string]store.Contact{"p1": person("p1", "Орлова Мария", "бухгалтер", "maria@beta.ru", true)}}
	if err := cli.CreateClient(ctx, "m", made); err != nil {
		t.Fatal(err)
	}
	// Unsubscribed (the change log names the client) and bounced (it does not: the
	// opt-out it records makes the reader look at the client itself).
	if _, err := cli.Unsubscribe(ctx, made.ID, "p1", "link", "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.MarkBounced(ctx, "ivan@alfa.ru"); err != nil {
		t.Fatal(err)
	}
	// Moved out of the segment by an edit of its tags.
	gone := &store.Client{Name: "Гамма", Tags: []string{"vip"}, Contacts: map[string]store.Contact{"p1": person("p1", "Кто-то", "", "x@gamma.ru", true)}}
	if err := cli.CreateClient(ctx, "m", gone); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UpdateClient(ctx, "m", gone.ID, store.ClientPatch{Tags: &[]string{"old"}}); err != nil {
		t.Fatal(err)
	}
	for _, seg := range []store.Segment{
		{Tags: []string{"vip"}},
		{Cities: []string{"казань"}, Custom: map[string]string{"car": "kia"}},
		{},
	} {
		want := segmentView(t, cli, seg) // cli keeps no directory: it reads the collection
		if got := segmentView(t, serve, seg); !slices.Equal(got, want) {
			t.Fatalf("segment %+v from the directory:\n%s\nthe collection:\n%s", seg, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(want) == 0 {
			t.Fatalf("segment %+v: nobody", seg)
		}
	}
	if got := segmentView(t, serve, store.Segment{Tags: []string{"vip"}}); len(got) != 4 ||
		!strings.HasSuffix(got[0], "|p1|Иванов Иван|директор||bounced") || !strings.HasSuffix(got[1], "|p2|Петрова Анна||anna@alfa.ru|") ||
		!strings.HasSuffix(got[3], "|p1|Орлова Мария|бухгалтер||unsubscribed") {
		t.Fatalf("the segment's contacts:\n%s", strings.Join(got, "\n"))
	}
}
