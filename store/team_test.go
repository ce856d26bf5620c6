package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestInviteWorksOnceAndExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := storetest.New(t, func(o *store.Options) { o.Now = func() time.Time { return now } })
	inv, err := s.CreateInvite(ctx, "admin", store.RoleHead, "Ольга", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInvite(ctx, "admin", "boss", "", time.Hour); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad role: %v", err)
	}

	// Five people race for one code: exactly one becomes a manager.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RedeemInvite(ctx, inv.ID, &store.Manager{TelegramID: int64(500 + i)})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrInviteInvalid):
			t.Fatalf("redeem: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d people redeemed one code", won)
	}
	team, _ := s.Managers(ctx)
	if len(team) != 1 || team[0].Role != store.RoleHead || team[0].Name != "Ольга" {
		t.Fatalf("team after invite: %+v", team)
	}

	late, _ := s.CreateInvite(ctx, "admin", store.RoleManager, "", time.Hour)
	now = now.Add(2 * time.Hour)
	if err := s.RedeemInvite(ctx, late.ID, &store.Manager{TelegramID: 900, Name: "Поздний"}); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("expired invite: %v", err)
	}
	if err := s.RedeemInvite(ctx, "no-such-code", &store.Manager{TelegramID: 901, Name: "X"}); !errors.Is(err, store.ErrInviteInvalid) {
		t.Fatalf("unknown code: %v", err)
	}

	// A Telegram account that is already on the team does not burn a code.
	again, _ := s.CreateInvite(ctx, "admin", store.RoleManager, "", time.Hour)
	var taken *store.KeyTakenError
	if err := s.RedeemInvite(ctx, again.ID, &store.Manager{TelegramID: team[0].TelegramID, Name: "Дубль"}); !errors.As(err, &taken) {
		t.Fatalf("second account: %v", err)
	}
	if err := s.RedeemInvite(ctx, again.ID, &store.Manager{TelegramID: 902, Name: "Новый"}); err != nil {
		t.Fatalf("code given back after a failure: %v", err)
	}
}

func TestAttachedFilesAndBirthdays(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := &store.Client{Name: "Вектор", ManagerID: "m1", Contacts: map[string]store.Contact{
		"a": {Name: "Анна", Birthday: &store.Birthday{Month: 2, Day: 29}},
		"b": {Name: "Борис", Birthday: &store.Birthday{Month: 3, Day: 2}},
	}}
	other := &store.Client{Name: "Чужой", ManagerID: "m2", Contacts: map[string]store.Contact{
		"c": {Name: "Вера", Birthday: &store.Birthday{Month: 3, Day: 1}},
	}}
	for _, cl := range []*store.Client{c, other} {
		if err := s.CreateClient(ctx, "m1", cl); err != nil {
			t.Fatal(err)
		}
	}

	f := &store.File{ClientID: c.ID, Name: "договор.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.4"), TelegramFileID: "tg-1"}
	if err := s.AttachFile(ctx, "m1", f); err != nil {
		t.Fatal(err)
	}
	card, err := s.Card(ctx, c.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Client.Files) != 1 || card.Client.Files[0].Name != "договор.pdf" || card.Client.Files[0].Size != 8 {
		t.Fatalf("card files: %+v", card.Client.Files)
	}
	if len(card.Interactions) != 1 || card.Interactions[0].Kind != store.InteractionFile || card.Interactions[0].FileID != f.ID {
		t.Fatalf("timeline: %+v", card.Interactions)
	}
	back, err := s.File(ctx, f.ID)
	if err != nil || string(back.Data) != "%PDF-1.4" || back.By != "m1" {
		t.Fatalf("file back: %+v %v", back, err)
	}

	// 2027 is not a leap year: 29 February is greeted on the 28th.
	msk, _ := time.LoadLocation("Europe/Moscow")
	from := time.Date(2027, 2, 27, 15, 0, 0, 0, msk)
	hits, err := s.Birthdays(ctx, store.Viewer{ManagerID: "m1", Role: store.RoleManager}, from, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ContactName != "Анна" || hits[0].Date.Day() != 28 || hits[1].ContactName != "Борис" || hits[1].Date.Day() != 2 {
		t.Fatalf("manager's birthdays: %+v", hits)
	}
	all, _ := s.Birthdays(ctx, store.Viewer{ManagerID: "h", Role: store.RoleHead}, from, 4)
	if len(all) != 3 {
		t.Fatalf("head sees %d birthdays, want 3", len(all))
	}
}

// A manager who gives no time zone gets the company's, whatever it is.
func TestManagerWithoutTimeZoneGetsTheCompanys(t *testing.T) {
	ctx := context.Background()
	vvo, err := time.LoadLocation("Asia/Vladivostok")
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.New(t, func(o *store.Options) { o.Location = vvo })
	m := &store.Manager{Name: "Ольга"}
	if err := s.CreateManager(ctx, "test", m); err != nil {
		t.Fatal(err)
	}
	own := &store.Manager{Name: "Борис", TimeZone: "Europe/Kaliningrad"}
	if err := s.CreateManager(ctx, "test", own); err != nil {
		t.Fatal(err)
	}
	for _, want := range []store.Manager{{ID: m.ID, TimeZone: "Asia/Vladivostok"}, {ID: own.ID, TimeZone: "Europe/Kaliningrad"}} {
		if got, err := s.Manager(ctx, want.ID); err != nil || got.TimeZone != want.TimeZone {
			t.Errorf("manager %s: %+v %v, want time zone %s", want.ID, got, err, want.TimeZone)
		}
	}
}
