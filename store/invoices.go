// Invoices: the company's requisites an admin sets, and invoice numbers that run on
// through a year and are never given twice.

package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Requisites are the seller's details printed on an invoice: the same legal details
// a client's card keeps for the buyer, and what only the seller's side has.
type Requisites struct {
	Name       string `bson:"name" json:"name"` // "ООО «Ромашка»"
	Legal      `bson:",inline"`
	Phone      string `bson:"phone,omitempty" json:"phone,omitempty"`
	Director   string `bson:"director,omitempty" json:"director,omitempty"` // who signs
	Accountant string `bson:"accountant,omitempty" json:"accountant,omitempty"`
	// VAT is the rate in percent included in prices (20, 10, 0); NoVAT prints "Без
	// НДС" (the simplified tax system).
	VAT   int  `bson:"vat" json:"vat"`
	NoVAT bool `bson:"noVat,omitempty" json:"noVat,omitempty"`
	// PayDays is how many days an invoice gives to pay (0: 5 days).
	PayDays int `bson:"payDays,omitempty" json:"payDays,omitempty"`
	// Unit is what an order is counted in on an invoice ("" : "шт"; "усл." for services).
	Unit string `bson:"unit,omitempty" json:"unit,omitempty"`
}

// DefaultUnit is an invoice line's unit when the requisites name none.
const DefaultUnit = "шт"

// UnitOrDefault is the unit an invoice line is counted in.
func (r *Requisites) UnitOrDefault() string { return cmp.Or(r.Unit, DefaultUnit) }

const requisitesID = "requisites"

// ErrNoRequisites says the company's requisites were never set.
var ErrNoRequisites = errors.New("the company's requisites are not set")

// check refuses requisites an invoice cannot be made with, naming the field.
func (r *Requisites) check() error {
	digits := func(field, v string, n ...int) error {
		for _, r := range v {
			if r < '0' || r > '9' {
				return invalidf("%s %q: digits only", field, v)
			}
		}
		for _, want := range n {
			if len(v) == want {
				return nil
			}
		}
		lengths := make([]string, len(n))
		for i, k := range n {
			lengths[i] = strconv.Itoa(k)
		}
		return invalidf("%s %q: %s digits", field, v, strings.Join(lengths, " or "))
	}
	r.Name, r.Bank = strings.TrimSpace(r.Name), strings.TrimSpace(r.Bank)
	switch {
	case r.Name == "":
		return invalidf("the company's name is needed")
	case r.Bank == "":
		return invalidf("the bank's name is needed")
	case r.VAT < 0 || r.VAT > 30:
		return invalidf("VAT %d%%: a rate from 0 to 30", r.VAT)
	case r.PayDays < 0:
		return invalidf("days to pay must not be negative")
	case utf8.RuneCountInString(r.Unit) > 10 || strings.TrimSpace(r.Unit) != r.Unit:
		return invalidf("unit %q: a short word such as шт or усл., without spaces around it", r.Unit)
	}
	for _, f := range []struct {
		name, v string
		n       []int
		need    bool
	}{{"INN", r.INN, []int{10, 12}, true}, {"KPP", r.KPP, []int{9}, false}, {"OGRN", r.OGRN, []int{13, 15}, false},
		{"BIK", r.BIK, []int{9}, true}, {"account", r.Account, []int{20}, true}, {"correspondent account", r.CorrAccount, []int{20}, false}} {
		if f.v == "" && !f.need {
			continue
		}
		if err := digits(f.name, f.v, f.n...); err != nil {
			return err
		}
	}
	return nil
}

// CompanyRequisites reads the seller's requisites; ErrNoRequisites when never set.
func (s *Store) CompanyRequisites(ctx context.Context) (*Requisites, error) {
	var doc struct {
		R Requisites `bson:"r"`
	}
	err := s.getByID(ctx, colSettings, requisitesID, &doc)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoRequisites
	}
	if err != nil {
		return nil, fmt.Errorf("read requisites: %w", err)
	}
	return &doc.R, nil
}

// SetCompanyRequisites checks and saves the seller's requisites.
func (s *Store) SetCompanyRequisites(ctx context.Context, actor string, r Requisites) error {
	for _, f := range []*string{&r.INN, &r.KPP, &r.OGRN, &r.BIK, &r.Account, &r.CorrAccount} {
		*f = strings.Join(strings.Fields(*f), "")
	}
	if err := r.check(); err != nil {
		return err
	}
	_, err := s.c(colSettings).ReplaceOne(ctx, bson.D{{Key: "_id", Value: requisitesID}},
		bson.D{{Key: "_id", Value: requisitesID}, {Key: "r", Value: r}, {Key: "at", Value: s.now()}, {Key: "by", Value: actor}},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save requisites: %w", err)
	}
	_ = s.Audit(ctx, actor, "company.requisites", "company", requisitesID, map[string]any{"name": r.Name, "inn": r.INN})
	return nil
}

// IssueInvoice gives an order the viewer may see its invoice number, once: the next
// of the year's counter, which one atomic increment hands out, so that two instances
// never give the same number and a number once given is not given again. An order
// that has one keeps it.
func (s *Store) IssueInvoice(ctx context.Context, v Viewer, orderID string) (*Order, *Client, error) {
	o, c, err := s.OrderFor(ctx, v, orderID)
	if err != nil {
		return nil, nil, err
	}
	if o.State == OrderCancelled {
		return nil, nil, invalidf("order %s is cancelled", orderID)
	}
	defer s.money.lock(colClients, o.ClientID)()
	if o, err = s.Order(ctx, orderID); err != nil || o.Invoice != nil {
		return o, c, err
	}
	now := s.now()
	year := now.In(s.loc).Year()
	n, err := s.nextSeq(ctx, "invoice-"+strconv.Itoa(year), 1)
	if err != nil {
		return nil, nil, fmt.Errorf("number the invoice: %w", err)
	}
	inv := Invoice{Number: n, Year: year, Date: now}
	// Written by _id under the client's money lock; should two instances race, the
	// later number wins and the earlier is skipped: a gap, never a number given twice.
	if _, err := s.c(colOrders).UpdateOne(ctx, bson.D{{Key: "_id", Value: orderID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "invoice", Value: inv}}}}); err != nil {
		return nil, nil, fmt.Errorf("save invoice: %w", err)
	}
	o.Invoice = &inv
	_ = s.Audit(ctx, v.ManagerID, "order.invoice", "order", orderID, map[string]any{"number": n, "year": year})
	return o, c, nil
}
