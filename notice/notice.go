// Package notice holds the messages the scheduler prepares for managers and the bot
// sends: the morning digest, a head's weekly summary and the at-risk notice. They are
// plain data, so the scheduler and the bot share them without knowing each other.
package notice

import (
	"time"

	"github.com/crm-team/crm/store"
)

// Digest is a manager's morning summary.
type Digest struct {
	ManagerID string
	Day       time.Time       // local midnight of the digest's day
	Today     []store.TaskRef // due today
	Overdue   []store.TaskRef // due before today and still open
	Birthdays []Birthday      // of the manager's contacts, today and the next 3 days
	Awaiting  []store.AwaitedReply
	Late      bool // sent after its hour (the process was down)
}

// Birthday is a contact's birthday and what happens to their greeting.
type Birthday struct {
	store.BirthdayHit
	Greeting GreetingStatus // for today's birthdays; "" for later ones
}

// GreetingStatus says what happens to a contact's birthday greeting today; the bot
// shows it by its texts' greeting.<status>.
type GreetingStatus string

// Greeting states, as the digest shows them.
const (
	GreetingPlanned   GreetingStatus = "planned"    // goes out at the greeting hour
	GreetingSent      GreetingStatus = "sent"       // went out
	GreetingFailed    GreetingStatus = "failed"     // the server refused it
	GreetingOff       GreetingStatus = "off"        // the manager switched greetings off for the client
	GreetingNoConsent GreetingStatus = "no_consent" // no consent, or unsubscribed
	GreetingNoEmail   GreetingStatus = "no_email"   // no address that does not bounce
)

// Weekly is a head's summary of the team's week.
type Weekly struct {
	HeadID   string
	From, To time.Time // local midnights: a week, To excluded
	Rows     []WeeklyRow
	Total    WeeklyRow
	Pictures []Picture // the week's report charts, sent after the summary
}

// WeeklyRow is one manager's week.
type WeeklyRow struct {
	ManagerID, Name string
	NewClients      int
	StageMoves      int
	TasksDone       int
	Overdue         int // open tasks past their time now
	Awaiting        int // client letters waiting for an answer now
}

// Picture is a report's chart with its caption (plain text).
type Picture struct {
	Name    string // a file name, e.g. funnel.png
	Caption string
	PNG     []byte
}

// AtRisk tells a manager which of their gold and platinum clients have gone too long
// without a paid order: the methodology's warning before a client turns red.
type AtRisk struct {
	ManagerID string
	Clients   []RiskyClient // by name
	Days      int           // how long without an order makes a client at risk
}

// RiskyClient is a client newly at risk.
type RiskyClient struct {
	ID, Name  string
	Stage     store.Stage
	LastOrder time.Time // the company day of the last paid order; zero: none found
}
