package invoice

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var romashka = store.Requisites{Name: "ООО «Ромашка»", VAT: 20, PayDays: 3, Director: "Иванов Иван Иванович",
	Legal: store.Legal{INN: "7707083893", KPP: "773601001", Address: "г. Москва", Bank: "ПАО Сбербанк", BIK: "044525225",
		Account: "40702810100000000001", CorrAccount: "30101810400000000225"}}

// The bot's and the CLI's invoice: numbered once per order and in turn through the
// year, for the order's own client, with the company's requisites, and refused with
// what to do when they are missing (taking no number then).
func TestMakerInvoicePDF(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC))
	s := storetest.OnClock(t, clock)
	anna := storetest.Manager(t, s, store.Manager{Name: "Анна", TelegramID: 11, Role: store.RoleManager})
	boris := storetest.Manager(t, s, store.Manager{Name: "Борис", TelegramID: 12, Role: store.RoleManager})
	asAnna, asBoris := store.Viewer{ManagerID: anna.ID, Role: anna.Role}, store.Viewer{ManagerID: boris.ID, Role: boris.Role}
	c := &store.Client{Name: "ООО «Вектор»", Kind: store.KindCompany, ManagerID: anna.ID,
		Legal: store.Legal{INN: "7736207543", KPP: "770401001", Address: "г. Новосибирск"}}
	if err := s.CreateClient(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, amount := range []int64{1250000, 100100} {
		o, err := s.RecordOrder(ctx, asAnna, store.NewOrder{ClientID: c.ID, What: "Поставка", Amount: amount})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	m := Maker{Store: s, Location: msk}
	if _, _, err := m.InvoicePDF(ctx, asAnna, ids[0]); !errors.Is(err, store.ErrNoRequisites) || !strings.Contains(err.Error(), "crm company set") {
		t.Fatalf("without requisites: %v", err)
	}
	if err := s.SetCompanyRequisites(ctx, "admin", romashka); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.InvoicePDF(ctx, asBoris, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another manager's order: %v", err)
	}
	for i, c := range []struct {
		order      int
		name, text string
	}{
		{1, "Счёт 1 от 03.12.2026.pdf", "Одна тысяча один рубль 00 копеек"},
		{0, "Счёт 2 от 03.12.2026.pdf", "Двенадцать тысяч пятьсот рублей 00 копеек"},
		{1, "Счёт 1 от 03.12.2026.pdf", "Счёт на оплату № 1 от 3 декабря 2026 г."},
	} {
		name, pdf, err := m.InvoicePDF(ctx, asAnna, ids[c.order])
		if err != nil {
			t.Fatal(err)
		}
		if name != c.name {
			t.Errorf("invoice %d: named %q, want %q", i, name, c.name)
		}
		keep(t, name, pdf)
		text := pdfText(t, pdf)
		for _, want := range []string{c.text, "ИНН 7707083893", "ИНН 7736207543", "Оплатить не позднее 6 декабря 2026 г.", "Иванов И. И.", "Поставка 1 шт"} {
			if !strings.Contains(text, want) {
				t.Errorf("invoice %d lacks %q:\n%s", i, want, text)
			}
		}
	}
	// A company of services counts its orders in its own unit.
	services := romashka
	services.Unit = "усл."
	if err := s.SetCompanyRequisites(ctx, "admin", services); err != nil {
		t.Fatal(err)
	}
	_, pdf, err := m.InvoicePDF(ctx, asAnna, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, pdf); !strings.Contains(text, "Поставка 1 усл.") {
		t.Errorf("the invoice's unit is not the company's:\n%s", text)
	}
}
