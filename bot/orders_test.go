package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// rub writes an amount the way the bot shows it: "12 500" with the narrow no-break
// space of store.FormatAmount, and the rouble sign.
func rub(s string) string { return strings.ReplaceAll(s, " ", "\u202f") + " ₽" }

// money reads a client's orders as the card does.
func (w *world) money(clientID string) *store.ClientMoney {
	w.t.Helper()
	m, err := w.st.ClientMoney(context.Background(), clientID)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// newShop is a store and bot on the tests' clock (order numbers and payments are
// dated by the store's), with Anna, a manager.
func newShop(t *testing.T) (*world, *chat) {
	w := newWorld(t, func(o *store.Options) { o.Now = func() time.Time { return testNow } })
	return w, w.manager("Анна", store.RoleManager, "ru", "Europe/Moscow")
}

// newOrder goes through the new-order dialog from the client's card: what, amount,
// date (typed, or "" for the Today button), then the state's button.
func (c *chat) newOrder(client, what, amount, date, state string) string {
	c.w.t.Helper()
	c.send(client)
	c.expect(c.tap("💰 Заказ"), "Новый заказ для", "Что заказали?")
	c.expect(c.send(what), "Сумма заказа")
	c.expect(c.send(amount), "Дата заказа")
	if date == "" {
		c.expect(c.tap("Сегодня, 23.11.2026"), "оплачен или выставлен счёт")
	} else {
		c.expect(c.send(date), "оплачен или выставлен счёт")
	}
	return c.tap(state)
}

// An invoiced order, paid in two parts: the card shows what is owed, then the order
// paid and the year's total; the first paid order makes the client gold, and the
// history has the order, each payment and the stage move with the order that caused it.
func TestOrderInvoicedThenPaidInTwoParts(t *testing.T) {
	w, anna := newShop(t)
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID, Stage: store.StageGreenGold})

	got := anna.newOrder("Ромашка", "Бумага А4, 50 пачек", "12 500", "20.11", "Выставлен счёт")
	anna.expect(got, "Заказ №2026-1 записан", "Бумага А4, 50 пачек", rub("12 500"), "от 20.11.2026", "ждёт оплаты до 25.11.2026")
	anna.refuse(got, "Клиент теперь")
	m := w.money(c.ID)
	if len(m.Orders) != 1 || m.Orders[0].Amount != 12_500_00 || m.Orders[0].State != store.OrderInvoiced || m.Owed != 12_500_00 {
		t.Fatalf("the order: %+v", m)
	}
	// Paid by the 25th (five days to pay), it is not overdue on the 23rd.
	card := anna.tap("Карточка")
	anna.expect(card, "💰 Долг: "+rub("12 500")+" · оплачено в 2026: "+rub("0"), "№2026-1 Бумага А4, 50 пачек — "+rub("12 500")+", ⏳ ждёт оплаты")
	anna.refuse(card, "просроч")

	// The first part, typed with kopecks and a past date.
	anna.tap("🧾 Заказы")
	anna.expect(anna.tap("№2026-1"), "Заказ №2026-1", "от 20.11.2026", "Долг: "+rub("12 500")+", оплатить до 25.11.2026")
	anna.expect(anna.tap("Оплата"), "Оплата по заказу №2026-1", "Долг: "+rub("12 500"))
	anna.expect(anna.send("5 000,50"), "Дата оплаты")
	got = anna.send("21.11")
	anna.expect(got, "Оплата "+rub("5 000,50")+" по заказу №2026-1 записана", "Осталось оплатить: "+rub("7 499,50"))
	anna.refuse(got, "Клиент теперь")
	if m := w.money(c.ID); m.Owed != 7_499_50 || m.PaidThisYear != 5_000_50 || m.Orders[0].State != store.OrderInvoiced {
		t.Fatalf("after the first part: %+v", m)
	}
	anna.expect(anna.tap("Карточка"), "💰 Долг: "+rub("7 499,50")+" · оплачено в 2026: "+rub("5 000,50"), "⏳ долг "+rub("7 499,50"))

	// The rest, by the button, today.
	anna.tap("🧾 Заказы")
	anna.tap("№2026-1")
	anna.tap("Оплата")
	anna.expect(anna.tap("Весь долг: "+rub("7 499,50")), "Дата оплаты")
	got = anna.tap("Сегодня")
	anna.expect(got, "Оплата "+rub("7 499,50")+" по заказу №2026-1 записана", "Заказ оплачен полностью", "Клиент теперь: 🥇 Золотой")
	m = w.money(c.ID)
	if m.Owed != 0 || m.PaidThisYear != 12_500_00 || m.PaidOrders != 1 || m.Orders[0].State != store.OrderPaid {
		t.Fatalf("after the rest: %+v", m)
	}
	o, err := w.st.Order(context.Background(), "2026-1")
	if err != nil || len(o.Payments) != 2 || !o.Payments[1].Date.Equal(testNow) || o.Payments[0].Date.Day() != 21 {
		t.Fatalf("the payments: %+v %v", o, err)
	}
	card = anna.tap("Карточка")
	anna.expect(card, "🥇 Золотой", "💰 Долг: "+rub("0")+" · оплачено в 2026: "+rub("12 500"), "№2026-1 Бумага А4, 50 пачек — "+rub("12 500")+", ✅ оплачен")

	// The order's view: paid, its payments; no payment or cancel button any more.
	anna.tap("🧾 Заказы")
	got = anna.tap("№2026-1")
	anna.expect(got, "✅ Оплачен полностью 23.11.2026", "Оплаты:", "• 21.11.2026 — "+rub("5 000,50"), "• 23.11.2026 — "+rub("7 499,50"))
	for _, b := range anna.buttons() {
		if strings.Contains(b, "Оплата") || strings.Contains(b, "Отменить") || strings.Contains(b, "Счёт") {
			t.Fatalf("a paid order offers %s", b)
		}
	}

	anna.tap("Карточка")
	hist := anna.tap("История")
	anna.expect(hist, "💰 заказ №2026-1: Бумага А4, 50 пачек — "+rub("12 500")+", ждёт оплаты",
		"💵 оплата "+rub("5 000,50")+" по заказу №2026-1: оплачено "+rub("5 000,50")+" из "+rub("12 500"),
		"💵 оплата "+rub("7 499,50")+" по заказу №2026-1 — оплачен полностью",
		"🥇 Золотой — первый заказ оплачен (заказ №2026-1)")
}

// An order recorded paid makes the client gold at once; one dated long ago and still
// unpaid is overdue on the card. The English texts say the same.
func TestOrderPaidAtOnceAndOverdueInEnglish(t *testing.T) {
	w := newWorld(t, func(o *store.Options) { o.Now = func() time.Time { return testNow } })
	ann := w.manager("Ann", store.RoleManager, "en", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Acme", ManagerID: ann.m.ID, Stage: store.StageGreen})
	ann.send("Acme")
	ann.tap("💰 Order")
	ann.send("Consulting")
	ann.send("1 200")
	ann.tap("Today")
	got := ann.tap("✅ Paid")
	ann.expect(got, "✅ Order 2026-1 recorded: Consulting — "+rub("1 200")+" of 23.11.2026, paid.", "The client is now: 🥇 Gold")

	ann.send("Acme")
	ann.tap("💰 Order")
	ann.send("Support")
	ann.send("300 rub")
	ann.send("01.11.2026")
	ann.expect(ann.tap("Invoiced"), "Order 2026-2 recorded", "waiting for payment by 06.11.2026")
	card := ann.tap("Card")
	ann.expect(card, "💰 Owed: "+rub("300")+", of it overdue ⚠ "+rub("300")+" · paid in 2026: "+rub("1 200"),
		"2026-2 Support — "+rub("300")+", ⏳ waiting for payment ⚠ overdue", "2026-1 Consulting — "+rub("1 200")+", ✅ paid")
	ann.tap("🧾 Orders")
	ann.expect(ann.tap("2026-2"), "⚠ Owed: "+rub("300")+", overdue: it was to be paid by 06.11.2026")
	ann.tap("Card")
	ann.expect(ann.tap("History"), "💰 order 2026-1: Consulting — "+rub("1 200")+", paid", "(order 2026-1)",
		"💰 order 2026-2: Support — "+rub("300")+", waiting for payment")
	if m := w.money(c.ID); m.Owed != 300_00 || m.Overdue != 300_00 || m.PaidOrders != 1 {
		t.Fatalf("the money: %+v", m)
	}
}

// Bad input is explained and the question asked again, and nothing is stored: a
// negative amount, an unknown currency, words, zero, a date to come, a payment larger
// than what is owed.
func TestOrderBadInputIsRefusedAndNothingStored(t *testing.T) {
	w, anna := newShop(t)
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	anna.send("Ромашка")
	anna.tap("💰 Заказ")
	anna.send("Бумага")
	for _, bad := range []struct{ typed, want string }{
		{"-5 000", "Сумма не может быть отрицательной: «-5 000»"},
		{"−5000", "Сумма не может быть отрицательной"},
		{"100 USD", "Валюта «USD» не принимается: суммы ведутся в рублях (₽)"},
		{"€100", "Валюта «€» не принимается"},
		{"много", "«много» — не сумма"},
		{"0", "«0» — не сумма"},
		{"12a500", "«12a500» — не сумма"},
	} {
		got := anna.send(bad.typed)
		anna.expect(got, bad.want)
		anna.refuse(got, "Дата заказа")
	}
	anna.expect(anna.send("12 500 руб."), "Дата заказа")
	for _, bad := range []struct{ typed, want string }{
		{"завтра", "24.11.2026 ещё не наступило"},
		{"31.12.2027", "31.12.2027 ещё не наступило"},
		{"когда-то", "Не понял дату «когда-то»"},
	} {
		anna.expect(anna.send(bad.typed), bad.want)
	}
	anna.expect(anna.send("вчера"), "оплачен или выставлен счёт")
	anna.expect(anna.send("отменён"), "Выберите кнопкой")
	if m := w.money(c.ID); len(m.Orders) != 0 {
		t.Fatalf("an order was stored before the dialog ended: %+v", m)
	}
	anna.expect(anna.send("выставлен"), "Заказ №2026-1 записан", rub("12 500"), "от 22.11.2026")

	// A payment larger than what is owed: refused, nothing stored, asked again.
	anna.tap("Оплата")
	anna.send("20 000")
	got := anna.send("сегодня")
	anna.expect(got, "Оплата "+rub("20 000")+" больше долга по заказу №2026-1: "+rub("12 500")+". Ничего не записано.",
		"Сколько оплачено?")
	if o, _ := w.st.Order(context.Background(), "2026-1"); len(o.Payments) != 0 {
		t.Fatalf("an overpayment was stored: %+v", o.Payments)
	}
	// The date is kept: the amount typed again saves.
	anna.expect(anna.send("12 500"), "Оплата "+rub("12 500")+" по заказу №2026-1 записана", "оплачен полностью")
	if m := w.money(c.ID); m.Owed != 0 || m.PaidThisYear != 12_500_00 {
		t.Fatalf("the money: %+v", m)
	}
	// An old Payment button of a paid order: told, no dialog.
	anna.expect(anna.tapData("op:2026-1"), "Заказ №2026-1 уже оплачен полностью.")
	anna.expect(anna.send("Ромашка"), "Ромашка")
}

// An order is cancelled with a quick reason or a typed one; an order with payments is
// not, and says why.
func TestOrderCancelledWithAReason(t *testing.T) {
	w, anna := newShop(t)
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	anna.newOrder("Ромашка", "Стол", "10 000", "", "Выставлен счёт")
	anna.newOrder("Ромашка", "Стул", "2 000", "", "Выставлен счёт")
	anna.newOrder("Ромашка", "Шкаф", "30 000", "", "Выставлен счёт")

	anna.tap("🧾 Заказы")
	anna.tap("№2026-1")
	anna.expect(anna.tap("Отменить заказ"), "Почему отменяем заказ №2026-1 ("+rub("10 000")+")?")
	got := anna.tap("Дубль")
	anna.expect(got, "Заказ №2026-1 отменён: Дубль.", "✖ Отменён: Дубль")

	anna.tap("🧾 Заказы")
	anna.tap("№2026-2")
	anna.tap("Отменить заказ")
	anna.expect(anna.send("Клиент нашёл дешевле"), "Заказ №2026-2 отменён: Клиент нашёл дешевле.")
	anna.expect(anna.send("Ромашка"), "Ромашка") // the dialog is over: a search

	// Paid in part, the third is not cancelled.
	anna.tap("🧾 Заказы")
	anna.tap("№2026-3")
	anna.tap("Оплата")
	anna.send("1 000")
	anna.tap("Сегодня")
	anna.tap("Заказ №2026-3")
	for _, b := range anna.buttons() {
		if strings.Contains(b, "Отменить") {
			t.Fatalf("an order with payments offers %s", b)
		}
	}
	anna.tapData("oc:2026-3")
	anna.expect(anna.tap("Клиент передумал"), "По заказу №2026-3 уже оплачено "+rub("1 000")+": заказ с оплатами не отменить.")
	anna.expect(anna.tapData("oy:2026-1:mistake"), "Заказ №2026-1 уже отменён.")
	anna.send("Ромашка")

	m := w.money(c.ID)
	states := map[string]store.OrderState{}
	for _, r := range m.Orders {
		states[r.ID] = r.State
	}
	if m.Owed != 29_000_00 || states["2026-1"] != store.OrderCancelled || states["2026-2"] != store.OrderCancelled ||
		states["2026-3"] != store.OrderInvoiced {
		t.Fatalf("the orders: %+v", m)
	}
	if o, _ := w.st.Order(context.Background(), "2026-1"); o.CancelReason != "Дубль" {
		t.Fatalf("the reason: %q", o.CancelReason)
	}
	card := anna.text()
	anna.expect(card, "💰 Долг: "+rub("29 000"), "№2026-3 Шкаф — "+rub("30 000")+", ⏳ долг "+rub("29 000"),
		"№2026-2 Стул — "+rub("2 000")+", ✖ отменён")
	anna.expect(anna.tap("История"), "✖ заказ №2026-1 отменён: Дубль", "✖ заказ №2026-2 отменён: Клиент нашёл дешевле")
}

// The call outcome "order" records the call and goes straight into the new order.
func TestCallOutcomeOrderLeadsToTheOrder(t *testing.T) {
	w, anna := newShop(t)
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID, Stage: store.StageGreenGold})
	anna.send("Ромашка")
	anna.tap("Звонок")
	got := anna.tap("💰 Заказ")
	anna.expect(got, "Звонок записан: 💰 Заказ.", "Новый заказ для <b>Ромашка</b>", "Что заказали?")
	anna.send("Картриджи")
	anna.send("4500")
	anna.tap("Сегодня")
	anna.expect(anna.tap("Оплачен"), "Заказ №2026-1 записан: Картриджи — "+rub("4 500"), "Клиент теперь: 🥇 Золотой")
	items, _, err := w.st.Timeline(context.Background(), c.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var call, order bool
	for _, it := range items {
		call = call || it.Kind == store.InteractionCall && it.Call != nil && it.Call.Outcome == "order"
		order = order || it.Kind == store.InteractionOrder && it.OrderID == "2026-1"
	}
	if !call || !order {
		t.Fatalf("the timeline: %+v", items)
	}
}

// A client that went to another manager while the order was being typed: the store
// refuses the order and nothing is stored; an unassigned client's order is recorded by
// whoever sees the client, and a head records one for anybody's client.
func TestOrderForAClientOutOfReach(t *testing.T) {
	w, anna := newShop(t)
	ctx := context.Background()
	boris := w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	head := w.manager("Ольга", store.RoleHead, "ru", "Europe/Moscow")
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	anna.send("Ромашка")
	anna.tap("💰 Заказ")
	anna.send("Бумага")
	anna.send("1000")
	anna.tap("Сегодня")
	borisID := boris.m.ID
	if _, err := w.st.UpdateClient(ctx, head.m.ID, c.ID, store.ClientPatch{ManagerID: &borisID}); err != nil {
		t.Fatal(err)
	}
	anna.expect(anna.tap("Оплачен"), "Клиент не найден.")
	if m := w.money(c.ID); len(m.Orders) != 0 {
		t.Fatalf("an order for another manager's client was stored: %+v", m)
	}
	anna.expect(anna.send("Взломано"), "ничего не нашлось")

	head.expect(head.newOrder("Ромашка", "Бумага", "1000", "", "Оплачен"), "Заказ №2026-1 записан")
	nobodys := w.client(&store.Client{Name: "Ничей"})
	anna.expect(anna.newOrder("Ничей", "Ручки", "500", "", "Выставлен счёт"), "Заказ №2026-2 записан")
	if m := w.money(nobodys.ID); len(m.Orders) != 1 {
		t.Fatalf("the unassigned client's orders: %+v", m)
	}
}

// Forged order taps (the order, its payment, cancel, a quick reason, the invoice, the
// list and a new order of another manager's client, and the dialog's buttons) neither
// show nor change Boris's order; a head sees it.
func TestForgedOrderTapsAreRefused(t *testing.T) {
	f := newForgery(t)
	theirs := f.fresh(f.theirs)
	id := f.order.ID
	for _, d := range []string{"oo:" + id, "op:" + id, "oc:" + id, "oy:" + id + ":mistake", "oi:" + id, "oo:nothere", "oo:"} {
		f.forge(f.anna, d, "Заказ не найден.")
	}
	for _, d := range []string{"ol:" + theirs.ID, "on:" + theirs.ID, "pg:z:0:" + theirs.ID} {
		f.forge(f.anna, d, "Клиент не найден.")
	}
	// With her own payment dialog open, Anna's forged buttons of the dialog do not
	// reach Boris's order.
	own, err := f.st.RecordOrder(context.Background(), store.Viewer{ManagerID: f.anna.m.ID}, store.NewOrder{ClientID: f.mine.ID,
		What: "Ручки", Amount: 500_00})
	if err != nil {
		t.Fatal(err)
	}
	f.anna.expect(f.anna.tapData("op:"+own.ID), "Сколько оплачено?")
	for _, d := range []string{"oa:" + id, "od:" + id, "ou:" + theirs.ID + ":paid"} {
		if got := f.anna.tapData(d); got != "[notice] Этот диалог уже закончен." {
			t.Fatalf("forged %s: %s", d, got)
		}
	}
	f.anna.send("/cancel")
	f.unchanged(theirs)
	f.orderUnchanged()
	f.head.expect(f.head.tapData("oo:"+id), "Заказ №"+id, "Станок", rub("1 000 000"))
}

// invoices stands in for the invoice package: it numbers the invoice through the
// store, as the real one does, and returns a PDF's first bytes.
type invoices struct{ st *store.Store }

func (i invoices) InvoicePDF(ctx context.Context, v store.Viewer, orderID string) (string, []byte, error) {
	o, _, err := i.st.IssueInvoice(ctx, v, orderID)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("Счёт %d от %s.pdf", o.Invoice.Number, o.Invoice.Date.Format("02.01.2006")), []byte("%PDF-1.7 " + o.ID), nil
}

// On a phone: an order recorded from the card, its invoice sent as a document, paid
// in two parts; the card follows, and the client becomes gold.
func TestOrderOnAPhone(t *testing.T) {
	p := newPhone(t, func(o *bot.Options, st *store.Store) { o.Invoices = invoices{st} })
	anna := p.manager(1, "Анна", store.RoleManager)
	p.client(&store.Client{Name: "Ромашка", ManagerID: anna.ID, Stage: store.StageGreenGold})

	card := p.say(1, "Ромашка")
	m := p.tap(card, "💰 Заказ")
	p.has(m, "Новый заказ для <b>Ромашка</b>")
	p.has(p.say(1, "Бумага <А4>"), "Сумма заказа")
	m = p.say(1, "12 500,50 ₽")
	p.has(m, "Дата заказа")
	m = p.tap(m, "Сегодня")
	p.has(m, "оплачен или выставлен счёт")
	saved := p.tap(m, "Выставлен счёт")
	p.has(saved, "Заказ №2026-1 записан: Бумага &lt;А4&gt; — "+rub("12 500,50"), "ждёт оплаты до 28.11.2026")

	note := p.tap(saved, "📄 Счёт")
	p.has(note, "Счёт по заказу №2026-1")
	doc := p.srv.Next(1, phoneWait)
	if doc.Method != "sendDocument" || doc.FileName != "Счёт 1 от 23.11.2026.pdf" || string(doc.Content) != "%PDF-1.7 2026-1" {
		t.Fatalf("the invoice: %s %q %q", doc.Method, doc.FileName, doc.Content)
	}

	m = p.tap(saved, "Оплата")
	p.has(m, "Долг: "+rub("12 500,50"))
	m = p.say(1, "10000")
	p.has(m, "Дата оплаты")
	paid := p.tap(m, "Сегодня")
	p.has(paid, "Оплата "+rub("10 000")+" по заказу №2026-1 записана", "Осталось оплатить: "+rub("2 500,50"))
	card = p.tap(paid, "Карточка")
	p.has(card, "💰 Долг: "+rub("2 500,50")+" · оплачено в 2026: "+rub("10 000"), "⏳ долг "+rub("2 500,50"))

	view := p.tap(paid, "Заказ №2026-1")
	p.has(view, "📄 Счёт №1 от 23.11.2026", "Оплачено: "+rub("10 000"))
	m = p.tap(view, "Оплата")
	m = p.tap(m, "Весь долг")
	paid = p.tap(m, "Сегодня")
	p.has(paid, "Заказ оплачен полностью", "Клиент теперь: 🥇 Золотой")
	p.has(p.tap(paid, "Карточка"), "🥇 Золотой", "✅ оплачен", "оплачено в 2026: "+rub("12 500,50"))
}

// noRequisites is an invoice maker of a company whose requisites were never set.
type noRequisites struct{}

func (noRequisites) InvoicePDF(context.Context, store.Viewer, string) (string, []byte, error) {
	return "", nil, store.ErrNoRequisites
}

// Without an invoice maker an order has no invoice button; with one, requisites never
// set are explained, and nothing is sent.
func TestInvoiceButtonAndMissingRequisites(t *testing.T) {
	w, anna := newShop(t)
	w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	anna.newOrder("Ромашка", "Бумага", "1000", "", "Выставлен счёт")
	for _, b := range anna.buttons() {
		if strings.Contains(b, "Счёт") {
			t.Fatalf("an invoice button without an invoice maker: %s", b)
		}
	}
	b, err := bot.New(w.st, bot.Options{Texts: templates.FS, Now: func() time.Time { return testNow }, Invoices: noRequisites{}})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = b
	anna.tapData("oo:2026-1")
	got := anna.tap("📄 Счёт")
	if got != "[notice] Реквизиты компании ещё не заданы, счёт не сделать. Их задаёт администратор." {
		t.Fatalf("an invoice without requisites: %s", got)
	}
}

// An order numbered by the accounting system with the data's separator and too long
// for a button (1C writes "Реализация ... от <date>") is opened, paid and cancelled
// from its buttons like any other; a forged reference to another manager's order
// shows nothing.
func TestOrderWithALongNumberFromItsButtons(t *testing.T) {
	w, anna := newShop(t)
	ctx := context.Background()
	c := w.client(&store.Client{Name: "Ромашка", ManagerID: anna.m.ID})
	long := "Реализация товаров: ЦБ-000000123 от 20.11.2026"
	other := "Счёт: ЦБ-000000124 от 21.11.2026 (доставка и монтаж)"
	date := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if _, err := w.st.UpsertOrders(ctx, "import", []store.Order{
		{ID: long, ClientID: c.ID, What: "Бумага", Amount: 3_000_00, Currency: store.Currency, Date: date, State: store.OrderInvoiced},
		{ID: other, ClientID: c.ID, What: "Монтаж", Amount: 500_00, Currency: store.Currency, Date: date, State: store.OrderInvoiced},
	}); err != nil {
		t.Fatal(err)
	}
	fits := func() {
		t.Helper()
		for _, b := range anna.buttons() {
			if _, data, _ := strings.Cut(b, "="); len(data) > 64 {
				t.Fatalf("button data over Telegram's 64 bytes: %s", b)
			}
		}
	}
	anna.send("Ромашка")
	anna.tap("🧾 Заказы")
	fits()
	anna.expect(anna.tap("№Реализация"), "Заказ №"+long, "Долг: "+rub("3 000"))
	fits()
	anna.expect(anna.tap("Оплата"), "Оплата по заказу №"+long)
	fits()
	anna.tap("Весь долг")
	got := anna.tap("Сегодня")
	fits()
	anna.expect(got, long)
	anna.expect(anna.tap("🧾 Заказ №"), "Заказ №"+long, "Оплачен")
	anna.tap("Заказы")
	anna.expect(anna.tap("№Счёт"), "Заказ №"+other)
	anna.tap("Отменить заказ")
	fits()
	anna.expect(anna.tap("Дубль"), "Заказ №"+other+" отменён: Дубль.")
	states := map[string]store.OrderState{}
	for _, r := range w.money(c.ID).Orders {
		states[r.ID] = r.State
	}
	if states[long] != store.OrderPaid || states[other] != store.OrderCancelled {
		t.Fatalf("the orders: %v", states)
	}

	boris := w.manager("Борис", store.RoleManager, "ru", "Europe/Moscow")
	boris.send("/start")
	for _, d := range []string{"oo:" + bot.OrderRef(c.ID, long), "op:" + bot.OrderRef(c.ID, long), "oo:~" + c.ID + "~nothere", "oo:~"} {
		boris.expect(boris.tapData(d), "Заказ не найден")
	}
}
