package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func draft(name string) *store.Campaign {
	return &store.Campaign{Name: name, Subject: "Скидки", Text: "Здравствуйте",
		Segment: store.Segment{Cities: []string{"Казань"}, Tags: []string{"опт"}}}
}

// A campaign is found by its ID or its name in any case and spacing; a second
// campaign cannot take a name, and a rename or a deletion gives the old one back.
func TestCampaignNamesAreUnique(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	autumn := draft("Осенняя  распродажа")
	if err := s.SaveCampaign(ctx, "head", autumn); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{autumn.ID, "осенняя распродажа", "  ОСЕННЯЯ РАСПРОДАЖА "} {
		if c, err := s.FindCampaign(ctx, ref); err != nil || c.ID != autumn.ID {
			t.Fatalf("find %q: %v, %v", ref, c, err)
		}
	}
	if _, err := s.FindCampaign(ctx, "Зима"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown name: %v", err)
	}
	var taken *store.CampaignNameTakenError
	err := s.SaveCampaign(ctx, "head", draft(" осенняя распродажа"))
	if !errors.As(err, &taken) || taken.ID != autumn.ID || !errors.Is(err, store.ErrInvalid) ||
		!strings.Contains(err.Error(), "exists already") {
		t.Fatalf("a second campaign of the name: %v", err)
	}
	if all, _ := s.Campaigns(ctx); len(all) != 1 {
		t.Fatalf("the refused campaign was saved: %d campaigns", len(all))
	}

	// A rename frees the old name; a change of case keeps the name.
	if _, _, err := s.EditDraft(ctx, "head", autumn.ID, func(c *store.Campaign) error { c.Name = "Осень"; return nil }); err != nil {
		t.Fatal(err)
	}
	other := draft("Осенняя распродажа")
	if err := s.SaveCampaign(ctx, "head", other); err != nil {
		t.Fatalf("the old name after a rename: %v", err)
	}
	if _, _, err := s.EditDraft(ctx, "head", other.ID, func(c *store.Campaign) error { c.Name = "ОСЕНЬ"; return nil }); !errors.As(err, &taken) {
		t.Fatalf("a rename to a taken name: %v", err)
	}
	if _, _, err := s.EditDraft(ctx, "head", autumn.ID, func(c *store.Campaign) error { c.Name = "ОСЕНЬ"; return nil }); err != nil {
		t.Fatal(err)
	}
	if c, err := s.FindCampaign(ctx, "осень"); err != nil || c.ID != autumn.ID || c.Name != "ОСЕНЬ" {
		t.Fatalf("after a change of case: %+v, %v", c, err)
	}

	// A deleted draft's name is free again.
	if _, err := s.DeleteDraft(ctx, "head", autumn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindCampaign(ctx, "Осень"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted draft is found: %v", err)
	}
	if err := s.SaveCampaign(ctx, "head", draft("Осень")); err != nil {
		t.Fatalf("the name of a deleted draft: %v", err)
	}
	// The names' keys are not clients' keys: a repair leaves them.
	if _, err := s.RepairKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCampaign(ctx, "head", draft("осень")); !errors.As(err, &taken) {
		t.Fatalf("after a repair of keys: %v", err)
	}
}

// Two processes creating one name at once: the one that claimed the name's key first
// has it, even before its campaign is written; a key a crash left is taken over once
// it is old.
func TestCampaignNameHeldAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	a, name := storetest.NewNamed(t, func(o *store.Options) { o.Now = clock.Now })
	b, err := store.Open(ctx, storetest.Engine(t).URI(), name, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	crash := errors.New("crash")
	a.SetCrash(func(p string) error {
		if p == "campaign:named" {
			return crash
		}
		return nil
	})
	if err := a.SaveCampaign(ctx, "head", draft("Зима")); !errors.Is(err, crash) {
		t.Fatalf("a's create: %v", err)
	}
	var taken *store.CampaignNameTakenError
	if err := b.SaveCampaign(ctx, "head", draft(" зима ")); !errors.As(err, &taken) || !strings.Contains(err.Error(), "being created") {
		t.Fatalf("b's create while a's is under way: %v", err)
	}
	clock.Add(3 * time.Minute)
	if err := b.SaveCampaign(ctx, "head", draft("зима")); err != nil {
		t.Fatalf("b's create after a crashed: %v", err)
	}
	a.SetCrash(nil)
	if err := a.SaveCampaign(ctx, "head", draft("Зима")); !errors.As(err, &taken) {
		t.Fatalf("a's create after b's: %v", err)
	}
}

// Campaigns named alike before names were unique are found by name only when the
// name is one campaign's.
func TestFindCampaignOfAnAmbiguousName(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	one, two := draft("Весна"), draft("Лето")
	for _, c := range []*store.Campaign{one, two} {
		if err := s.SaveCampaign(ctx, "head", c); err != nil {
			t.Fatal(err)
		}
	}
	// As an older version left them: the same name, and no keys.
	if err := s.RawSetCampaignName(ctx, two.ID, "весна"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"campaign-name:весна", "campaign-name:лето"} {
		if err := s.DeleteKeyForTest(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.FindCampaign(ctx, "ВЕСНА")
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), one.ID) || !strings.Contains(err.Error(), two.ID) {
		t.Fatalf("an ambiguous name: %v", err)
	}
	if c, err := s.FindCampaign(ctx, two.ID); err != nil || c.ID != two.ID {
		t.Fatalf("by ID: %v", err)
	}
	var taken *store.CampaignNameTakenError
	if err := s.SaveCampaign(ctx, "head", draft("Весна")); !errors.As(err, &taken) {
		t.Fatalf("a new campaign of a name without a key: %v", err)
	}
}

// An edit writes only the fields it changes: a change made meanwhile to another field
// stays, and so does the rest of the segment.
func TestEditDraftWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := draft("Осень")
	c.HTML, c.Sender = "<p>Здравствуйте</p>", "Продажи <sales@company.ru>"
	if err := s.SaveCampaign(ctx, "head", c); err != nil {
		t.Fatal(err)
	}
	var stale store.Campaign
	got, fields, err := s.EditDraft(ctx, "head", c.ID, func(x *store.Campaign) error {
		stale = *x
		// Someone else changes the text meanwhile.
		if _, _, err := s.EditDraft(ctx, "other", c.ID, func(y *store.Campaign) error { y.Text = "Добрый день"; return nil }); err != nil {
			return err
		}
		x.Subject, x.HTML = "Скидки до 30%", ""
		x.Segment.Cities = []string{"Москва"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"subject", "html", "segment.cities"}; !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	if got.Subject != "Скидки до 30%" || got.HTML != "" || got.Text != "Добрый день" || got.Sender != stale.Sender ||
		!slices.Equal(got.Segment.Cities, []string{"Москва"}) || !slices.Equal(got.Segment.Tags, []string{"опт"}) || got.Name != "Осень" {
		t.Fatalf("after the edit: %+v", got)
	}
	if _, fields, err := s.EditDraft(ctx, "head", c.ID, func(*store.Campaign) error { return nil }); err != nil || fields != nil {
		t.Fatalf("an edit that changes nothing: %v, %v", fields, err)
	}
	entries, err := s.AuditLog(ctx, c.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	if n := countAudit(entries, "campaign.edit"); n != 2 {
		t.Fatalf("%d edits in the audit log, want 2: %+v", n, entries)
	}
	if _, _, err := s.EditDraft(ctx, "head", c.ID, func(x *store.Campaign) error { x.Name = " "; return nil }); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an empty name: %v", err)
	}
}

// Only drafts are edited and deleted, and only finished campaigns archived; a refusal
// changes nothing.
func TestCampaignEditDeleteArchiveRules(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := draft("Осень")
	if err := s.SaveCampaign(ctx, "head", c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ArchiveCampaign(ctx, "head", c.ID); !errors.Is(err, store.ErrCampaignState) || !strings.Contains(err.Error(), "only a finished") {
		t.Fatalf("archive a draft: %v", err)
	}
	move := func(to store.CampaignState) {
		t.Helper()
		if _, err := s.MoveCampaign(ctx, "head", c.ID, "", []store.CampaignState{c.State}, func(x *store.Campaign) { x.State = to }); err != nil {
			t.Fatal(err)
		}
		c.State = to
	}
	move(store.CampaignSending)
	if _, _, err := s.EditDraft(ctx, "head", c.ID, func(x *store.Campaign) error { x.Subject = "S"; return nil }); !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("edit a running campaign: %v", err)
	}
	if _, err := s.DeleteDraft(ctx, "head", c.ID); !errors.Is(err, store.ErrCampaignState) || !strings.Contains(err.Error(), "only a draft can be deleted") {
		t.Fatalf("delete a running campaign: %v", err)
	}
	if _, err := s.ArchiveCampaign(ctx, "head", c.ID); !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("archive a running campaign: %v", err)
	}
	move(store.CampaignDone)
	got, err := s.ArchiveCampaign(ctx, "head", c.ID)
	if err != nil || !got.IsArchived() || got.State != store.CampaignDone {
		t.Fatalf("archive: %+v, %v", got, err)
	}
	if _, err := s.ArchiveCampaign(ctx, "head", c.ID); !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("archive twice: %v", err)
	}
	if got, _ := s.FindCampaign(ctx, "осень"); got == nil || !got.IsArchived() || got.Subject != "Скидки" {
		t.Fatalf("the archived campaign: %+v", got)
	}
	if _, err := s.DeleteDraft(ctx, "head", c.ID); !errors.Is(err, store.ErrCampaignState) {
		t.Fatalf("delete a finished campaign: %v", err)
	}
}

func countAudit(entries []store.AuditEntry, action string) int {
	n := 0
	for _, e := range entries {
		if e.Action == action {
			n++
		}
	}
	return n
}

// A batch of contacts who get no letter is kept for the report, done from the start;
// a resumed queueing knows their clients; a finished run keeps who, not the letters.
func TestBatchOfSkippedContactsAndDroppedLetters(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	skipped := []store.BatchRecipient{{ClientID: "c1", ContactID: "p1", ClientName: "Ромашка", ContactName: "Анна", Skip: "no consent"},
		{ClientID: "c2", ContactID: "p1", Email: "old@lutik.ru", ClientName: "Лютик", Skip: "bounced"}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "k", Run: 1, Seq: 0}, &store.BatchList{Skipped: skipped}); err != nil {
		t.Fatal(err)
	}
	sent := []store.BatchRecipient{{ClientID: "c3", ContactID: "p1", Email: "vera@vasilek.ru", ClientName: "Василёк", ContactName: "Вера",
		City: "Казань", Letter: &store.BatchLetter{Subject: "S", Text: "T"}}}
	if err := s.QueueBatch(ctx, &store.Batch{CampaignID: "k", Run: 1, Seq: 1}, &store.BatchList{Recipients: sent, Skipped: skipped[:1]}); err != nil {
		t.Fatal(err)
	}
	h, err := s.Batch(ctx, store.BatchID("k", 1, 0))
	if err != nil || h.State != store.BatchDone || !h.Timelined || h.Excluded != 2 || h.Takeable("x", h.Queued) {
		t.Fatalf("the head of skipped contacts: %+v, %v", h, err)
	}
	done, next, err := s.QueuedClients(ctx, "k", 1, 2)
	if err != nil || next != 2 || !done["c1"] || !done["c2"] || !done["c3"] {
		t.Fatalf("queued clients %v, next %d, %v", done, next, err)
	}
	if err := s.DropBatchLetters(ctx, "k", 1, 2); err != nil {
		t.Fatal(err)
	}
	list, err := s.BatchList(ctx, store.BatchID("k", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if r := list.Recipients[0]; len(list.Recipients) != 1 || r.Letter != nil || r.City != "" || r.ClientName != "Василёк" ||
		r.Email != "vera@vasilek.ru" || len(list.Skipped) != 1 || list.Skipped[0].Skip != "no consent" || list.Sent.ID == "" {
		t.Fatalf("after the letters were dropped: %+v", list)
	}
	if list, err := s.BatchList(ctx, store.BatchID("k", 1, 0)); err != nil || len(list.Skipped) != 2 || list.Skipped[1].Email != "old@lutik.ru" {
		t.Fatalf("the skipped contacts' list: %+v, %v", list, err)
	}
}
