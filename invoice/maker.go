package invoice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crm-team/crm/store"
)

// SetRequisitesHint is how an administrator sets the company's requisites.
const SetRequisitesHint = `crm company set --name "ООО «Ромашка»" --inn … --kpp … --address … --bank … --bik … --account … --corr-account … --director … --vat 20`

// Maker makes an order's invoice for a person in the bot or the CLI.
type Maker struct {
	Store *store.Store
	// Location is the company's time zone, the one the store counts years in (nil:
	// UTC, as the store's default).
	Location *time.Location
}

// InvoicePDF numbers an order's invoice (once: asked again, the same number) and
// makes its PDF, named as it is sent. An order the viewer may not see is
// store.ErrNotFound; without the company's requisites it is store.ErrNoRequisites,
// saying how an administrator sets them, and no number is taken.
func (m Maker) InvoicePDF(ctx context.Context, viewer store.Viewer, orderID string) (name string, pdf []byte, err error) {
	req, err := m.Store.CompanyRequisites(ctx)
	if errors.Is(err, store.ErrNoRequisites) {
		return "", nil, fmt.Errorf("%w: an administrator sets them with %s", err, SetRequisitesHint)
	}
	if err != nil {
		return "", nil, err
	}
	o, c, err := m.Store.IssueInvoice(ctx, viewer, orderID)
	if err != nil {
		return "", nil, err
	}
	d := FromOrder(req, o, c, m.Location)
	if pdf, err = Render(d); err != nil {
		return "", nil, fmt.Errorf("order %s: %w", orderID, err)
	}
	return d.FileName(), pdf, nil
}

// FromOrder is the invoice of an invoiced order: its one line, its client as the
// buyer, to be paid by the order's due date, else within the seller's days to pay.
func FromOrder(seller *store.Requisites, o *store.Order, c *store.Client, loc *time.Location) Data {
	if loc == nil {
		loc = time.UTC
	}
	date := o.Invoice.Date.In(loc)
	payBy := date.AddDate(0, 0, cmp.Or(seller.PayDays, 5))
	if o.Due != nil {
		payBy = o.Due.In(loc)
	}
	what := o.What
	if what == "" {
		what = "Заказ № " + o.ID
	}
	return Data{
		Number: o.Invoice.Number,
		Date:   date,
		PayBy:  payBy,
		Seller: *seller,
		Buyer:  Party{Name: c.Name, Legal: c.Legal},
		Lines:  []Line{{What: what, Qty: 1, Unit: seller.UnitOrDefault(), Price: o.Amount}},
	}
}
