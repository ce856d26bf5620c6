package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/crm-team/crm/store"
)

// Outcome is what became of a contact's letter in a run, as the report names it.
type Outcome string

// Outcomes. A letter is sent, failed (refused for good, or it did not render),
// deferred (refused for now, tried again), cut (its connection broke during sending:
// it may have arrived and is not sent again) or skipped (the contact could not be
// mailed: from the start, or since). While a run goes on, others are queued or being
// sent.
const (
	OutcomeSent     Outcome = "sent"
	OutcomeFailed   Outcome = "failed"
	OutcomeDeferred Outcome = "deferred"
	OutcomeCut      Outcome = "cut"
	OutcomeSkipped  Outcome = "skipped"
	OutcomeQueued   Outcome = "queued"
	OutcomeSending  Outcome = "sending"
)

// ReportRow is a contact of a run and what became of their letter.
type ReportRow struct {
	ClientID, Client, ContactID, Contact, Email string
	Outcome                                     Outcome
	// Reply is the server's last reply (failed, deferred, cut), or the problem of a
	// letter that did not render.
	Reply   string
	NextTry *time.Time // a deferred letter's next try
	// Reason says why a contact was skipped, or that a letter failed unrendered.
	Reason string
	// At is when the letter was last tried; for a letter sent or a contact who opted
	// out, when their batch was finished; for one skipped from the start, the start.
	At *time.Time
}

// Reasons the report gives besides a contact's own (store.MailableEmail).
const (
	ReasonNotRendered = "the letter did not render"
	reasonCut         = "the connection broke during sending: it may have arrived, and is not sent again"
	sinceStart        = " after the start"
)

// Report streams the contacts of a campaign's run (0: the current one) to fn, with
// what became of each letter, in the order they were queued. It reads a batch at a
// time (two reads by _id), so a run of any size takes the memory of one batch. It
// returns how many batches had no list: runs finished by a version that dropped them
// are in the counts only.
func (cs *Campaigns) Report(ctx context.Context, c *store.Campaign, run int, fn func(ReportRow) error) (int, error) {
	if run == 0 {
		run = c.Run
	}
	if run <= 0 || run > c.Run {
		return 0, fmt.Errorf("campaign %q has no run %d (it ran %d times)", c.Name, run, c.Run)
	}
	over := run != c.Run || (Status{Campaign: c}).RunOver()
	rp := reporter{cs: cs, fn: fn, over: over}
	missing := 0
	for seq := 0; run != c.Run || seq < c.Batches; seq++ {
		id := store.BatchID(c.ID, run, seq)
		b, err := cs.st.Batch(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			if run != c.Run {
				break // a past run's batches are numbered from 0 without a gap
			}
			continue
		}
		if err != nil {
			return missing, err
		}
		list, err := cs.st.BatchList(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			missing++
			continue
		}
		if err != nil {
			return missing, err
		}
		if err := rp.batch(ctx, b, list); err != nil {
			return missing, err
		}
	}
	return missing, nil
}

// reporter turns batches into report rows.
type reporter struct {
	cs   *Campaigns
	fn   func(ReportRow) error
	over bool // the run has ended: letters still "sending" were cut
	last *store.Client
}

func (rp *reporter) batch(ctx context.Context, b *store.Batch, list *store.BatchList) error {
	for i, r := range list.Recipients {
		if i >= len(b.States) {
			break
		}
		row, err := rp.row(ctx, r)
		if err != nil {
			return err
		}
		try := b.Tries[strconv.Itoa(i)]
		row.At, row.Reply = try.At, try.Reply
		switch store.LetterState(b.States[i]) {
		case store.DeliverySent:
			row.Outcome, row.At = OutcomeSent, b.DoneAt
		case store.DeliveryFailed:
			row.Outcome = OutcomeFailed
			if r.Problem != "" {
				row.Reason = ReasonNotRendered
			}
		case store.DeliveryDeferred:
			row.Outcome, row.NextTry = OutcomeDeferred, try.NextTry
		case store.DeliverySending:
			row.Outcome = OutcomeSending
			if rp.over {
				row.Outcome, row.Reason = OutcomeCut, reasonCut
			}
		case store.DeliverySkipped:
			row.Outcome, row.At = OutcomeSkipped, b.DoneAt
			if r.Problem != "" { // skipped when queued: the reply says what failed
				row.Reason, row.At = ReasonNotRendered, &b.Queued
			} else if row.Reason, err = rp.optedOut(ctx, r); err != nil {
				return err
			}
		default:
			row.Outcome = OutcomeQueued
		}
		if err := rp.fn(row); err != nil {
			return err
		}
	}
	for _, r := range list.Skipped {
		row, err := rp.row(ctx, r)
		if err != nil {
			return err
		}
		row.Outcome, row.Reason, row.At = OutcomeSkipped, r.Skip, &b.Queued
		if err := rp.fn(row); err != nil {
			return err
		}
	}
	return nil
}

// row names a recipient. Lists queued before names were kept with the letters have
// none: the client is read then, once for its contacts together.
func (rp *reporter) row(ctx context.Context, r store.BatchRecipient) (ReportRow, error) {
	row := ReportRow{ClientID: r.ClientID, Client: r.ClientName, ContactID: r.ContactID, Contact: r.ContactName, Email: r.Email}
	if row.Client != "" {
		return row, nil
	}
	cl, err := rp.client(ctx, r.ClientID)
	if cl == nil || err != nil {
		return row, err
	}
	row.Client, row.Contact = cl.Name, cl.Contacts[r.ContactID].Name
	return row, nil
}

// client reads a client, nil when it is gone; contacts of a client come together.
func (rp *reporter) client(ctx context.Context, id string) (*store.Client, error) {
	if rp.last != nil && rp.last.ID == id {
		return rp.last, nil
	}
	cl, err := rp.cs.st.Client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rp.last = cl
	return cl, nil
}

// optedOut says why a recipient could no longer be mailed after the run was queued,
// as their card says now (the opt-out log keeps who and when, not why).
func (rp *reporter) optedOut(ctx context.Context, r store.BatchRecipient) (string, error) {
	cl, err := rp.client(ctx, r.ClientID)
	if cl == nil || err != nil {
		return "client deleted" + sinceStart, err
	}
	p, ok := cl.Contacts[r.ContactID]
	_, why := store.MailableEmail(p)
	switch {
	case !ok:
		return "contact removed" + sinceStart, nil
	case why != "":
		return why + sinceStart, nil
	case slices.Contains(p.BouncedEmails, r.Email):
		return "bounced" + sinceStart, nil
	case !slices.Contains(p.Emails, r.Email):
		return "address removed" + sinceStart, nil
	}
	return "opted out" + sinceStart, nil // and could be mailed again since
}

// Tally is a run's contacts by outcome, as the report names them: what the status,
// the list of campaigns and the bot count.
type Tally struct {
	Sent, Failed, Deferred, Cut, Skipped, Queued, Sending int
}

// Tally counts the current run's contacts by outcome: the skipped are those who could
// not be mailed from the start and those who opted out since; letters still
// "sending" once the run is over were cut.
func (st Status) Tally() Tally {
	n := st.Counts
	t := Tally{Sent: n.Sent, Failed: n.Failed, Deferred: n.Deferred, Skipped: n.Skipped + st.Excluded, Queued: n.Queued}
	if st.RunOver() {
		t.Cut = n.Sending
	} else {
		t.Sending = n.Sending
	}
	return t
}
