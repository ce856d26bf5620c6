package bot

import (
	"fmt"
	"strings"

	"github.com/crm-team/crm/store"
)

// tap is the code a button's callback data starts with ("co:<client>:reached"). Each
// is a constant declared next to its handler, and tapRoutes is the one table from code
// to handler: a button is made only from a code (tap.data), so it names a route.
// The codes are on the wire: buttons of messages already sent (and queued in the
// outbox) carry them, so a code never changes.
type tap string

// tapData is a button's callback data. Only tap.data makes it, so a button cannot be
// given a bare string.
type tapData struct{ s string }

// data joins the code and its arguments; IDs never contain ':'.
func (k tap) data(args ...any) tapData {
	s := string(k)
	for _, a := range args {
		s += ":" + fmt.Sprint(a)
	}
	return tapData{s}
}

func btn(text string, d tapData) Button { return Button{Text: text, Data: d.s} }

func row(bs ...Button) []Button { return bs }

// tapArgs are the parts of the callback data after the code; a missing one is "".
type tapArgs []string

func (a tapArgs) at(i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

// access names the loader a tap's handler reads what the data names through; the
// loader checks that the manager may see (or change) it, and answers a refusal itself.
type access int

const (
	accessOwn      access = iota // names nothing of another's: lists, language, reports of one's reach
	accessDialog                 // answers the dialog in progress (t.s.dialog); without it the tap is over
	accessClient                 // t.client: a client the manager sees
	accessEditable               // t.editable: a client the manager may change
	accessTask                   // t.task: the manager's task, any for a head
	accessLetter                 // t.letter: an unsorted letter or one of a client seen
	accessFile                   // through its client (t.client)
	accessRole                   // campaigns and the team: heads and admins, checked anew on every tap
	accessOrder                  // t.order: an order of a client the manager sees
)

// tapRoute is what a code does: the handler, given the arguments after the code, and
// the loader that guards it.
type tapRoute struct {
	access access
	handle func(t *turn, a tapArgs)
}

// tapRoutes is every button's route, built once per Bot.
func tapRoutes() map[tap]tapRoute {
	return map[tap]tapRoute{
		tapCard:     {accessClient, func(t *turn, a tapArgs) { t.openCard(a.at(0)) }},
		tapContacts: {accessClient, func(t *turn, a tapArgs) { t.contacts(a.at(0)) }},
		tapHistory:  {accessClient, func(t *turn, a tapArgs) { t.history(a.at(0), a.at(1)) }},
		tapEmails:   {accessClient, func(t *turn, a tapArgs) { t.emails(a.at(0)) }},
		tapFile:     {accessFile, func(t *turn, a tapArgs) { t.sendFile(a.at(0)) }},
		tapTake:     {accessClient, func(t *turn, a tapArgs) { t.take(a.at(0)) }},
		tapClients:  {accessOwn, func(t *turn, a tapArgs) { t.clientsPage(atoi(a.at(0)) / listPage) }},
		tapPage:     {accessOwn, func(t *turn, a tapArgs) { t.turnPage(a) }},

		tapCall:        {accessEditable, func(t *turn, a tapArgs) { t.callMenu(a.at(0)) }},
		tapCallOutcome: {accessEditable, func(t *turn, a tapArgs) { t.callOutcome(a.at(0), a.at(1)) }},
		tapCallSave:    {accessDialog, func(t *turn, a tapArgs) { t.callSave(a.at(0), a.at(1)) }},
		tapNote:        {accessEditable, func(t *turn, a tapArgs) { t.startDialog(a.at(0), dialogNote, "note.ask") }},
		tapRemind:      {accessEditable, func(t *turn, a tapArgs) { t.startDialog(a.at(0), dialogRemind, "remind.ask") }},
		tapStages:      {accessEditable, func(t *turn, a tapArgs) { t.stageMenu(a.at(0)) }},
		tapSetStage:    {accessEditable, func(t *turn, a tapArgs) { t.setStage(a.at(0), store.Stage(a.at(1))) }},
		tapRefusal:     {accessEditable, func(t *turn, a tapArgs) { t.refusal(a.at(0), store.Stage(a.at(1)), a.at(2)) }},
		tapCloseTasks:  {accessEditable, func(t *turn, a tapArgs) { t.closeTasks(a.at(0)) }},

		tapRemindClient: {accessDialog, func(t *turn, a tapArgs) { t.remindChosen(a.at(0), false) }},
		tapRemindAlone:  {accessDialog, func(t *turn, a tapArgs) { t.remindChosen("", true) }},

		tapEdit:         {accessEditable, func(t *turn, a tapArgs) { t.editMenu(a.at(0)) }},
		tapEditField:    {accessEditable, func(t *turn, a tapArgs) { t.startClientEdit(a.at(0), a.at(1)) }},
		tapGreetings:    {accessEditable, func(t *turn, a tapArgs) { t.switchGreetings(a.at(0), a.at(1)) }},
		tapNewContact:   {accessEditable, func(t *turn, a tapArgs) { t.startNewContact(a.at(0)) }},
		tapContactMenu:  {accessEditable, func(t *turn, a tapArgs) { t.contactMenu(a.at(0), a.at(1)) }},
		tapContactField: {accessEditable, func(t *turn, a tapArgs) { t.startContactEdit(a.at(0), a.at(1), a.at(2), a.at(3)) }},
		tapComeBack:     {accessEditable, func(t *turn, a tapArgs) { t.comeBack(a.at(0), a.at(1)) }},

		tapNewClient:     {accessOwn, func(t *turn, a tapArgs) { t.startNewClient(nil) }},
		tapNewFromShared: {accessDialog, func(t *turn, a tapArgs) { t.newFromShared() }},
		tapTakenCard:     {accessClient, func(t *turn, a tapArgs) { t.takenCard(a.at(0)) }},
		tapFormKind:      {accessDialog, func(t *turn, a tapArgs) { t.onDialogTap(tapFormKind, a.at(0)) }},
		tapSkip:          {accessDialog, func(t *turn, a tapArgs) { t.onDialogTap(tapSkip, a.at(0)) }},
		tapConfirm:       {accessDialog, func(t *turn, a tapArgs) { t.onDialogTap(tapConfirm, a.at(0)) }},
		tapCancel:        {accessOwn, func(t *turn, a tapArgs) { t.onDialogTap(tapCancel, a.at(0)) }},

		tapTaskDone:   {accessTask, func(t *turn, a tapArgs) { t.taskDone(a.at(0)) }},
		tapTaskSnooze: {accessTask, func(t *turn, a tapArgs) { t.taskSnooze(a.at(0), a.at(1)) }},
		tapOverdue:    {accessOwn, func(t *turn, a tapArgs) { t.overdue() }},
		tapLang:       {accessOwn, func(t *turn, a tapArgs) { t.setLang(a.at(0)) }},

		tapReassignMenu: {accessRole, func(t *turn, a tapArgs) { t.reassignMenu(a.at(0)) }},
		tapReassign:     {accessRole, func(t *turn, a tapArgs) { t.reassign(a.at(0), a.at(1)) }},
		tapDeactivate:   {accessRole, func(t *turn, a tapArgs) { t.deactivate(a.at(0)) }},
		tapHeads:        {accessRole, func(t *turn, a tapArgs) { t.headsView(atoi(a.at(0))) }},
		tapHeadPick:     {accessRole, func(t *turn, a tapArgs) { t.headPick(a.at(0)) }},
		tapHeadSet:      {accessRole, func(t *turn, a tapArgs) { t.headSet(a.at(0), a.at(1)) }},

		tapDeactivateYes: {accessRole, func(t *turn, a tapArgs) { t.deactivateYes(a.at(0)) }},
		tapReactivate:    {accessRole, func(t *turn, a tapArgs) { t.reactivate(a.at(0)) }},
		tapHandoverMenu:  {accessRole, func(t *turn, a tapArgs) { t.handoverPageTap(a.at(0), a.at(1)) }},
		tapHandover:      {accessRole, func(t *turn, a tapArgs) { t.handover(a.at(0), a.at(1)) }},

		tapLetterAttach:    {accessLetter, func(t *turn, a tapArgs) { t.startAttach(a.at(0)) }},
		tapLetterAttachTo:  {accessLetter, func(t *turn, a tapArgs) { t.attachLetter(a.at(0), a.at(1)) }},
		tapLetterNewClient: {accessLetter, func(t *turn, a tapArgs) { t.newFromLetter(a.at(0)) }},
		tapLetterIgnore:    {accessLetter, func(t *turn, a tapArgs) { t.ignoreSender(a.at(0)) }},
		tapLetterHandled:   {accessLetter, func(t *turn, a tapArgs) { t.letterHandled(a.at(0)) }},
		tapLetterRead:      {accessLetter, func(t *turn, a tapArgs) { t.readLetter(a.at(0), a.at(1)) }},
		tapLetterFile:      {accessLetter, func(t *turn, a tapArgs) { t.sendLetterFile(a.at(0), a.at(1)) }},

		tapCampaigns:      {accessRole, func(t *turn, a tapArgs) { t.campaigns() }},
		tapCampaignStatus: {accessRole, func(t *turn, a tapArgs) { t.campaignStatus(a.at(0), "") }},
		tapCampaignStart:  {accessRole, func(t *turn, a tapArgs) { t.campaignMove(tapCampaignStart, a.at(0)) }},
		tapCampaignPause:  {accessRole, func(t *turn, a tapArgs) { t.campaignMove(tapCampaignPause, a.at(0)) }},
		tapCampaignResume: {accessRole, func(t *turn, a tapArgs) { t.campaignMove(tapCampaignResume, a.at(0)) }},

		tapOrderNew:    {accessClient, func(t *turn, a tapArgs) { t.startOrder(a.at(0), "") }},
		tapOrders:      {accessClient, func(t *turn, a tapArgs) { t.ordersPage(a.at(0), 0) }},
		tapOrder:       {accessOrder, func(t *turn, a tapArgs) { t.openOrder(a.at(0)) }},
		tapOrderPay:    {accessOrder, func(t *turn, a tapArgs) { t.startPayment(a.at(0)) }},
		tapOrderCancel: {accessOrder, func(t *turn, a tapArgs) { t.cancelMenu(a.at(0)) }},
		tapCancelWhy:   {accessOrder, func(t *turn, a tapArgs) { t.cancelWhy(a.at(0), a.at(1)) }},
		tapInvoice:     {accessOrder, func(t *turn, a tapArgs) { t.sendInvoice(a.at(0)) }},
		tapOrderToday:  {accessDialog, func(t *turn, a tapArgs) { t.orderToday(a.at(0)) }},
		tapOrderState:  {accessDialog, func(t *turn, a tapArgs) { t.orderStateTap(a.at(0), a.at(1)) }},
		tapPayAll:      {accessDialog, func(t *turn, a tapArgs) { t.payAll(a.at(0)) }},

		tapReports:      {accessOwn, func(t *turn, a tapArgs) { t.reportMenu(a.at(0) == "n") }},
		tapReport:       {accessOwn, func(t *turn, a tapArgs) { t.reportPeriodMenu(a.at(0), a.at(1) == "n") }},
		tapReportPeriod: {accessOwn, func(t *turn, a tapArgs) { t.reportPeriodTap(a.at(0), a.at(1)) }},
		tapReportSheet:  {accessOwn, func(t *turn, a tapArgs) { t.reportSheet(a.at(0), a.at(1), a.at(2)) }},
	}
}

// onTap routes a button tap. Callback data comes from the phone and is never trusted:
// every handler reads what it names through the one loader of its kind (its route's
// access), which checks the manager may see (and change) it. A code no route takes is
// a stale button.
func (t *turn) onTap(d string) {
	parts := strings.Split(d, ":")
	r, ok := t.taps[tap(parts[0])]
	if !ok {
		t.notice(t.tr("tap.stale"))
		return
	}
	r.handle(t, parts[1:])
}
