package campaign

import (
	"context"
	"io"
	"time"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
)

// ReportColumns are the columns of a run's report as CSV or a workbook: `crm campaign
// report --format csv|xlsx` and the web workspace's download write the same file.
var ReportColumns = []string{"client", "contact", "email", "outcome", "reply", "next_try", "reason", "time", "client_id", "contact_id"}

// ReportRecord fills rec with a row's columns (ReportColumns), times in the company's
// zone.
func (cs *Campaigns) ReportRecord(r ReportRow, rec []string) []string {
	copy(rec, []string{r.Client, r.Contact, r.Email, string(r.Outcome), r.Reply, cs.ReportTime(r.NextTry), r.Reason,
		cs.ReportTime(r.At), r.ClientID, r.ContactID})
	return rec
}

// ReportTime is a report's time in the company's zone; "" for none.
func (cs *Campaigns) ReportTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(cs.loc).Format("2006-01-02 15:04")
}

// WriteReport writes a run's report (0: the current one) to w, streaming: as a
// workbook when xlsx, else as Excel's CSV with comma between the columns (every value
// guarded). It returns the rows written and Report's count of batches without a list.
func (cs *Campaigns) WriteReport(ctx context.Context, w io.Writer, c *store.Campaign, run int, xlsx bool, comma rune) (rows, missing int, err error) {
	var (
		write  func([]string) error
		finish func() error
	)
	if xlsx {
		xw, err := csvio.NewXLSXWriter("report")
		if err != nil {
			return 0, 0, err
		}
		defer xw.Close()
		write, finish = xw.Write, func() error { return xw.Finish(w) }
	} else {
		cw := csvio.NewWriter(w, comma, true)
		write, finish = cw.Write, cw.Flush
	}
	if err := write(ReportColumns); err != nil {
		return 0, 0, err
	}
	rec := make([]string, len(ReportColumns))
	missing, err = cs.Report(ctx, c, run, func(r ReportRow) error {
		rows++
		return write(cs.ReportRecord(r, rec))
	})
	if err != nil {
		return rows, missing, err
	}
	return rows, missing, finish()
}
