package csvio

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/crm-team/crm/store"
)

// ExportOrders writes every order as CSV (see Writer) under the Russian headings
// ImportOrders reads first, so that the file imports back, into this base (nothing
// changes) or another with the same clients: number, date, client's name, INN and
// e-mail, amount, currency, paid (the sum of the payments, with the date it was paid
// or last paid), state, what, due date, cancel reason. Dates and times are the
// company's (loc); amounts as 12 500,50. It returns the number of orders written.
func ExportOrders(ctx context.Context, s *store.Store, w io.Writer, loc *time.Location, opts ExportOptions) (int, error) {
	cw := NewWriter(w, opts.Comma, !opts.NoBOM)
	n, err := exportOrderRows(ctx, s, loc, cw.Write)
	if err != nil {
		return n, err
	}
	if err := cw.Flush(); err != nil {
		return n, fmt.Errorf("export orders: %w", err)
	}
	return n, nil
}

// ExportOrdersXLSX writes the orders as ExportOrders does, as a workbook of text
// cells (see XLSXWriter): INN and order numbers keep their leading zeros; amounts are
// numbers, which a spreadsheet sums.
func ExportOrdersXLSX(ctx context.Context, s *store.Store, w io.Writer, loc *time.Location) (n int, err error) {
	xw, err := NewXLSXWriter("orders")
	if err != nil {
		return 0, fmt.Errorf("export orders: %w", err)
	}
	defer func() {
		if e := xw.Close(); err == nil && e != nil {
			err = fmt.Errorf("export orders: %w", e)
		}
	}()
	if err := xw.SetAmounts(int(oAmount), int(oPaid)); err != nil {
		return 0, fmt.Errorf("export orders: %w", err)
	}
	if n, err = exportOrderRows(ctx, s, loc, xw.Write); err != nil {
		return n, err
	}
	if err := xw.Finish(w); err != nil {
		return n, fmt.Errorf("export orders: %w", err)
	}
	return n, nil
}

// orderHeadings are the headings ExportOrders writes, as 1C names its columns.
var orderHeadings = [numOrderFields]string{oNumber: "Номер", oDate: "Дата", oClient: "Контрагент", oINN: "ИНН",
	oEmail: "E-mail", oAmount: "Сумма", oCurrency: "Валюта", oPaid: "Оплачено", oPaidDate: "Дата оплаты",
	oState: "Статус", oWhat: "Содержание", oDue: "Срок оплаты", oReason: "Причина отмены"}

// orderStateWords are the states as exported: words ImportOrders reads back.
var orderStateWords = map[store.OrderState]string{
	store.OrderInvoiced: "Выставлен", store.OrderPaid: "Оплачен", store.OrderCancelled: "Отменён",
}

// exportClient is what an order's row says of its client.
type exportClient struct{ name, inn, email string }

func exportOrderRows(ctx context.Context, s *store.Store, loc *time.Location, write func([]string) error) (int, error) {
	if loc == nil {
		loc = time.UTC
	}
	rec := make([]string, numOrderFields)
	copy(rec, orderHeadings[:])
	if err := write(rec); err != nil {
		return 0, fmt.Errorf("write the header: %w", err)
	}
	clients := map[string]exportClient{}
	n := 0
	err := s.EachOrder(ctx, func(o *store.Order) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, ok := clients[o.ClientID]
		if !ok {
			cl, err := s.Client(ctx, o.ClientID)
			if err != nil {
				return err
			}
			c = exportClient{name: cl.Name, inn: cl.Legal.INN, email: firstEmail(cl)}
			clients[o.ClientID] = c
		}
		for i := range rec {
			rec[i] = ""
		}
		rec[oNumber], rec[oDate] = o.ID, formatDate(o.Date, loc)
		rec[oClient], rec[oINN], rec[oEmail] = c.name, c.inn, c.email
		rec[oAmount], rec[oCurrency] = store.FormatAmount(o.Amount), o.Currency
		if paid := o.PaidSum(); paid > 0 {
			rec[oPaid] = store.FormatAmount(paid)
			last := o.Payments[0].Date
			for _, p := range o.Payments {
				if p.Date.After(last) {
					last = p.Date
				}
			}
			rec[oPaidDate] = formatDate(last, loc)
		}
		rec[oState], rec[oWhat] = orderStateWords[o.State], o.What
		if o.Due != nil {
			rec[oDue] = formatDate(*o.Due, loc)
		}
		rec[oReason] = o.CancelReason
		n++
		return write(rec)
	})
	if err != nil {
		return n, fmt.Errorf("export orders: %w", err)
	}
	return n, nil
}

// formatDate writes a date as 1C does: 03.12.2026, with the time when it has one.
func formatDate(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("02.01.2006")
	}
	return t.Format("02.01.2006 15:04:05")
}

func firstEmail(c *store.Client) string {
	if len(c.Emails) > 0 {
		return c.Emails[0]
	}
	for _, p := range c.ContactList() {
		if len(p.Emails) > 0 {
			return p.Emails[0]
		}
	}
	return ""
}
