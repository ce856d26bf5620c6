package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Stage is a funnel stage, named by the methodology's colours.
type Stage string

// The ten funnel stages.
const (
	StageWhite       Stage = "white"        // just entered the base
	StageGrey        Stage = "grey"         // decision maker identified
	StageGreen       Stage = "green"        // decision maker agreed to consider an offer
	StageYellow      Stage = "yellow"       // agreed to receive newsletters
	StageGreenGold   Stage = "green_gold"   // asked for a quote
	StageGold        Stage = "gold"         // first order paid
	StagePlatinum    Stage = "platinum"     // more than three orders, loyal
	StageRedGreen    Stage = "red_green"    // decision maker refused (reason kept)
	StageRedGold     Stage = "red_gold"     // stopped after one or two orders
	StageRedPlatinum Stage = "red_platinum" // a loyal client who left
)

// Stages lists the stages in funnel order.
var Stages = []Stage{StageWhite, StageGrey, StageGreen, StageYellow, StageGreenGold, StageGold,
	StagePlatinum, StageRedGreen, StageRedGold, StageRedPlatinum}

// Valid reports whether s is one of the ten stages.
func (s Stage) Valid() bool {
	for _, x := range Stages {
		if x == s {
			return true
		}
	}
	return false
}

// stageAliases are the stages as the methodology writes them in Russian.
var stageAliases = map[string]Stage{
	"gray":              StageGrey,
	"белый":             StageWhite,
	"серый":             StageGrey,
	"зеленый":           StageGreen,
	"желтый":            StageYellow,
	"зелено_золотой":    StageGreenGold,
	"золотой":           StageGold,
	"платиновый":        StagePlatinum,
	"красно_зеленый":    StageRedGreen,
	"красно_золотой":    StageRedGold,
	"красно_платиновый": StageRedPlatinum,
}

// ParseStage reads a stage as a person writes it, wherever one is typed (import,
// campaign segments): its name in any case, hyphens or spaces for underscores, or
// its Russian name ("зелёно-золотой").
func ParseStage(s string) (Stage, error) {
	k := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "ё", "е")
	k = strings.Join(strings.FieldsFunc(k, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_")
	if st := Stage(k); st.Valid() {
		return st, nil
	}
	if st, ok := stageAliases[k]; ok {
		return st, nil
	}
	names := make([]string, len(Stages))
	for i, st := range Stages {
		names[i] = string(st)
	}
	return "", fmt.Errorf("unknown stage %q: use one of %s, or белый, серый, зелёный, жёлтый, зелёно-золотой, золотой, платиновый, красно-зелёный, красно-золотой, красно-платиновый", s, strings.Join(names, ", "))
}

// Red reports whether the stage is a refusal or a loss, which needs a reason.
func (s Stage) Red() bool {
	return s == StageRedGreen || s == StageRedGold || s == StageRedPlatinum
}

// stageMarks are the stages' colours as a phone shows them.
var stageMarks = map[Stage]string{
	StageWhite: "⚪", StageGrey: "🔘", StageGreen: "🟢", StageYellow: "🟡",
	StageGreenGold: "🟢🟡", StageGold: "🥇", StagePlatinum: "💎",
	StageRedGreen: "🔴🟢", StageRedGold: "🔴🥇", StageRedPlatinum: "🔴💎",
}

// Mark is the stage's colour as the bot's texts and the web's board show it.
func (s Stage) Mark() string { return stageMarks[s] }

// RefusalCode is a quick reason for a red stage. The funnel report counts a quick
// reason as one, in whatever language the manager gave it; "" is a reason in words.
type RefusalCode string

// The quick reasons, in the order a manager is offered them.
const (
	RefusalPrice      RefusalCode = "price"      // too expensive
	RefusalCompetitor RefusalCode = "competitor" // went to a competitor
	RefusalNoNeed     RefusalCode = "no_need"    // no need
	RefusalNotDM      RefusalCode = "not_dm"     // not the decision maker
)

// RefusalCodes lists the quick reasons.
var RefusalCodes = []RefusalCode{RefusalPrice, RefusalCompetitor, RefusalNoNeed, RefusalNotDM}

// Valid reports whether c is a quick reason or none.
func (c RefusalCode) Valid() bool { return c == "" || slices.Contains(RefusalCodes, c) }

// Refusal is why a client moves to a red stage: the reason in words, and the quick
// reason it is, if it is one (its words then are the label the manager saw).
type Refusal struct {
	Code   RefusalCode
	Reason string
}

// ClientKind tells a company from a private person.
type ClientKind string

// Client kinds.
const (
	KindCompany ClientKind = "company"
	KindPerson  ClientKind = "person"
)

// Legal holds a client's legal details.
type Legal struct {
	INN         string `bson:"inn,omitempty" json:"inn,omitempty"`
	KPP         string `bson:"kpp,omitempty" json:"kpp,omitempty"`
	OGRN        string `bson:"ogrn,omitempty" json:"ogrn,omitempty"`
	Address     string `bson:"address,omitempty" json:"address,omitempty"`
	Bank        string `bson:"bank,omitempty" json:"bank,omitempty"`
	BIK         string `bson:"bik,omitempty" json:"bik,omitempty"`
	Account     string `bson:"account,omitempty" json:"account,omitempty"`
	CorrAccount string `bson:"corrAccount,omitempty" json:"corrAccount,omitempty"`
}

// Client is a company or a private person the team sells to. Contact persons live
// inside the client document so that a card is one read and a contact's keys change
// together with its client.
type Client struct {
	ID            string             `bson:"_id"`
	Kind          ClientKind         `bson:"kind"`
	Name          string             `bson:"name"`
	Legal         Legal              `bson:"legal"`
	City          string             `bson:"city,omitempty"`
	Region        string             `bson:"region,omitempty"`
	Industry      string             `bson:"industry,omitempty"`
	Segment       string             `bson:"segment,omitempty"`
	Type          string             `bson:"type,omitempty"`
	Stage         Stage              `bson:"stage"`
	RefusalReason string             `bson:"refusalReason,omitempty"`
	RefusalCode   RefusalCode        `bson:"refusalCode,omitempty"`
	StageSince    *time.Time         `bson:"stageSince,omitempty"` // the last move; nil: since CreatedAt
	LeadSource    string             `bson:"leadSource,omitempty"`
	Tags          []string           `bson:"tags,omitempty"`
	ManagerID     string             `bson:"managerId,omitempty"`
	Website       string             `bson:"website,omitempty"`
	Phones        []string           `bson:"phones,omitempty"` // company lines, E.164
	Emails        []string           `bson:"emails,omitempty"` // general addresses, lower case
	Custom        map[string]string  `bson:"custom,omitempty"`
	Notes         string             `bson:"notes,omitempty"`
	Contacts      map[string]Contact `bson:"contacts,omitempty"` // by contact ID
	GreetingsOff  bool               `bson:"greetingsOff,omitempty"`

	// Subset pattern: what the card shows without further reads.
	NextContactAt *time.Time `bson:"nextContactAt,omitempty"`
	OrdersCount   int        `bson:"ordersCount,omitempty"`
	OrdersTotal   int64      `bson:"ordersTotal,omitempty"` // minor units of the base currency
	FirstPaidAt   *time.Time `bson:"firstPaidAt,omitempty"` // the first order paid in full: gold
	TimelineSeq   int64      `bson:"timelineSeq,omitempty"` // last interaction number
	// Set by the nightly job (MarkClients): the ABC/XYZ class over the last twelve
	// months ("AX"; empty without paid orders), and since when a gold or platinum
	// client has gone too long without an order.
	Class       string     `bson:"class,omitempty"`
	AtRiskSince *time.Time `bson:"atRiskSince,omitempty"`
	Tasks       []TaskRef  `bson:"tasks,omitempty"` // open tasks about the client
	Files       []FileRef  `bson:"files,omitempty"` // attached documents, newest last

	CreatedAt time.Time `bson:"createdAt"`
	CreatedBy string    `bson:"createdBy,omitempty"`
	UpdatedAt time.Time `bson:"updatedAt"`
	UpdatedBy string    `bson:"updatedBy,omitempty"`
	Version   int64     `bson:"version"` // incremented by every write
}

// ContactList returns the contact persons in the order they were added.
func (c *Client) ContactList() []Contact {
	list := make([]Contact, 0, len(c.Contacts))
	for _, p := range c.Contacts {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.Before(list[j].CreatedAt)
		}
		return list[i].ID < list[j].ID
	})
	return list
}

// Birthday is a day of the year, with the year when known.
type Birthday struct {
	Year  int `bson:"year,omitempty" json:"year,omitempty"`
	Month int `bson:"month" json:"month"`
	Day   int `bson:"day" json:"day"`
}

// Consent records agreement to receive mailings.
type Consent struct {
	Given  bool       `bson:"given"`
	At     *time.Time `bson:"at,omitempty"`
	Method string     `bson:"method,omitempty"` // "form", "call", "letter", "import"...
	// The person's own opt-out (Unsubscribe): when, and how ("link", "one-click").
	// Only a manager's confirmation that they asked to come back clears it.
	UnsubscribedAt  *time.Time `bson:"unsubscribedAt,omitempty"`
	UnsubscribedVia string     `bson:"unsubscribedVia,omitempty"`
}

// Contact is a person at a client.
type Contact struct {
	ID            string    `bson:"id"`
	Name          string    `bson:"name"`
	Position      string    `bson:"position,omitempty"`
	DecisionMaker bool      `bson:"decisionMaker,omitempty"`
	Phones        []string  `bson:"phones,omitempty"`
	Emails        []string  `bson:"emails,omitempty"`
	BouncedEmails []string  `bson:"bouncedEmails,omitempty"`
	Birthday      *Birthday `bson:"birthday,omitempty"`
	Language      string    `bson:"language,omitempty"`
	TimeZone      string    `bson:"timeZone,omitempty"`
	Consent       Consent   `bson:"consent"`
	CreatedAt     time.Time `bson:"createdAt"`
}

// InteractionKind names an entry of a client's timeline.
type InteractionKind string

// Timeline entry kinds.
const (
	InteractionCall        InteractionKind = "call"
	InteractionMeeting     InteractionKind = "meeting"
	InteractionNote        InteractionKind = "note"
	InteractionEmailIn     InteractionKind = "email_in"
	InteractionEmailOut    InteractionKind = "email_out"
	InteractionMailing     InteractionKind = "mailing"
	InteractionBirthday    InteractionKind = "birthday_greeting"
	InteractionStageChange InteractionKind = "stage_change"
	InteractionOrder       InteractionKind = "order"
	InteractionPayment     InteractionKind = "payment"
	InteractionFile        InteractionKind = "file"
	InteractionUnsubscribe InteractionKind = "unsubscribe"
	// InteractionResubscribe is a person undoing their own unsubscribe.
	InteractionResubscribe InteractionKind = "resubscribe"
)

// Call details of a call entry.
type Call struct {
	Direction   string `bson:"direction"` // "in" or "out"
	Outcome     string `bson:"outcome"`   // reached, no_answer, call_back, refused, meeting, order
	DurationSec int    `bson:"durationSec,omitempty"`
	NextStep    string `bson:"nextStep,omitempty"`
}

// StageChange details of a stage move.
type StageChange struct {
	From   Stage       `bson:"from"`
	To     Stage       `bson:"to"`
	Reason string      `bson:"reason,omitempty"`
	Code   RefusalCode `bson:"code,omitempty"`
	// Since is when the client entered From: with it the entry alone gives the
	// move's record for the reports (stageMoveOf).
	Since *time.Time `bson:"since,omitempty"`
}

// MailRef points from the timeline to a stored letter.
type MailRef struct {
	LetterID  string `bson:"letterId,omitempty"`
	MessageID string `bson:"messageId,omitempty"`
	Subject   string `bson:"subject,omitempty"`
	From      string `bson:"from,omitempty"`
}

// Interaction is one entry of a client's timeline.
type Interaction struct {
	Seq       int64           `bson:"seq"`
	Kind      InteractionKind `bson:"kind"`
	At        time.Time       `bson:"at"`
	AuthorID  string          `bson:"authorId,omitempty"`
	ContactID string          `bson:"contactId,omitempty"`
	Text      string          `bson:"text,omitempty"`
	Call      *Call           `bson:"call,omitempty"`
	Stage     *StageChange    `bson:"stage,omitempty"`
	Mail      *MailRef        `bson:"mail,omitempty"`
	OrderID   string          `bson:"orderId,omitempty"`
	Order     *OrderLine      `bson:"order,omitempty"`
	FileID    string          `bson:"fileId,omitempty"` // an attached file or voice note
	// SourceKey makes an append idempotent: a second append with the same key for
	// the same client is ignored (a letter's Message-ID, a campaign delivery).
	SourceKey string `bson:"sourceKey,omitempty"`
}

// TaskState is where a task is in its life.
type TaskState string

// Task states.
const (
	TaskOpen    TaskState = "open"
	TaskDone    TaskState = "done"
	TaskSnoozed TaskState = "snoozed"
	// TaskCancelled: closed without being done (its client refused), so it counts
	// neither as done nor as overdue.
	TaskCancelled TaskState = "cancelled"
)

// Task is a reminder for a manager, usually about a client.
type Task struct {
	ID         string     `bson:"_id"`
	AssigneeID string     `bson:"assigneeId"`
	ClientID   string     `bson:"clientId,omitempty"`
	ContactID  string     `bson:"contactId,omitempty"`
	Due        time.Time  `bson:"due"`      // UTC
	TimeZone   string     `bson:"timeZone"` // the assignee's, to show and reschedule in
	Text       string     `bson:"text"`
	State      TaskState  `bson:"state"`
	Source     string     `bson:"source,omitempty"` // "bot", "call", "mail", "import"...
	CreatedAt  time.Time  `bson:"createdAt"`
	CreatedBy  string     `bson:"createdBy,omitempty"`
	DoneAt     *time.Time `bson:"doneAt,omitempty"`
}

// TaskRef is the part of an open task that a card and an agenda show.
type TaskRef struct {
	ID         string    `bson:"id"`
	AssigneeID string    `bson:"assigneeId"`
	ClientID   string    `bson:"clientId,omitempty"`
	Due        time.Time `bson:"due"`
	Text       string    `bson:"text"`
}

// FileRef is the part of an attached file that a card lists.
type FileRef struct {
	ID   string    `bson:"id"`
	Name string    `bson:"name"`
	Size int64     `bson:"size"`
	At   time.Time `bson:"at"`
	By   string    `bson:"by,omitempty"`
}

// File is a document, photo or voice note attached to a client. Content is kept up to
// a size limit so the file survives a change of bot; Telegram's handle is kept too.
type File struct {
	ID               string    `bson:"_id"`
	ClientID         string    `bson:"clientId,omitempty"`
	LetterID         string    `bson:"letterId,omitempty"` // an attachment of a stored letter
	Name             string    `bson:"name"`
	MIME             string    `bson:"mime,omitempty"`
	Size             int64     `bson:"size"`
	Kind             string    `bson:"kind,omitempty"` // document, photo, voice, attachment
	TelegramFileID   string    `bson:"telegramFileId,omitempty"`
	TelegramUniqueID string    `bson:"telegramUniqueId,omitempty"`
	Caption          string    `bson:"caption,omitempty"` // what the manager wrote with it
	Data             []byte    `bson:"data,omitempty"`
	NotStored        string    `bson:"notStored,omitempty"` // why the content is not kept
	At               time.Time `bson:"at"`
	By               string    `bson:"by,omitempty"`
}

// Invite lets one person join the team with a role, once, before it expires.
type Invite struct {
	ID        string     `bson:"_id"` // the code in the deep link
	Role      Role       `bson:"role"`
	Name      string     `bson:"name,omitempty"`
	CreatedAt time.Time  `bson:"createdAt"`
	CreatedBy string     `bson:"createdBy,omitempty"`
	ExpiresAt time.Time  `bson:"expiresAt"`
	UsedAt    *time.Time `bson:"usedAt,omitempty"`
	UsedBy    string     `bson:"usedBy,omitempty"` // the manager it created
}

// Role is what a manager may do.
type Role string

// Roles.
const (
	RoleManager Role = "manager" // own clients and unassigned ones they take
	RoleHead    Role = "head"    // all clients, reassigns, team reports
	RoleAdmin   Role = "admin"   // also manages people and mailings
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleManager || r == RoleHead || r == RoleAdmin }

// SeesAll reports whether the role sees every client.
func (r Role) SeesAll() bool { return r == RoleHead || r == RoleAdmin }

// Manager is a person on the sales team.
type Manager struct {
	ID         string    `bson:"_id"`
	TelegramID int64     `bson:"telegramId,omitempty"`
	Name       string    `bson:"name"`
	Email      string    `bson:"email,omitempty"`
	Role       Role      `bson:"role"`
	HeadID     string    `bson:"headId,omitempty"`
	TimeZone   string    `bson:"timeZone"`
	Language   string    `bson:"language"`
	DigestHour int       `bson:"digestHour"`
	Active     bool      `bson:"active"`
	CreatedAt  time.Time `bson:"createdAt"`
	// HandoverTo names the manager this one's clients and open tasks are being
	// handed to, until all of them are (HandOver); HandoverBy who asked for it.
	HandoverTo string `bson:"handoverTo,omitempty"`
	HandoverBy string `bson:"handoverBy,omitempty"`
}

// OrderState drives the gold and platinum stages and ABC analysis.
type OrderState string

// Order states. An order is invoiced until its payments cover it; a cancelled order
// counts nowhere.
const (
	OrderInvoiced  OrderState = "invoiced"
	OrderPaid      OrderState = "paid"
	OrderCancelled OrderState = "cancelled"
)

// Order is a client's purchase. Its _id is its number: the accounting system's for an
// imported order, the CRM's own ("2026-17") for one recorded in the bot, so that a
// re-import finds it.
type Order struct {
	ID        string     `bson:"_id"`
	ClientID  string     `bson:"clientId"`
	ManagerID string     `bson:"managerId,omitempty"` // who sold it: the client's manager then
	What      string     `bson:"what,omitempty"`
	Amount    int64      `bson:"amount"` // minor units (kopecks)
	Currency  string     `bson:"currency"`
	Date      time.Time  `bson:"date"`
	Due       *time.Time `bson:"due,omitempty"` // pay by; unpaid after it, the invoice is overdue
	State     OrderState `bson:"state"`
	Payments  []Payment  `bson:"payments,omitempty"`
	PaidAt    *time.Time `bson:"paidAt,omitempty"` // when the payments came to cover it
	// CancelReason says why a cancelled order was cancelled.
	CancelReason string    `bson:"cancelReason,omitempty"`
	Invoice      *Invoice  `bson:"invoice,omitempty"`
	Note         string    `bson:"note,omitempty"`
	CreatedAt    time.Time `bson:"createdAt"`
	CreatedBy    string    `bson:"createdBy,omitempty"`
	UpdatedAt    time.Time `bson:"updatedAt,omitempty"`
	UpdatedBy    string    `bson:"updatedBy,omitempty"`
}

// Payment is money received for an order.
type Payment struct {
	ID     string    `bson:"id"`
	Date   time.Time `bson:"date"`
	Amount int64     `bson:"amount"` // minor units
	By     string    `bson:"by,omitempty"`
	At     time.Time `bson:"at"` // when it was recorded
	Note   string    `bson:"note,omitempty"`
}

// Invoice is the "счёт на оплату" made from an order: its number is taken once, from
// a counter of its year, and kept.
type Invoice struct {
	Number int64     `bson:"number"`
	Year   int       `bson:"year"`
	Date   time.Time `bson:"date"`
}

// Segment selects clients and their contacts for a campaign. Within a field values are
// alternatives (or); fields combine with and. Any lists alternative segments (or).
type Segment struct {
	Stages     []Stage           `bson:"stages,omitempty" json:"stages,omitempty"`
	Cities     []string          `bson:"cities,omitempty" json:"cities,omitempty"`
	Industries []string          `bson:"industries,omitempty" json:"industries,omitempty"`
	Tags       []string          `bson:"tags,omitempty" json:"tags,omitempty"`
	Managers   []string          `bson:"managers,omitempty" json:"managers,omitempty"`
	HasOrders  *bool             `bson:"hasOrders,omitempty" json:"hasOrders,omitempty"`
	Custom     map[string]string `bson:"custom,omitempty" json:"custom,omitempty"`
	// Classes are ABC/XYZ classes: "A" takes AX, AY and AZ; "X" takes AX, BX and CX;
	// "AX" takes AX alone.
	Classes []string  `bson:"classes,omitempty" json:"classes,omitempty"`
	Any     []Segment `bson:"any,omitempty" json:"any,omitempty"`
}

// CampaignState is where a campaign is.
type CampaignState string

// Campaign states. A run goes preparing → sending → finishing → done (or back to
// scheduled for its next run); a pause stops it before finishing.
const (
	CampaignDraft     CampaignState = "draft"
	CampaignScheduled CampaignState = "scheduled"
	// CampaignPreparing: started; its letters are being rendered and queued, and
	// none has gone to the mail server yet.
	CampaignPreparing CampaignState = "preparing"
	// CampaignSending: letters are going out, while the rest may still be queued.
	CampaignSending CampaignState = "sending"
	// CampaignFinishing: every letter is out; the "mailing sent" lines of the
	// clients' histories are being written.
	CampaignFinishing CampaignState = "finishing"
	CampaignPaused    CampaignState = "paused"
	CampaignDone      CampaignState = "done"

	// campaignRunning is what versions before the three above wrote for all of
	// them; Migrate moves it to preparing or sending.
	campaignRunning CampaignState = "running"
)

// ActiveCampaignStates are the states of a run under way: runners work on them.
func ActiveCampaignStates() []CampaignState {
	return []CampaignState{CampaignPreparing, CampaignSending, CampaignFinishing}
}

// Active says whether a campaign's run is under way.
func (s CampaignState) Active() bool {
	return s == CampaignPreparing || s == CampaignSending || s == CampaignFinishing
}

// Campaign is a personalised mailing to a segment.
type Campaign struct {
	ID       string        `bson:"_id"`
	Name     string        `bson:"name"`
	Segment  Segment       `bson:"segment"`
	Subject  string        `bson:"subject"`
	Text     string        `bson:"text"`
	HTML     string        `bson:"html,omitempty"`
	Sender   string        `bson:"sender"`
	Schedule string        `bson:"schedule,omitempty"` // "", RFC 3339 time, or cron expression
	State    CampaignState `bson:"state"`
	// Run counts the campaign's runs (a recurring one runs again on its schedule); the
	// deliveries of a run are queued in Batches batches, all of them once Prepared.
	Run      int        `bson:"run"`
	RunAt    *time.Time `bson:"runAt,omitempty"` // when a scheduled campaign starts its next run
	Prepared bool       `bson:"prepared"`
	Batches  int        `bson:"batches"`
	// PauseReason says why a campaign is paused; ResumeAt is when one paused by an
	// unreachable SMTP server tries again.
	PauseReason string     `bson:"pauseReason,omitempty"`
	ResumeAt    *time.Time `bson:"resumeAt,omitempty"`
	CreatedAt   time.Time  `bson:"createdAt"`
	CreatedBy   string     `bson:"createdBy,omitempty"`
	UpdatedAt   time.Time  `bson:"updatedAt"`
	// ArchivedAt is when a finished campaign was put away (see IsArchived).
	ArchivedAt *time.Time `bson:"archivedAt,omitempty"`
}

// DeliveryState is a step of one message's state machine.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued   DeliveryState = "queued"
	DeliverySending  DeliveryState = "sending"
	DeliverySent     DeliveryState = "sent"
	DeliveryFailed   DeliveryState = "failed"
	DeliveryDeferred DeliveryState = "deferred"
	// DeliverySkipped: the contact opted out (or bounced, or was removed) after the
	// run was queued, so the message was not sent.
	DeliverySkipped DeliveryState = "skipped"
)

// Delivery is one campaign message to one contact; its _id is campaign/contact so it
// is created once whatever restarts happen.
type Delivery struct {
	ID         string        `bson:"_id"`
	CampaignID string        `bson:"campaignId"`
	ClientID   string        `bson:"clientId"`
	ContactID  string        `bson:"contactId"`
	Email      string        `bson:"email"`
	State      DeliveryState `bson:"state"`
	Attempts   int           `bson:"attempts"`
	LastReply  string        `bson:"lastReply,omitempty"`
	NextTry    *time.Time    `bson:"nextTry,omitempty"`
	SentAt     *time.Time    `bson:"sentAt,omitempty"`
	UpdatedAt  time.Time     `bson:"updatedAt"`
}

// MailboxState is the IMAP progress of one folder of one mailbox.
type MailboxState struct {
	ID          string    `bson:"_id"` // mailbox/folder
	Mailbox     string    `bson:"mailbox"`
	Folder      string    `bson:"folder"`
	UIDValidity uint32    `bson:"uidValidity"`
	LastUID     uint32    `bson:"lastUid"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// AuditEntry records who changed what.
type AuditEntry struct {
	ID       string         `bson:"_id"`
	At       time.Time      `bson:"at"`
	ActorID  string         `bson:"actorId"`
	Action   string         `bson:"action"`
	Entity   string         `bson:"entity"`
	EntityID string         `bson:"entityId"`
	Changes  map[string]any `bson:"changes,omitempty"`
}
