// Package campaign delivers campaigns: personalised letters to a segment of clients.
// Campaigns checks, previews, tests, starts, pauses and resumes them; starting one
// renders every letter and queues its recipients in batches. A Runner on each
// instance, woken by the scheduler, queues the runs that start on their schedule and
// sends the batches it takes through the SMTP pool, skipping whoever opted out since,
// and pausing a campaign whose server is down or refuses letter after letter.
// Unsubscriber signs every letter's unsubscribe link and serves the page it opens.
//
// Like listmonk's internal/manager, it declares what it needs: a Sender, the SMTP pool
// (cmd/crm wires mail.SMTP), and a Store with the store's methods it calls (the
// DeliveryStore and UnsubscribeStore parts for Deliver and Unsubscriber), which
// *store.Store satisfies; it imports neither mail nor scheduler. The letters' parts —
// templates (Template, MailData), messages (NewMessage) and the delivery of a single
// letter (Deliver) — serve the scheduler's birthday greetings too.
package campaign
