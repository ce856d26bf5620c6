package csvio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/crm-team/crm/store"
)

// Orders: the lists of orders, invoices and sales 1C and MoySklad export (docs/CSV.md,
// "Orders"), read by their column headings in Russian or English. A row is an order;
// its number is its key, so a file imported again changes only what changed.

// orderField is one column an order file may have.
type orderField int

// The order columns, in the order ExportOrders writes them.
const (
	oNumber orderField = iota
	oDate
	oClient
	oINN
	oEmail
	oAmount
	oCurrency
	oPaid
	oPaidDate
	oState
	oWhat
	oDue
	oReason
	numOrderFields
)

// orderColumns name the columns (ExportOrders writes orderHeadings).
// Headings are compared folded (headerKey); a column not named here is not read.
var orderColumns = [numOrderFields]columnDef{
	oNumber: {name: "number", aliases: []string{"номер", "№", "номер документа", "номер заказа", "номер счета", "номер счета на оплату",
		"номер реализации", "заказ", "заказ покупателя", "заказ клиента", "счет", "счет на оплату", "order", "order number", "no"}},
	oDate: {name: "date", aliases: []string{"дата", "время", "дата документа", "дата заказа", "дата счета", "дата реализации", "дата отгрузки", "created"}},
	oClient: {name: "client", aliases: []string{"контрагент", "клиент", "покупатель", "заказчик", "плательщик", "наименование контрагента",
		"контрагент (наименование)", "customer", "counterparty", "client name"}},
	oINN:      {name: "inn", aliases: []string{"инн", "инн контрагента", "инн покупателя", "инн клиента", "контрагент.инн", "контрагент (инн)"}},
	oEmail:    {name: "email", aliases: []string{"e-mail", "email контрагента", "e-mail контрагента", "эл. почта", "электронная почта", "почта"}},
	oAmount:   {name: "amount", aliases: []string{"сумма", "сумма документа", "сумма заказа", "сумма счета", "сумма с ндс", "итого", "всего", "total"}},
	oCurrency: {name: "currency", aliases: []string{"валюта", "валюта документа"}},
	oPaid:     {name: "paid", aliases: []string{"оплачено", "сумма оплаты", "оплата", "оплачено, руб", "paid amount", "payed"}},
	oPaidDate: {name: "paid_date", aliases: []string{"дата оплаты", "payment date", "paid at"}},
	oState:    {name: "state", aliases: []string{"статус", "состояние", "статус заказа", "статус оплаты", "status"}},
	oWhat:     {name: "what", aliases: []string{"содержание", "комментарий", "назначение", "назначение платежа", "описание", "товары", "comment", "description"}},
	oDue:      {name: "due", aliases: []string{"срок оплаты", "оплатить до", "план. дата оплаты", "плановая дата оплаты", "дата платежа", "due date"}},
	oReason:   {name: "cancel_reason", aliases: []string{"причина отмены", "причина отказа", "reason"}},
}

var orderColumnByKey = func() map[string]orderField {
	m := map[string]orderField{}
	for f, d := range orderColumns {
		for _, k := range append([]string{d.name}, d.aliases...) {
			if _, dup := m[k]; dup {
				panic("csvio: order column alias given twice: " + k)
			}
			m[k] = orderField(f)
		}
	}
	return m
}()

// orderStates are the states of 1C's and MoySklad's order lists (MoySklad's are the
// defaults a company may rename) beyond what store.ParseOrderState reads. An order
// shipped or closed is invoiced here: only money says it is paid (the Оплачено
// column, or the state "paid").
var orderStates = map[string]store.OrderState{
	"новый": store.OrderInvoiced, "подтвержден": store.OrderInvoiced, "собран": store.OrderInvoiced,
	"отгружен": store.OrderInvoiced, "доставлен": store.OrderInvoiced, "в работе": store.OrderInvoiced,
	"на согласовании": store.OrderInvoiced, "согласован": store.OrderInvoiced, "к выполнению": store.OrderInvoiced,
	"к обеспечению": store.OrderInvoiced, "готов к отгрузке": store.OrderInvoiced, "в процессе отгрузки": store.OrderInvoiced,
	"ожидается оплата": store.OrderInvoiced, "ожидается предоплата": store.OrderInvoiced,
	"ожидается предоплата (до обеспечения)": store.OrderInvoiced, "ожидается предоплата (до отгрузки)": store.OrderInvoiced,
	"ожидается оплата (после отгрузки)": store.OrderInvoiced, "выполнен": store.OrderInvoiced, "закрыт": store.OrderInvoiced,
	"частично оплачен": store.OrderInvoiced, "проведен": store.OrderInvoiced,
	"оплачен частично": store.OrderInvoiced, "оплачен полностью": store.OrderPaid,
	"возврат": store.OrderCancelled, "отказ": store.OrderCancelled, "аннулирован": store.OrderCancelled,
}

func parseOrderState(v string) (store.OrderState, error) {
	if st, ok := orderStates[headerKey(v)]; ok {
		return st, nil
	}
	st, err := store.ParseOrderState(headerKey(v))
	if err != nil {
		return "", fmt.Errorf("%q is not a state read here: invoiced, paid or cancelled (выставлен, оплачен, отменён; MoySklad's Новый, Подтвержден, Отгружен… are invoiced)", v)
	}
	return st, nil
}

// OrderImportOptions tune ImportOrders.
type OrderImportOptions struct {
	Comma   rune   // as ImportOptions.Comma
	Charset string // as ImportOptions.Charset
	// Location is the company's time zone: dates written without one are in it.
	Location *time.Location
	// MaxErrors caps the errors kept in the report (default 1000); Failed counts all.
	MaxErrors int
}

// OrderReport says what ImportOrders did: Read = Created + Updated + Unchanged when
// the file was saved, and nothing was saved when Failed > 0.
type OrderReport struct {
	Read   int
	Saved  store.OrdersSaved
	Failed int
	Errors []RowError
	// Ignored are the file's columns that are not read (1C and MoySklad export many).
	Ignored []string
	Comma   rune
	Charset string
}

// String is the summary followed by one line per error.
func (r OrderReport) String() string {
	var b strings.Builder
	if r.Failed > 0 {
		fmt.Fprintf(&b, "%d rows read, %d with errors: nothing was imported; correct them and import the file again", r.Read, r.Failed)
	} else {
		fmt.Fprintf(&b, "%d orders read: %d created, %d updated, %d unchanged", r.Read, r.Saved.Created, r.Saved.Updated, r.Saved.Unchanged)
	}
	for _, e := range r.Errors {
		b.WriteString("\n" + e.String())
	}
	if r.Failed > len(r.Errors) {
		fmt.Fprintf(&b, "\n... and %d more rows with errors", r.Failed-len(r.Errors))
	}
	return b.String()
}

// ImportOrders reads orders from CSV and saves them by number (store.UpsertOrders):
// the client of a row is the one with its INN, else its e-mail, else exactly its name.
// Every row is checked first: a bad row (its line and column named) saves nothing of
// the file. A bad header is an error and saves nothing.
func ImportOrders(ctx context.Context, s *store.Store, actor string, r io.Reader, opts OrderImportOptions) (OrderReport, error) {
	oi := newOrderImporter(s, opts)
	next, err := openCSV(r, opts.Comma, opts.Charset, &oi.rep.Comma, &oi.rep.Charset)
	if err != nil {
		return oi.rep, err
	}
	return oi.run(ctx, actor, next)
}

// ImportOrdersXLSX reads orders from the first sheet of a workbook as ImportOrders
// reads a CSV, a row's line being its row number. Cells are read as stored, so a
// date or an amount typed as a number reads whatever format shows it.
func ImportOrdersXLSX(ctx context.Context, s *store.Store, actor string, r io.Reader, opts OrderImportOptions) (OrderReport, error) {
	oi := newOrderImporter(s, opts)
	next, closeBook, err := openXLSX(r, true)
	if err != nil {
		return oi.rep, err
	}
	defer closeBook()
	oi.book = true
	return oi.run(ctx, actor, next)
}

type orderImporter struct {
	s    *store.Store
	opts OrderImportOptions
	rep  OrderReport
	book bool // a workbook: numbers and dates may be stored as such

	pos   [numOrderFields]int
	cells []string
	// The orders read, and what finds each one's client.
	orders []store.Order
	keys   []clientKeys
	lines  map[string]int // order number -> line
}

// clientKeys are what finds an order's client, with the order's line.
type clientKeys struct {
	line       int
	inn, email string
	name       string
}

func newOrderImporter(s *store.Store, opts OrderImportOptions) *orderImporter {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	return &orderImporter{s: s, opts: opts, lines: map[string]int{}}
}

func (oi *orderImporter) fail(line int, msg string) {
	oi.rep.Failed++
	if len(oi.rep.Errors) < oi.opts.MaxErrors {
		oi.rep.Errors = append(oi.rep.Errors, RowError{Line: line, Message: msg})
	}
}

func (oi *orderImporter) run(ctx context.Context, actor string, next rowFunc) (OrderReport, error) {
	_, rec, err := next()
	var bad badRow
	switch {
	case errors.Is(err, io.EOF):
		return oi.rep, fmt.Errorf("%w: the file is empty; the first line must name the columns", store.ErrInvalid)
	case errors.As(err, &bad):
		return oi.rep, readErr(bad.err, 1)
	case err != nil:
		return oi.rep, err
	}
	if err := oi.header(rec); err != nil {
		return oi.rep, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return oi.rep, err
		}
		line, rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &bad) {
			oi.rep.Read++
			oi.fail(bad.line, bad.msg)
			continue
		}
		if err != nil {
			return oi.rep, err
		}
		if blank(rec) {
			continue
		}
		oi.rep.Read++
		oi.row(line, rec)
	}
	if err := oi.findClients(ctx); err != nil {
		return oi.rep, err
	}
	sortErrors(oi.rep.Errors)
	if oi.rep.Failed > 0 {
		return oi.rep, nil
	}
	orders := oi.orders
	oi.orders, oi.keys, oi.lines = nil, nil, nil
	saved, err := oi.s.UpsertOrders(ctx, actor, orders)
	oi.rep.Saved = saved
	return oi.rep, err
}

// header finds the columns; a file needs the number, date and amount, and the INN,
// e-mail or name of the client.
func (oi *orderImporter) header(cells []string) error {
	oi.cells = append([]string(nil), cells...)
	for i := range oi.pos {
		oi.pos[i] = -1
	}
	var problems []string
	for i, cell := range cells {
		k := headerKey(cell)
		if k == "" {
			continue
		}
		f, ok := orderColumnByKey[k]
		if !ok {
			f, ok = orderColumnByKey[strings.NewReplacer(" ", "_", "-", "_").Replace(k)]
		}
		if !ok {
			oi.rep.Ignored = append(oi.rep.Ignored, strings.TrimSpace(cell))
			continue
		}
		if prev := oi.pos[f]; prev >= 0 {
			problems = append(problems, fmt.Sprintf("columns %d (%q) and %d (%q) both mean %s",
				prev+1, strings.TrimSpace(cells[prev]), i+1, strings.TrimSpace(cell), orderColumns[f].name))
			continue
		}
		oi.pos[f] = i
	}
	var missing []string
	for _, f := range []orderField{oNumber, oDate, oAmount} {
		if oi.pos[f] < 0 {
			missing = append(missing, fmt.Sprintf("%s (%q)", orderColumns[f].name, orderColumns[f].aliases[0]))
		}
	}
	if oi.pos[oINN] < 0 && oi.pos[oEmail] < 0 && oi.pos[oClient] < 0 {
		missing = append(missing, "the client: inn, email or client (\"ИНН\", \"E-mail\" or \"Контрагент\")")
	}
	if len(missing) > 0 {
		problems = append(problems, "no column for "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: line 1 (header): %s; nothing was imported", store.ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

func (oi *orderImporter) label(f orderField) string {
	if p := oi.pos[f]; p >= 0 && strings.TrimSpace(oi.cells[p]) != "" {
		return strings.TrimSpace(oi.cells[p])
	}
	return orderColumns[f].name
}

// row reads one order; what is wrong is reported with the columns it is in.
func (oi *orderImporter) row(line int, rec []string) {
	get := func(f orderField) string {
		if p := oi.pos[f]; p >= 0 && p < len(rec) {
			return cell(rec[p])
		}
		return ""
	}
	var errs []string
	bad := func(f orderField, format string, args ...any) {
		errs = append(errs, oi.label(f)+": "+fmt.Sprintf(format, args...))
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			oi.fail(line, fmt.Sprintf("column %d is not UTF-8 text; save the file as \"CSV UTF-8\"", i+1))
			return
		}
	}
	r := clientKeys{line: line, name: get(oClient)}
	o := &store.Order{}
	o.ID = get(oNumber)
	if o.ID == "" {
		bad(oNumber, "empty; every order needs its number")
	} else if prev, dup := oi.lines[o.ID]; dup {
		bad(oNumber, "order %s is also on line %d", o.ID, prev)
	} else {
		oi.lines[o.ID] = line
	}
	var err error
	if o.Date, err = oi.date(get(oDate)); err != nil {
		bad(oDate, "%v", err)
	}
	if o.Amount, err = oi.amount(get(oAmount)); err == nil && o.Amount == 0 {
		err = errors.New("the amount must be more than zero")
	}
	if err != nil {
		bad(oAmount, "%v", err)
	}
	if o.Currency, err = store.ParseCurrency(get(oCurrency)); err != nil {
		bad(oCurrency, "%s", message(err))
	}
	state := store.OrderInvoiced
	if v := get(oState); v != "" {
		if state, err = parseOrderState(v); err != nil {
			bad(oState, "%v", err)
		}
	}
	paidAt := o.Date
	if v := get(oPaidDate); v != "" {
		if paidAt, err = oi.date(v); err != nil {
			bad(oPaidDate, "%v", err)
		}
	}
	var paid int64
	paidGiven := get(oPaid) != ""
	if paidGiven {
		if paid, err = oi.amount(get(oPaid)); err != nil {
			bad(oPaid, "%v", err)
		} else if o.Amount > 0 && paid > o.Amount {
			bad(oPaid, "%s is more than the amount of %s", store.FormatAmount(paid), store.FormatAmount(o.Amount))
		}
	} else if state == store.OrderPaid {
		paid = o.Amount
	}
	if paid > 0 {
		o.Payments = []store.Payment{{ID: store.ImportPayment, Date: paidAt, Amount: paid}}
	}
	// The paid sum says whether it is paid (the store settles it); a state says only
	// whether it is cancelled.
	if state == store.OrderCancelled {
		o.State, o.CancelReason = store.OrderCancelled, get(oReason)
	}
	o.What = get(oWhat)
	if v := get(oDue); v != "" {
		due, err := oi.date(v)
		if err != nil {
			bad(oDue, "%v", err)
		}
		o.Due = &due
	}
	if v := get(oINN); v != "" {
		if r.inn, err = normalizeINN(v); err != nil {
			bad(oINN, "%s", err)
		}
	}
	if v := get(oEmail); v != "" {
		if r.email, err = store.NormalizeEmail(v); err != nil {
			bad(oEmail, "%s", message(err))
		}
	}
	if r.inn == "" && r.email == "" && r.name == "" && len(errs) == 0 {
		errs = append(errs, "no client: give its INN, e-mail or name")
	}
	if len(errs) > 0 {
		oi.fail(line, strings.Join(errs, "; "))
		return
	}
	oi.orders, oi.keys = append(oi.orders, *o), append(oi.keys, r)
}

// dateLayouts are the ways 1C, MoySklad and Excel write a date, in the company's
// time zone unless it says its own.
var dateLayouts = []string{"02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006", "2.1.2006 15:04:05", "2.1.2006",
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "02.01.06"}

func (oi *orderImporter) date(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("empty; give the date as 03.12.2026 or 2026-12-03")
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, v, oi.opts.Location); err == nil {
			return t.UTC(), nil
		}
	}
	if oi.book { // a date stored as Excel's number of days since 1899-12-30
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 1 && f < 2958466 {
			days := math.Floor(f)
			secs := math.Round((f - days) * 86400)
			d := time.Date(1899, 12, 30, 0, 0, 0, 0, oi.opts.Location).AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
			return d.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (write it as 03.12.2026, 03.12.2026 14:05:00 or 2026-12-03)", v)
}

// amount reads an amount as store.ParseAmount does; a workbook's number stored as
// such (12500.5) is rounded to kopecks.
func (oi *orderImporter) amount(v string) (int64, error) {
	if oi.book && strings.Count(v, ".") == 1 && strings.Trim(v, "0123456789.") == "" {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && f >= 0 && f < 1e15 {
			return int64(math.Round(f * 100)), nil
		}
	}
	n, err := store.ParseAmount(v)
	if err != nil {
		return 0, errors.New(message(err))
	}
	return n, nil
}

// findClients finds each row's client: by INN, else e-mail, else exact name. A name
// several clients have is an error (the row needs the INN).
func (oi *orderImporter) findClients(ctx context.Context) error {
	byINN, byEmail := map[string]string{}, map[string]string{}
	for _, r := range oi.keys {
		if r.inn != "" {
			byINN[r.inn] = ""
		}
	}
	if err := oi.lookUp(ctx, byINN, oi.s.FindByINN); err != nil {
		return err
	}
	for _, r := range oi.keys {
		if r.email != "" && byINN[r.inn] == "" {
			byEmail[r.email] = ""
		}
	}
	if err := oi.lookUp(ctx, byEmail, oi.s.FindByEmail); err != nil {
		return err
	}
	var names []string
	for _, r := range oi.keys {
		if byINN[r.inn] == "" && byEmail[r.email] == "" && r.name != "" {
			names = append(names, r.name)
		}
	}
	named, err := oi.s.ClientsNamed(ctx, names)
	if err != nil {
		return err
	}
	kept := 0
	for i, r := range oi.keys {
		id := byINN[r.inn]
		if id == "" {
			id = byEmail[r.email]
		}
		if id == "" && len(named[r.name]) > 1 {
			oi.fail(r.line, fmt.Sprintf("%s: %d clients are named %q; give the client's INN or e-mail", oi.label(oClient), len(named[r.name]), r.name))
			continue
		}
		if id == "" && len(named[r.name]) == 1 {
			id = named[r.name][0]
		}
		if id == "" {
			oi.fail(r.line, "no client found by "+oi.tried(r))
			continue
		}
		oi.orders[kept], oi.keys[kept] = oi.orders[i], r
		oi.orders[kept].ClientID = id
		kept++
	}
	oi.orders, oi.keys = oi.orders[:kept], oi.keys[:kept]
	return nil
}

// tried says what a row's client was looked for by.
func (oi *orderImporter) tried(r clientKeys) string {
	var parts []string
	if r.inn != "" {
		parts = append(parts, oi.label(oINN)+" "+r.inn)
	}
	if r.email != "" {
		parts = append(parts, oi.label(oEmail)+" "+r.email)
	}
	if r.name != "" {
		parts = append(parts, oi.label(oClient)+" "+strconv.Quote(r.name))
	}
	return strings.Join(parts, ", ") + "; add the client first (crm import) or correct the row"
}

// lookUp fills keys with the clients they find, a few look-ups at a time.
func (oi *orderImporter) lookUp(ctx context.Context, keys map[string]string, find func(context.Context, string) (*store.Hit, error)) error {
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(8)
	for _, k := range list {
		g.Go(func() error {
			h, err := find(ctx, k)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			keys[k] = h.Client.ID
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}
