package bot_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
)

// An edit opened before the person unsubscribed by the one-click link and their
// address bounced writes the one field it changed: they stay unsubscribed, the bounce
// mark stays, and no mailing reaches them. The card's other taps do the same.
func TestStaleContactEditKeepsUnsubscribeAndBounce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	anna := w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
	agreed := testNow.AddDate(0, -1, 0)
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID, Contacts: map[string]store.Contact{"p": {Name: "Иван",
		Emails: []string{"ivan@romashka.ru"}, Consent: store.Consent{Given: true, At: &agreed, Method: "form"}}}})
	left := func(what string) {
		t.Helper()
		got, err := w.st.Client(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		p := got.Contacts["p"]
		if p.Consent.UnsubscribedAt == nil || !slices.Contains(p.BouncedEmails, "ivan@romashka.ru") {
			t.Fatalf("after %s: consent %+v, bounced %v", what, p.Consent, p.BouncedEmails)
		}
		if e, _ := store.MailableEmail(p); e != "" {
			t.Fatalf("after %s the person gets mailings at %s again", what, e)
		}
	}

	anna.send("Ромашка")
	anna.tap("Контакты")
	anna.tap("✏ Иван")
	menu := anna.last
	anna.expect(anna.tap("Должность"), "Должность?")
	// Meanwhile the person unsubscribes and their address bounces.
	if _, err := w.st.Unsubscribe(ctx, c.ID, "p", "one-click", "autumn"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.MarkBounced(ctx, "ivan@romashka.ru"); err != nil {
		t.Fatal(err)
	}
	anna.expect(anna.send("Коммерческий директор"), "Сохранено")
	left("the position's edit")
	got, _ := w.st.Client(ctx, c.ID)
	if p := got.Contacts["p"]; p.Position != "Коммерческий директор" || p.Name != "Иван" || !p.Consent.Given {
		t.Fatalf("contact after the edit: %+v", p)
	}

	// The menu shown before the unsubscribe: the decision maker's tap and a birthday.
	anna.last = menu
	anna.tap("ЛПР")
	left("the decision maker's tap")
	anna.last = menu
	anna.tap("День рождения")
	anna.send("25.12")
	left("the birthday's edit")
	got, _ = w.st.Client(ctx, c.ID)
	if p := got.Contacts["p"]; !p.DecisionMaker || p.Birthday == nil || p.Birthday.Day != 25 || p.Position != "Коммерческий директор" {
		t.Fatalf("contact after the taps: %+v", p)
	}
}

// A client's edit opened before another manager changed other fields, the legal
// details changed and a contact unsubscribed writes only the field it edits; the
// greetings button does what it said when it was shown, not the opposite of what is
// stored by the time it is tapped.
func TestStaleClientEditKeepsOtherChanges(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	anna := w.manager("Anna", store.RoleManager, "en", "Europe/Moscow")
	olga := w.manager("Olga", store.RoleHead, "en", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Vector LLC", ManagerID: anna.m.ID, City: "Moscow", Industry: "Retail",
		Legal:    store.Legal{INN: "7707083893", KPP: "770701001"},
		Contacts: map[string]store.Contact{"p": {Name: "Ivan", Emails: []string{"ivan@vector.ru"}, Consent: store.Consent{Given: true}}}})

	anna.send("vector")
	anna.tap("Edit")
	menu := anna.last
	anna.expect(anna.tap("City"), "City?", "Moscow")
	// Meanwhile Olga edits the industry and the INN in her chat, the legal address is
	// filled in elsewhere, and the contact unsubscribes.
	olga.send("vector")
	olga.tap("Edit")
	olga.tap("Industry")
	olga.expect(olga.send("Logistics"), "Saved")
	olga.tap("Edit")
	olga.tap("INN")
	olga.expect(olga.send("500100732259"), "Saved")
	if _, err := w.st.Unsubscribe(ctx, c.ID, "p", "link", "autumn"); err != nil {
		t.Fatal(err)
	}
	anna.expect(anna.send("Kazan"), "Saved")
	got, _ := w.st.Client(ctx, c.ID)
	if got.City != "Kazan" || got.Industry != "Logistics" || got.Legal.INN != "500100732259" || got.Legal.KPP != "770701001" {
		t.Fatalf("after the edits: city %q industry %q legal %+v", got.City, got.Industry, got.Legal)
	}
	if got.Contacts["p"].Consent.UnsubscribedAt == nil {
		t.Fatalf("the contact is subscribed again: %+v", got.Contacts["p"].Consent)
	}

	// The menu Anna opened offered to switch greetings off; Olga switched them off
	// first. Anna's tap keeps them off.
	olga.tap("Edit")
	olga.expect(olga.tap("switch off"), "switched off")
	anna.last = menu
	anna.tap("switch off")
	if got, _ := w.st.Client(ctx, c.ID); !got.GreetingsOff {
		t.Fatal("a tap on “switch off” switched greetings on")
	}
	anna.expect(anna.text(), "switched off")
}

// Turning consent back on for a person who unsubscribed themselves shows when and how
// they left and asks the manager to confirm they asked to come back; the audit log
// says so. Someone who never unsubscribed gets consent with one tap, and loses it with
// one.
func TestConsentBackAfterUnsubscribeIsConfirmed(t *testing.T) {
	ctx := context.Background()
	leftAt := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC) // 17:30 in Moscow
	var clock atomic.Int64
	clock.Store(leftAt.UnixNano())
	w := newWorld(t, func(o *store.Options) { o.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() } })
	anna := w.manager("Anna", store.RoleManager, "en", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Vector LLC", ManagerID: anna.m.ID, Contacts: map[string]store.Contact{
		"p": {Name: "Ivan", Emails: []string{"ivan@vector.ru"}, Consent: store.Consent{Given: true}},
		"q": {Name: "Maria", Emails: []string{"maria@vector.ru"}}}})
	if _, err := w.st.Unsubscribe(ctx, c.ID, "p", "one-click", "autumn"); err != nil {
		t.Fatal(err)
	}
	clock.Store(testNow.UnixNano())
	contact := func(id string) store.Contact {
		t.Helper()
		got, err := w.st.Client(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Contacts[id]
	}

	anna.send("vector")
	anna.tap("Contacts")
	anna.expect(anna.tap("✏ Ivan"), "unsubscribed 20.11 17:30")
	got := anna.tap("Consent")
	anna.expect(got, "Ivan", "20.11 17:30", "one click", "asked")
	if p := contact("p"); p.Consent.UnsubscribedAt == nil {
		t.Fatalf("one tap subscribed them again: %+v", p.Consent)
	}
	anna.tap("Cancel")
	if p := contact("p"); p.Consent.UnsubscribedAt == nil {
		t.Fatalf("cancel subscribed them again: %+v", p.Consent)
	}
	anna.tap("Consent")
	anna.expect(anna.tap("asked to come back"), "Ivan")
	p := contact("p")
	if e, why := store.MailableEmail(p); e != "ivan@vector.ru" {
		t.Fatalf("after the confirmation: %q (%s), consent %+v", e, why, p.Consent)
	}
	log, err := w.st.AuditLog(ctx, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e store.AuditEntry) bool { return e.Action == "contact.resubscribe" })
	if i < 0 {
		t.Fatalf("no audit entry of the return: %+v", log)
	}
	e := log[i]
	if e.ActorID != anna.m.ID || e.Changes["contact"] != "p" || e.Changes["confirmed"] != "the person asked to come back" ||
		e.Changes["leftVia"] != "one-click" {
		t.Fatalf("audit entry: %+v", e)
	}

	// Maria never unsubscribed: one tap gives consent, one takes it away.
	anna.tap("Back")
	anna.tap("✏ Maria")
	anna.expect(anna.tap("Consent"), "agreed to newsletters")
	if e, _ := store.MailableEmail(contact("q")); e != "maria@vector.ru" {
		t.Fatalf("Maria's consent: %+v", contact("q").Consent)
	}
	anna.tap("Withdraw")
	if p := contact("q"); p.Consent.Given || p.Consent.UnsubscribedAt != nil {
		t.Fatalf("Maria's consent after withdrawing: %+v", p.Consent)
	}
	log, _ = w.st.AuditLog(ctx, c.ID, 10)
	var maria []any
	for _, e := range log {
		if e.Changes["contact"] == "q" {
			if e.Action != "contact.consent" {
				t.Fatalf("audit of Maria's consent: %+v", e)
			}
			maria = append(maria, e.Changes["consent"])
		}
	}
	if len(maria) != 2 || !slices.Contains(maria, true) || !slices.Contains(maria, false) {
		t.Fatalf("audit of Maria's consent: %v", maria)
	}
}
