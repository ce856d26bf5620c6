// Orders and payments in the chat: the new-order dialog, a client's orders, an order
// with its payment, cancellation and invoice, and the lines they leave in the history.
// The store checks every amount and who may do what; the bot reads what was typed and
// says in the manager's language why the store refused it.

package bot

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/crm-team/crm/store"
)

// Invoices makes an order's invoice ("Счёт на оплату") as a PDF for a viewer who may
// see the order; nil in Options: the order has no invoice button.
type Invoices interface {
	InvoicePDF(ctx context.Context, viewer store.Viewer, orderID string) (name string, pdf []byte, err error)
}

// The dialogs of money (onDialogText hands their text to orderText).
const (
	dialogOrder       dialogKind = "order"        // a new order: what, amount, date, state
	dialogPayment     dialogKind = "payment"      // a payment of an order: amount, date
	dialogOrderCancel dialogKind = "order-cancel" // why an order is cancelled
)

// orderStep is the question an order or payment dialog waits an answer to.
type orderStep string

const (
	stepWhat   orderStep = "what"   // what was ordered (free text)
	stepAmount orderStep = "amount" // how much, typed as people type it
	stepDate   orderStep = "date"   // the order's or payment's day, today by a button
	stepState  orderStep = "state"  // invoiced or paid
)

// orderDraft is what an order, payment or cancellation dialog has read so far.
type orderDraft struct {
	step     orderStep
	orderID  string      // a payment's or a cancellation's order
	stage    store.Stage // the client's when the dialog began, to say when money moved it
	owed     int64       // a payment's order: what was owed when asked
	what     string
	amount   int64
	currency string
	date     time.Time
	dated    bool // a date was given (a payment asked again for its amount keeps it)
}

// payDays is how long an invoice made in the chat gives to pay when the company's
// requisites do not say (store.Requisites.PayDays).
const payDays = 5

const tapOrderNew tap = "on" // on:<client>

// startOrder opens the new-order dialog for a client the manager may see; lead is said
// before the first question (the call it follows).
func (t *turn) startOrder(id, lead string) {
	c := t.client(id)
	if c == nil {
		return
	}
	t.s.dialog = &dialog{kind: dialogOrder, clientID: c.ID, order: &orderDraft{step: stepWhat, stage: c.Stage}}
	q := t.tr("order.ask_what", "name", c.Name)
	if lead != "" {
		q = lead + "\n\n" + q
	}
	t.say(q, row(btn(t.tr("btn.cancel"), tapCancel.data())))
}

// orderAfterCall records a call whose outcome is an order and goes straight on to
// the order.
func (t *turn) orderAfterCall(c *store.Client) {
	if _, err := t.st.AppendInteraction(t.ctx, c.ID, store.Interaction{Kind: store.InteractionCall, AuthorID: t.m.ID,
		Call: &store.Call{Direction: "out", Outcome: "order"}}); err != nil {
		t.fail("save call", err)
		return
	}
	t.startOrder(c.ID, t.tr("call.to_order", "outcome", t.tr("outcome.order")))
}

// orderKey is what a dialog button names to be taken by this dialog: the client of a
// new order, the order of a payment.
func (d *dialog) orderKey() string {
	if d.kind == dialogOrder {
		return d.clientID
	}
	return orderRef(d.clientID, d.order.orderID)
}

// orderRefMax is the longest order number a button carries as it is: with a tap's
// code and one more argument the data stays within Telegram's 64 bytes.
const orderRefMax = 37

// orderRef names an order in a button's data. A number with the data's separator,
// a leading "~" or too long for a button is named by its client and a hash of the
// number instead: "~<client>~<hash>", found again among the client's orders.
func orderRef(clientID, orderID string) string {
	if len(orderID) <= orderRefMax && !strings.ContainsAny(orderID, ":~") {
		return orderID
	}
	return "~" + clientID + "~" + orderHash(orderID)
}

func orderHash(orderID string) string {
	sum := sha256.Sum256([]byte(orderID))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// orderNamed is the number a button's order reference names ("" when none of the
// client's orders has it).
func (t *turn) orderNamed(ref string) (string, error) {
	clientID, hash, ok := strings.Cut(strings.TrimPrefix(ref, "~"), "~")
	if !ok || !strings.HasPrefix(ref, "~") {
		return ref, nil
	}
	m, err := t.st.ClientMoney(t.ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, r := range m.Orders {
		if orderHash(r.ID) == hash {
			return r.ID, nil
		}
	}
	return "", nil
}

// orderDialog is the order or payment dialog a button answers, waiting at step;
// nil (with the reason said) when the button is of another dialog or question.
func (t *turn) orderDialog(key string, step orderStep) *dialog {
	d := t.s.dialog
	if d == nil || d.order == nil || (d.kind != dialogOrder && d.kind != dialogPayment) || d.orderKey() != key {
		t.notice(t.tr("dialog.over"))
		return nil
	}
	if d.order.step != step {
		t.notice(t.tr("form.skipped"))
		return nil
	}
	return d
}

// askOrder puts the dialog's current question.
func (t *turn) askOrder(d *dialog) {
	dr, cancel := d.order, row(btn(t.tr("btn.cancel"), tapCancel.data()))
	switch {
	case dr.step == stepAmount && d.kind == dialogPayment:
		t.say(t.tr("pay.ask_amount", "id", dr.orderID, "owed", money(dr.owed)),
			row(btn(t.tr("btn.pay_all", "amount", money(dr.owed)), tapPayAll.data(d.orderKey()))), cancel)
	case dr.step == stepAmount:
		t.say(t.tr("order.ask_amount"), cancel)
	case dr.step == stepDate:
		q := "order.ask_date"
		if d.kind == dialogPayment {
			q = "pay.ask_date"
		}
		t.say(t.tr(q), row(btn(t.tr("btn.today", "date", t.day(t.now)), tapOrderToday.data(d.orderKey()))), cancel)
	case dr.step == stepState:
		t.say(t.tr("order.ask_state"), row(btn(t.tr("btn.invoiced"), tapOrderState.data(d.clientID, store.OrderInvoiced)),
			btn(t.tr("btn.paid"), tapOrderState.data(d.clientID, store.OrderPaid))), cancel)
	}
}

// orderText takes a typed answer of an order, payment or cancellation dialog. A bad
// answer is explained and the question stays.
func (t *turn) orderText(d *dialog, text string) {
	dr := d.order
	if d.kind == dialogOrderCancel {
		t.cancelOrder(dr.orderID, text)
		return
	}
	switch dr.step {
	case stepWhat:
		dr.what, dr.step = clip(text, 300), stepAmount
	case stepAmount:
		amount, currency, ok := t.readAmount(text)
		if !ok {
			return
		}
		dr.amount, dr.currency, dr.step = amount, currency, stepDate
		if d.kind == dialogPayment && dr.dated {
			t.savePayment(d)
			return
		}
	case stepDate:
		day, ok := t.readDay(text)
		if !ok {
			return
		}
		t.dated(d, day)
		return
	case stepState:
		st, err := store.ParseOrderState(text)
		if err != nil || st == store.OrderCancelled {
			t.say(t.tr("order.state_buttons"))
			t.askOrder(d)
			return
		}
		t.saveOrder(d, st == store.OrderPaid)
		return
	}
	t.askOrder(d)
}

// dated takes the day of an order (the state is asked next) or of a payment (saved).
func (t *turn) dated(d *dialog, day time.Time) {
	d.order.date, d.order.dated = day, true
	if d.kind == dialogPayment {
		t.savePayment(d)
		return
	}
	d.order.step = stepState
	t.askOrder(d)
}

const tapOrderToday tap = "od" // od:<client of a new order | order of a payment>

func (t *turn) orderToday(key string) {
	if d := t.orderDialog(key, stepDate); d != nil {
		t.dated(d, t.now)
	}
}

const tapOrderState tap = "ou" // ou:<client>:<invoiced|paid>

func (t *turn) orderStateTap(key, state string) {
	if state != string(store.OrderInvoiced) && state != string(store.OrderPaid) {
		t.notice(t.tr("tap.stale"))
		return
	}
	if d := t.orderDialog(key, stepState); d != nil {
		t.saveOrder(d, state == string(store.OrderPaid))
	}
}

const tapPayAll tap = "oa" // oa:<order>: the payment is all that was owed

func (t *turn) payAll(orderID string) {
	d := t.orderDialog(orderID, stepAmount)
	if d == nil {
		return
	}
	d.order.amount, d.order.currency = d.order.owed, store.Currency
	if d.order.dated {
		t.savePayment(d)
		return
	}
	d.order.step = stepDate
	t.askOrder(d)
}

// amountText splits a typed amount into a currency written before or after it and the
// number: "12 500 ₽", "$100", "12500 USD", "-5 000".
var amountText = regexp.MustCompile(`^([\p{L}\p{Sc}]*)\s*([-−+]?[\d\s\x{a0}\x{202f}',.]*?)\s*([\p{L}\p{Sc}][\p{L}\p{Sc}.]*)?$`)

// readAmount reads an amount as people type it ("12 500", "12500,50", "12 500 руб.")
// with the store's parser; what is not an amount of roubles more than zero is
// explained and refused.
func (t *turn) readAmount(text string) (int64, string, bool) {
	m := amountText.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil || m[2] == "" || m[1] != "" && m[3] != "" {
		t.say(t.tr("order.amount_bad", "v", text))
		return 0, "", false
	}
	currency, err := store.ParseCurrency(m[1] + m[3])
	if err != nil {
		t.say(t.tr("order.currency_bad", "v", m[1]+m[3]))
		return 0, "", false
	}
	if strings.HasPrefix(m[2], "-") || strings.HasPrefix(m[2], "−") {
		t.say(t.tr("order.amount_negative", "v", text))
		return 0, "", false
	}
	amount, err := store.ParseAmount(strings.TrimPrefix(m[2], "+"))
	if err != nil || amount <= 0 {
		t.say(t.tr("order.amount_bad", "v", text))
		return 0, "", false
	}
	return amount, currency, true
}

// bareDay is a day and month typed without a year.
var bareDay = regexp.MustCompile(`^\d{1,2}\.\d{1,2}$`)

// readDay reads the day of an order or payment with the bot's time parser ("20.11",
// "20.11.2026", "вчера"). Money is recorded when it was ordered or received, so a day
// without a year is the last such day, and a day still to come is refused. Today is
// now; another day, its noon in the manager's zone.
func (t *turn) readDay(text string) (time.Time, bool) {
	at, _, err := t.parser.Parse(text, t.now, t.loc)
	if errors.Is(err, ErrNoTime) {
		t.say(t.tr("order.date_bad", "v", text))
		return time.Time{}, false
	}
	if err != nil {
		t.fail("parse date", err)
		return time.Time{}, false
	}
	today := t.now.In(t.loc)
	day := time.Date(at.Year(), at.Month(), at.Day(), 12, 0, 0, 0, t.loc)
	end := time.Date(today.Year(), today.Month(), today.Day(), 23, 59, 59, 0, t.loc)
	if day.After(end) && bareDay.MatchString(strings.TrimSpace(text)) {
		day = day.AddDate(-1, 0, 0)
	}
	if day.After(end) {
		t.say(t.tr("order.date_future", "date", t.day(day)))
		return time.Time{}, false
	}
	if t.day(day) == t.day(t.now) {
		return t.now, true
	}
	return day, true
}

// day shows a date in the manager's zone: "23.11.2026".
func (t *turn) day(at time.Time) string { return at.In(t.loc).Format("02.01.2006") }

// money shows an amount in roubles: "12 500 ₽".
func money(minor int64) string { return store.FormatAmount(minor) + " ₽" }

// dueOf is when an invoice of an order made on date is to be paid: the end of the
// company's days to pay later.
func (t *turn) dueOf(date time.Time) *time.Time {
	days := payDays
	r, err := t.st.CompanyRequisites(t.ctx)
	switch {
	case err == nil && r.PayDays > 0:
		days = r.PayDays
	case err != nil && !errors.Is(err, store.ErrNoRequisites):
		t.log.Warn("read the days to pay", "err", err)
	}
	l := date.In(t.loc)
	due := time.Date(l.Year(), l.Month(), l.Day()+days, 23, 59, 0, 0, t.loc)
	return &due
}

// saveOrder records the order the dialog read, invoiced or paid.
func (t *turn) saveOrder(d *dialog, paid bool) {
	dr := d.order
	n := store.NewOrder{ClientID: d.clientID, What: dr.what, Amount: dr.amount, Currency: dr.currency, Date: dr.date, Paid: paid}
	if !paid {
		n.Due = t.dueOf(dr.date)
	}
	o, err := t.st.RecordOrder(t.ctx, t.viewer(), n)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.s.dialog = nil
		t.say(t.tr("client.none"))
		return
	case errors.Is(err, store.ErrInvalid):
		t.s.dialog = nil
		t.say(t.tr("bad.input", "v", storeReason(err)) + "\n" + t.tr("dialog.cancelled"))
		return
	case err != nil:
		t.fail("save order", err)
		return
	}
	t.s.dialog = nil
	msg := t.tr("order.saved", "id", o.ID, "what", t.orderWhat(o.What), "amount", money(o.Amount), "date", t.day(o.Date),
		"state", t.orderState(o.State, o.Due))
	if o.State == store.OrderPaid {
		msg += t.stageMoved(o.ClientID, dr.stage)
	}
	kb := [][]Button{}
	if o.Owed() > 0 {
		kb = append(kb, row(btn(t.tr("btn.pay"), tapOrderPay.data(orderRef(o.ClientID, o.ID)))))
	}
	if t.opts.Invoices != nil {
		kb = append(kb, row(btn(t.tr("btn.invoice"), tapInvoice.data(orderRef(o.ClientID, o.ID)))))
	}
	t.say(msg, append(kb, row(btn(t.tr("btn.orders"), tapOrders.data(o.ClientID)), btn(t.tr("btn.card"), tapCard.data(o.ClientID))))...)
}

// stageMoved is a line saying the client's stage is no longer from, or "": called
// when an order became paid, the only change that moves a client on.
func (t *turn) stageMoved(clientID string, from store.Stage) string {
	c, err := t.st.Client(t.ctx, clientID)
	if err != nil {
		t.log.Warn("read client after an order", "client", clientID, "err", err)
		return ""
	}
	if c.Stage == from {
		return ""
	}
	return "\n" + t.tr("order.stage", "stage", safe(t.stageName(c.Stage)))
}

// orderState is a new order's state as its summary says it.
func (t *turn) orderState(s store.OrderState, due *time.Time) string {
	if s == store.OrderInvoiced && due != nil {
		return t.tr("order.state.due", "date", t.day(*due))
	}
	return t.tr("order.state." + string(s))
}

func (t *turn) orderWhat(what string) string {
	if what == "" {
		return t.tr("order.no_what")
	}
	return what
}

// order reads an order the manager may see, with its client. An order that does not
// exist and one of another manager's client look the same.
func (t *turn) order(ref string) (*store.Order, *store.Client) {
	id, err := t.orderNamed(ref)
	if err != nil {
		t.fail("read order", err)
		return nil, nil
	}
	o, c, err := t.st.OrderFor(t.ctx, t.viewer(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read order", err)
		return nil, nil
	}
	if err != nil {
		t.notice(t.tr("order.none"))
		return nil, nil
	}
	return o, c
}

const tapOrders tap = "ol" // ol:<client>, the first page of a client's orders

// ordersPage shows a page of a client's orders, newest first, a button each.
func (t *turn) ordersPage(clientID string, page int) {
	c := t.client(clientID)
	if c == nil {
		return
	}
	m, err := t.st.ClientMoney(t.ctx, c.ID)
	if err != nil {
		t.fail("read orders", err)
		return
	}
	p := newPager(listOrders, listPage, len(m.Orders), page, c.ID)
	var b strings.Builder
	b.WriteString(p.head(t, t.tr("orders.title", "name", c.Name)))
	if len(m.Orders) == 0 {
		b.WriteString("\n" + t.tr("orders.none"))
	} else {
		b.WriteString("\n" + t.moneySummary(m))
	}
	from, to := p.span()
	var kb [][]Button
	for _, r := range m.Orders[from:to] {
		b.WriteString("\n" + t.orderRefLine(r))
		kb = append(kb, row(btn(clip("№"+r.ID+" · "+money(r.Amount)+" · "+t.refState(r), 60), tapOrder.data(orderRef(c.ID, r.ID)))))
	}
	kb = p.keys(kb)
	kb = append(kb, row(btn(t.tr("btn.order_new"), tapOrderNew.data(c.ID)), btn(t.tr("btn.card"), tapCard.data(c.ID))))
	t.show(b.String(), kb...)
}

// moneySummary is what a client owes (the overdue marked) and paid this year.
func (t *turn) moneySummary(m *store.ClientMoney) string {
	year := t.now.In(t.loc).Year()
	if m.Overdue > 0 {
		return t.tr("card.money_overdue", "owed", money(m.Owed), "overdue", money(m.Overdue), "year", year, "paid", money(m.PaidThisYear))
	}
	return t.tr("card.money", "owed", money(m.Owed), "year", year, "paid", money(m.PaidThisYear))
}

// cardOrders is the card's part about money: what is owed, paid this year, and the
// last orders; "" for a client without orders.
func (t *turn) cardOrders(clientID string) string {
	m, err := t.st.ClientMoney(t.ctx, clientID)
	if err != nil {
		t.log.Warn("read a card's orders", "client", clientID, "err", err)
		return ""
	}
	if len(m.Orders) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n\n" + t.moneySummary(m))
	for _, r := range m.Orders[:min(cardOrderLines, len(m.Orders))] {
		b.WriteString("\n" + t.orderRefLine(r))
	}
	if n := len(m.Orders) - cardOrderLines; n > 0 {
		b.WriteString("\n" + t.tr("card.orders_more", "n", n))
	}
	return b.String()
}

// cardOrderLines is how many of the last orders a card shows.
const cardOrderLines = 3

// orderRefLine is an order in a list: "• №2026-3 Поставка — 12 500 ₽, ⏳ ждёт оплаты".
func (t *turn) orderRefLine(r store.OrderRef) string {
	return "• " + t.tr("order.line", "id", r.ID, "what", clip(t.orderWhat(r.What), 40), "amount", money(r.Amount), "state", t.refState(r))
}

// refState is an order's state in a list: paid, cancelled, waiting, partly paid,
// overdue.
func (t *turn) refState(r store.OrderRef) string {
	var s string
	switch {
	case r.State == store.OrderCancelled:
		return t.tr("order.st.cancelled")
	case r.Owed() == 0:
		return t.tr("order.st.paid")
	case r.Paid > 0:
		s = t.tr("order.st.partly", "owed", money(r.Owed()))
	default:
		s = t.tr("order.st.waiting")
	}
	if r.Due != nil && t.now.After(*r.Due) {
		s += " " + t.tr("order.st.overdue")
	}
	return s
}

const tapOrder tap = "oo" // oo:<order>

func (t *turn) openOrder(id string) {
	if o, c := t.order(id); o != nil {
		t.showOrder(o, c)
	}
}

// showOrder shows an order with its payments, and what can be done with it.
func (t *turn) showOrder(o *store.Order, c *store.Client) {
	var b strings.Builder
	b.WriteString(t.tr("order.view", "id", o.ID, "date", t.day(o.Date), "name", c.Name))
	b.WriteString("\n" + html.EscapeString(t.orderWhat(o.What)))
	b.WriteString("\n" + t.tr("order.view_amount", "amount", money(o.Amount)))
	switch {
	case o.State == store.OrderCancelled:
		b.WriteString("\n" + t.tr("order.view_cancelled", "reason", o.CancelReason))
	case o.Owed() == 0:
		paid := o.Date
		if o.PaidAt != nil {
			paid = *o.PaidAt
		}
		b.WriteString("\n" + t.tr("order.view_paid", "date", t.day(paid)))
	default:
		if p := o.PaidSum(); p > 0 {
			b.WriteString("\n" + t.tr("order.view_paid_part", "paid", money(p)))
		}
		switch {
		case o.Overdue(t.now):
			b.WriteString("\n" + t.tr("order.view_overdue", "owed", money(o.Owed()), "date", t.day(*o.Due)))
		case o.Due != nil:
			b.WriteString("\n" + t.tr("order.view_owed_by", "owed", money(o.Owed()), "date", t.day(*o.Due)))
		default:
			b.WriteString("\n" + t.tr("order.view_owed", "owed", money(o.Owed())))
		}
	}
	if len(o.Payments) > 0 {
		b.WriteString("\n" + t.tr("order.view_payments"))
		for _, p := range o.Payments {
			b.WriteString("\n• " + t.day(p.Date) + " — " + money(p.Amount))
		}
	}
	if o.Invoice != nil {
		b.WriteString("\n" + t.tr("order.view_invoice", "number", o.Invoice.Number, "date", t.day(o.Invoice.Date)))
	}
	var kb [][]Button
	var acts []Button
	if o.Owed() > 0 {
		acts = append(acts, btn(t.tr("btn.pay"), tapOrderPay.data(orderRef(o.ClientID, o.ID))))
	}
	if o.State != store.OrderCancelled && len(o.Payments) == 0 {
		acts = append(acts, btn(t.tr("btn.order_cancel"), tapOrderCancel.data(orderRef(o.ClientID, o.ID))))
	}
	kb = append(kb, acts)
	if t.opts.Invoices != nil && o.State != store.OrderCancelled {
		kb = append(kb, row(btn(t.tr("btn.invoice"), tapInvoice.data(orderRef(o.ClientID, o.ID)))))
	}
	kb = append(kb, row(btn(t.tr("btn.orders"), tapOrders.data(c.ID)), btn(t.tr("btn.card"), tapCard.data(c.ID))))
	t.show(b.String(), kb...)
}

const tapOrderPay tap = "op" // op:<order>

// startPayment opens the payment dialog of an order: its amount (all that is owed by
// a button), then its day.
func (t *turn) startPayment(id string) {
	o, c := t.order(id)
	if o == nil {
		return
	}
	if o.Owed() == 0 {
		t.notice(t.payRefusal(o, 0, nil))
		return
	}
	d := &dialog{kind: dialogPayment, clientID: c.ID, order: &orderDraft{step: stepAmount, orderID: o.ID, stage: c.Stage, owed: o.Owed()}}
	t.s.dialog = d
	t.askOrder(d)
}

// savePayment records the payment the dialog read. One the store refuses is
// explained; one larger than what is owed is asked again.
func (t *turn) savePayment(d *dialog) {
	dr := d.order
	o, err := t.st.PayOrder(t.ctx, t.viewer(), dr.orderID, dr.amount, dr.date)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.s.dialog = nil
		t.say(t.tr("order.none"))
		return
	case errors.Is(err, store.ErrInvalid):
		now, _, rerr := t.st.OrderFor(t.ctx, t.viewer(), dr.orderID)
		if rerr != nil {
			t.s.dialog = nil
			t.say(t.tr("order.none"))
			return
		}
		msg := t.payRefusal(now, dr.amount, err)
		if owed := now.Owed(); owed > 0 && dr.amount > owed {
			dr.owed, dr.amount, dr.step = owed, 0, stepAmount
			t.say(msg)
			t.askOrder(d)
			return
		}
		t.s.dialog = nil
		t.say(msg)
		return
	case err != nil:
		t.fail("save payment", err)
		return
	}
	t.s.dialog = nil
	msg := t.tr("pay.saved", "amount", money(dr.amount), "id", o.ID, "owed", money(o.Owed()))
	if o.Owed() == 0 {
		msg = t.tr("pay.saved_full", "amount", money(dr.amount), "id", o.ID) + t.stageMoved(o.ClientID, dr.stage)
	}
	t.say(msg, row(btn(t.tr("btn.order", "id", o.ID), tapOrder.data(orderRef(o.ClientID, o.ID))), btn(t.tr("btn.card"), tapCard.data(o.ClientID))))
}

// payRefusal says why a payment of amount for o is not recorded: the store's reason
// err, told in the manager's language where it is one of the usual.
func (t *turn) payRefusal(o *store.Order, amount int64, err error) string {
	switch {
	case o.State == store.OrderCancelled:
		return t.tr("pay.cancelled", "id", o.ID)
	case o.Owed() == 0:
		return t.tr("pay.paid", "id", o.ID)
	case amount > o.Owed():
		return t.tr("pay.too_much", "amount", money(amount), "id", o.ID, "owed", money(o.Owed()))
	}
	return t.tr("bad.input", "v", storeReason(err))
}

// storeReason is what the store's refusal says to correct.
func storeReason(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")
}

// cancelReason is a quick reason for cancelling an order, kept in the words of the
// manager's language.
type cancelReason string

var cancelReasons = []cancelReason{"changed_mind", "mistake", "duplicate", "no_budget"}

const tapOrderCancel tap = "oc" // oc:<order>

// cancelMenu asks why an order is cancelled: a quick reason, or one typed.
func (t *turn) cancelMenu(id string) {
	o, _ := t.order(id)
	if o == nil {
		return
	}
	t.s.dialog = &dialog{kind: dialogOrderCancel, clientID: o.ClientID, order: &orderDraft{orderID: o.ID}}
	var kb [][]Button
	for i := 0; i < len(cancelReasons); i += 2 {
		var line []Button
		for _, r := range cancelReasons[i:min(i+2, len(cancelReasons))] {
			line = append(line, btn(t.tr("cancel.reason."+string(r)), tapCancelWhy.data(orderRef(o.ClientID, o.ID), r)))
		}
		kb = append(kb, line)
	}
	kb = append(kb, row(btn(t.tr("btn.back"), tapOrder.data(orderRef(o.ClientID, o.ID)))))
	t.show(t.tr("cancel.ask", "id", o.ID, "amount", money(o.Amount)), kb...)
}

const tapCancelWhy tap = "oy" // oy:<order>:<quick reason>

func (t *turn) cancelWhy(id, reason string) {
	o, _ := t.order(id)
	if o == nil {
		return
	}
	for _, r := range cancelReasons {
		if string(r) == reason {
			t.cancelOrder(o.ID, t.tr("cancel.reason."+reason))
			return
		}
	}
	t.notice(t.tr("tap.stale"))
}

// cancelOrder cancels an order for the reason; a refusal is told in the manager's
// language, and the dialog ends either way.
func (t *turn) cancelOrder(id, reason string) {
	t.s.dialog = nil
	o, err := t.st.CancelOrder(t.ctx, t.viewer(), id, reason)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.notice(t.tr("order.none"))
		return
	case errors.Is(err, store.ErrInvalid):
		now, _, rerr := t.st.OrderFor(t.ctx, t.viewer(), id)
		switch {
		case rerr != nil:
			t.notice(t.tr("order.none"))
		case now.State == store.OrderCancelled:
			t.notice(t.tr("cancel.already", "id", id))
		case len(now.Payments) > 0:
			t.notice(t.tr("cancel.has_payments", "id", id, "paid", money(now.PaidSum())))
		default:
			t.notice(t.tr("bad.input", "v", storeReason(err)))
		}
		return
	case err != nil:
		t.fail("cancel order", err)
		return
	}
	t.say(t.tr("cancel.done", "id", o.ID, "reason", o.CancelReason))
	if o, c := t.order(o.ID); o != nil {
		t.showOrder(o, c)
	}
}

const tapInvoice tap = "oi" // oi:<order>

// sendInvoice sends an order's invoice as a PDF for the manager to forward.
func (t *turn) sendInvoice(id string) {
	o, _ := t.order(id)
	if o == nil {
		return
	}
	if t.opts.Invoices == nil {
		t.notice(t.tr("tap.stale"))
		return
	}
	name, pdf, err := t.opts.Invoices.InvoicePDF(t.ctx, t.viewer(), o.ID)
	switch {
	case errors.Is(err, store.ErrNoRequisites):
		t.notice(t.tr("invoice.no_requisites"))
		return
	case errors.Is(err, store.ErrNotFound):
		t.notice(t.tr("order.none"))
		return
	case errors.Is(err, store.ErrInvalid):
		t.notice(t.tr("bad.input", "v", storeReason(err)))
		return
	case err != nil:
		t.fail("make invoice", err)
		return
	}
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, Text: t.tr("invoice.sent", "id", o.ID),
		Document: &Document{Name: name, MIME: "application/pdf", Load: func(context.Context) ([]byte, error) { return pdf, nil }}})
}

// orderLineText is an order's or payment's line in a client's history.
func (t *turn) orderLineText(it store.Interaction) string {
	l := it.Order
	switch l.Event {
	case store.OrderCreated, store.OrderChanged:
		return t.tr("history.order_"+string(l.Event), "id", it.OrderID, "what", clip(t.orderWhat(l.What), 60),
			"amount", money(l.Amount), "state", t.tr("order.state."+string(l.State)))
	case store.OrderPayment:
		if l.Paid >= l.Amount {
			return t.tr("history.order_payment_full", "id", it.OrderID, "payment", money(l.Payment))
		}
		return t.tr("history.order_payment", "id", it.OrderID, "payment", money(l.Payment), "paid", money(l.Paid), "amount", money(l.Amount))
	case store.OrderCancel:
		return t.tr("history.order_cancelled", "id", it.OrderID, "reason", l.Reason)
	case store.OrderFullyPaid:
		return t.tr("history.order_paid", "id", it.OrderID)
	}
	return t.tr("kind." + string(it.Kind))
}
