package csvio

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/crm-team/crm/store"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Comma separates values: ';' by default (Excel in the Russian locale), ',' or tab.
	Comma rune
	// NoBOM leaves out the UTF-8 byte order mark (Excel needs it to read Cyrillic).
	NoBOM bool
	// CustomFields fixes the custom columns and saves the first pass over the clients;
	// nil collects every custom field name first.
	CustomFields []string
}

// Export writes every client as CSV: the columns Import reads (English names), then
// one custom:<field> column per custom field. A client with several contact persons
// takes one row per contact, repeating the client columns (Import joins such rows back
// into one client); a client without contacts takes one row. Phones are written the
// way people write them ("8 (916) 123-45-67" for numbers of the store's country), and
// a value Excel would take for a formula is guarded (see Writer). Clients are
// streamed: memory does not grow with their number. It returns the number of clients
// written.
func Export(ctx context.Context, s *store.Store, w io.Writer, opts ExportOptions) (int, error) {
	cw := NewWriter(w, opts.Comma, !opts.NoBOM)
	n, err := exportRows(ctx, s, opts.CustomFields, cw.Write)
	if err != nil {
		return n, err
	}
	if err := cw.Flush(); err != nil {
		return n, fmt.Errorf("export clients: %w", err)
	}
	return n, nil
}

// exportRows hands write the export's header, then its rows, as values unguarded;
// rec is reused between calls. custom as in ExportOptions.CustomFields.
func exportRows(ctx context.Context, s *store.Store, custom []string, write func(rec []string) error) (int, error) {
	if custom == nil {
		names := map[string]bool{}
		err := s.EachClient(ctx, func(c *store.Client) error {
			for k := range c.Custom {
				names[k] = true
			}
			return ctx.Err()
		})
		if err != nil {
			return 0, fmt.Errorf("read clients: %w", err)
		}
		custom = sortedKeys(names)
	} else {
		custom = append([]string(nil), custom...)
		sort.Strings(custom)
	}

	rec := make([]string, int(numFields)+len(custom))
	for f, d := range columnDefs {
		rec[f] = d.name
	}
	for i, name := range custom {
		rec[int(numFields)+i] = customPrefixes[0] + name
	}
	if err := write(rec); err != nil {
		return 0, fmt.Errorf("write the header: %w", err)
	}

	ex := exporter{cc: phonenumbers.GetCountryCodeForRegion(region(s.Phones()))}
	n := 0
	err := s.EachClient(ctx, func(c *store.Client) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ex.client(rec, c, custom)
		contacts := c.ContactList()
		if len(contacts) == 0 {
			ex.contact(rec, nil)
			if err := write(rec); err != nil {
				return err
			}
		}
		for i := range contacts {
			ex.contact(rec, &contacts[i])
			if err := write(rec); err != nil {
				return err
			}
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("export clients: %w", err)
	}
	return n, nil
}

func region(p store.Phones) string {
	if p.Region == "" {
		return "RU"
	}
	return p.Region
}

type exporter struct {
	cc int // the store's country calling code: its numbers are written nationally
}

func (ex *exporter) client(rec []string, c *store.Client, custom []string) {
	set := func(f field, v string) { rec[f] = v }
	set(fName, c.Name)
	set(fKind, string(c.Kind))
	set(fINN, c.Legal.INN)
	set(fKPP, c.Legal.KPP)
	set(fOGRN, c.Legal.OGRN)
	set(fAddress, c.Legal.Address)
	set(fBank, c.Legal.Bank)
	set(fBIK, c.Legal.BIK)
	set(fAccount, c.Legal.Account)
	set(fCorrAccount, c.Legal.CorrAccount)
	set(fCity, c.City)
	set(fRegion, c.Region)
	set(fIndustry, c.Industry)
	set(fSegment, c.Segment)
	set(fType, c.Type)
	set(fStage, string(c.Stage))
	set(fRefusalReason, c.RefusalReason)
	set(fLeadSource, c.LeadSource)
	set(fTags, joinTags(c.Tags))
	set(fManager, c.ManagerID)
	set(fWebsite, c.Website)
	set(fCompanyPhone, ex.phones(c.Phones))
	set(fCompanyEmail, strings.Join(c.Emails, ", "))
	set(fGreetingsOff, yesNo(c.GreetingsOff, false))
	set(fNotes, c.Notes)
	for i, name := range custom {
		rec[int(numFields)+i] = c.Custom[name]
	}
}

func (ex *exporter) contact(rec []string, p *store.Contact) {
	if p == nil {
		for f, d := range columnDefs {
			if d.contact {
				rec[f] = ""
			}
		}
		return
	}
	set := func(f field, v string) { rec[f] = v }
	set(fContactName, p.Name)
	set(fContactPosition, p.Position)
	set(fContactDecisionMaker, yesNo(p.DecisionMaker, false))
	set(fContactPhone, ex.phones(p.Phones))
	set(fContactEmail, strings.Join(p.Emails, ", "))
	set(fContactBirthday, formatBirthday(p.Birthday))
	set(fContactLanguage, p.Language)
	set(fContactTimeZone, p.TimeZone)
	set(fConsent, yesNo(p.Consent.Given, p.Consent.UnsubscribedAt != nil))
}

// phones writes numbers of the store's country as "8 (916) 123-45-67" (text to
// Excel, and what people write), others as "+49 30 123456".
func (ex *exporter) phones(list []string) string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		n, err := phonenumbers.Parse(p, "")
		switch {
		case err != nil:
			out = append(out, p)
		case int(n.GetCountryCode()) == ex.cc:
			out = append(out, phonenumbers.Format(n, phonenumbers.NATIONAL))
		default:
			out = append(out, phonenumbers.Format(n, phonenumbers.INTERNATIONAL))
		}
	}
	return strings.Join(out, ", ")
}

// joinTags joins with ", " unless a tag holds a comma.
func joinTags(tags []string) string {
	sep := ", "
	for _, t := range tags {
		if strings.Contains(t, ",") {
			sep = " | "
		}
	}
	return strings.Join(tags, sep)
}

// yesNo writes "yes", "no" when explicitly refused, and nothing otherwise.
func yesNo(yes, no bool) string {
	switch {
	case yes:
		return "yes"
	case no:
		return "no"
	}
	return ""
}

func formatBirthday(b *store.Birthday) string {
	if b == nil {
		return ""
	}
	return b.String()
}
