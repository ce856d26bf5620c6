package bot

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/crm-team/crm/store"
)

// dialog is a conversation in progress: the bot asked, the manager answers.
type dialog struct {
	kind     dialogKind
	clientID string
	outcome  string
	note     string
	voiceID  string // a voice note, saved as a file
	nextStep bool   // call: the note is done, waiting for the next step
	stage    store.Stage
	form     *form
	letterID string // attach: the unsorted letter
	report   string // report: the report whose dates are awaited

	order *orderDraft // an order, a payment or a cancellation (orders.go)

	// remind: the time and text read, the client still to be chosen (due not zero);
	// alone is the text for a reminder without a client, the whole of what was typed.
	due         time.Time
	text, alone string
}

// dialogKind is what a dialog waits for; onDialogText hands typed text to its handler.
type dialogKind string

const (
	dialogCall   dialogKind = "call"   // a call's note, then its next step
	dialogNote   dialogKind = "note"   // a note about a client
	dialogReason dialogKind = "reason" // why a client moves to a red stage
	dialogRemind dialogKind = "remind" // a reminder's time and text
	dialogForm   dialogKind = "form"   // a client or contact form, one answer at a time
	dialogAttach dialogKind = "attach" // which client an unsorted letter belongs to
	dialogReport dialogKind = "report" // the dates of a report
	dialogShared dialogKind = "shared" // a shared contact nobody has, waiting for "new client"
)

// The outcomes of a call, in the order of their buttons.
var outcomes = []string{"reached", "no_answer", "call_back", "refused", "meeting", "order"}

const tapCall tap = "call" // call:<client>

func (t *turn) callMenu(id string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	var kb [][]Button
	for i := 0; i < len(outcomes); i += 2 {
		kb = append(kb, row(btn(t.tr("outcome."+outcomes[i]), tapCallOutcome.data(c.ID, outcomes[i])),
			btn(t.tr("outcome."+outcomes[i+1]), tapCallOutcome.data(c.ID, outcomes[i+1]))))
	}
	kb = append(kb, row(btn(t.tr("btn.cancel"), tapCard.data(c.ID))))
	t.show(t.tr("call.outcome", "name", c.Name), kb...)
}

func validOutcome(o string) bool {
	for _, x := range outcomes {
		if x == o {
			return true
		}
	}
	return false
}

const tapCallOutcome tap = "co" // co:<client>:<outcome>

// callOutcome starts a call's dialog: the outcome is known, a note and a next step may
// follow. One more tap saves it as is.
func (t *turn) callOutcome(id, outcome string) {
	if !validOutcome(outcome) {
		t.notice(t.tr("tap.stale"))
		return
	}
	c := t.editable(id)
	if c == nil {
		return
	}
	if outcome == "order" {
		t.orderAfterCall(c)
		return
	}
	t.s.dialog = &dialog{kind: dialogCall, clientID: c.ID, outcome: outcome}
	t.show(t.tr("call.note", "name", c.Name, "outcome", t.tr("outcome."+outcome)),
		row(btn(t.tr("btn.save"), tapCallSave.data(c.ID)), btn(t.tr("btn.save_tomorrow"), tapCallSave.data(c.ID, "t10"))),
		row(btn(t.tr("btn.cancel"), tapCancel.data())))
}

// callText takes the note, then the next step ("завтра в 10 отправить КП").
func (t *turn) callText(d *dialog, text string) {
	if !d.nextStep {
		d.note, d.nextStep = text, true
		t.say(t.tr("call.next"), row(btn(t.tr("btn.save_no_next"), tapCallSave.data(d.clientID)),
			btn(t.tr("btn.save_tomorrow"), tapCallSave.data(d.clientID, "t10"))), row(btn(t.tr("btn.cancel"), tapCancel.data())))
		return
	}
	due, rest, ok := t.parseWhen(text)
	if !ok {
		return
	}
	if rest == "" {
		rest = t.tr("task.follow_up")
	}
	t.saveCall(d, due, rest)
}

const tapCallSave tap = "cs" // cs:<client>[:t10]

// callSave saves the call from a button: as is, or with tomorrow 10:00 as next step.
func (t *turn) callSave(id, preset string) {
	d := t.s.dialog
	if d == nil || d.kind != dialogCall || d.clientID != id {
		t.notice(t.tr("dialog.over"))
		return
	}
	var due time.Time
	if preset == "t10" {
		due = t.tomorrowAt10()
	}
	t.saveCall(d, due, t.tr("task.follow_up"))
}

func (t *turn) tomorrowAt10() time.Time {
	l := t.now.In(t.loc).AddDate(0, 0, 1)
	return time.Date(l.Year(), l.Month(), l.Day(), 10, 0, 0, 0, t.loc)
}

func (t *turn) saveCall(d *dialog, due time.Time, step string) {
	c := t.editable(d.clientID)
	if c == nil {
		t.s.dialog = nil
		return
	}
	call := &store.Call{Direction: "out", Outcome: d.outcome}
	if !due.IsZero() {
		call.NextStep = step
	}
	if _, err := t.st.AppendInteraction(t.ctx, c.ID, store.Interaction{Kind: store.InteractionCall, AuthorID: t.m.ID,
		Text: d.note, FileID: d.voiceID, Call: call}); err != nil {
		t.fail("save call", err)
		return
	}
	t.s.dialog = nil
	msg := t.tr("call.saved", "name", c.Name, "outcome", t.tr("outcome."+d.outcome))
	if !due.IsZero() {
		task := &store.Task{AssigneeID: t.m.ID, ClientID: c.ID, Due: due, TimeZone: t.loc.String(), Text: step, Source: "call"}
		if err := t.st.CreateTask(t.ctx, t.m.ID, task); err != nil {
			t.fail("save next step", err)
			return
		}
		msg += "\n" + t.tr("task.set", "when", t.whenFull(due), "text", step)
	}
	t.say(msg, row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
}

// The one-question dialogs about a client: note:<client>, rem:<client>.
const (
	tapNote   tap = "note"
	tapRemind tap = "rem"
)

// startDialog opens a one-question dialog about a client the manager may change.
func (t *turn) startDialog(id string, kind dialogKind, question string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	t.s.dialog = &dialog{kind: kind, clientID: c.ID}
	t.say(t.tr(question, "name", c.Name), row(btn(t.tr("btn.cancel"), tapCancel.data())))
}

func (t *turn) saveNote(d *dialog, text string) {
	c := t.editable(d.clientID)
	if c == nil {
		t.s.dialog = nil
		return
	}
	if _, err := t.st.AppendInteraction(t.ctx, c.ID, store.Interaction{Kind: store.InteractionNote, AuthorID: t.m.ID,
		Text: text, FileID: d.voiceID}); err != nil {
		t.fail("save note", err)
		return
	}
	t.s.dialog = nil
	t.say(t.tr("note.saved", "name", c.Name), row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
}

const tapStages tap = "stg" // stg:<client>

func (t *turn) stageMenu(id string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	var kb [][]Button
	var line []Button
	for _, s := range store.Stages {
		if s == c.Stage {
			continue
		}
		line = append(line, btn(t.stageName(s), tapSetStage.data(c.ID, s)))
		if len(line) == 2 {
			kb, line = append(kb, line), nil
		}
	}
	if len(line) > 0 {
		kb = append(kb, line)
	}
	kb = append(kb, row(btn(t.tr("btn.cancel"), tapCard.data(c.ID))))
	t.show(t.tr("stage.choose", "name", c.Name, "stage", safe(t.stageName(c.Stage))), kb...)
}

const tapSetStage tap = "ss" // ss:<client>:<stage>

func (t *turn) setStage(id string, to store.Stage) {
	if !to.Valid() {
		t.notice(t.tr("tap.stale"))
		return
	}
	c := t.editable(id)
	if c == nil {
		return
	}
	if to.Red() {
		t.refusalMenu(c, to)
		return
	}
	t.moveStage(c, to, store.Refusal{})
}

// refusalOther is the refusal button for a reason the manager types.
const refusalOther = "other"

// refusalMenu asks why the client refused: the quick reasons, two a row, or another
// one typed.
func (t *turn) refusalMenu(c *store.Client, to store.Stage) {
	var kb [][]Button
	var line []Button
	for _, code := range store.RefusalCodes {
		line = append(line, btn(t.tr("refusal."+string(code)), tapRefusal.data(c.ID, to, code)))
		if len(line) == 2 {
			kb, line = append(kb, line), nil
		}
	}
	if len(line) > 0 {
		kb = append(kb, line)
	}
	kb = append(kb, row(btn(t.tr("btn.refusal_other"), tapRefusal.data(c.ID, to, refusalOther))),
		row(btn(t.tr("btn.cancel"), tapCard.data(c.ID))))
	t.show(t.tr("stage.why", "name", c.Name, "stage", safe(t.stageName(to))), kb...)
}

const tapRefusal tap = "rr" // rr:<client>:<red stage>:<reason code|other>

// refusal moves a client to a red stage for a quick reason, kept by its code with its
// words in the manager's language; "other" asks for the reason in words.
func (t *turn) refusal(id string, to store.Stage, code string) {
	if !to.Red() || code != refusalOther && (code == "" || !store.RefusalCode(code).Valid()) {
		t.notice(t.tr("tap.stale"))
		return
	}
	c := t.editable(id)
	if c == nil {
		return
	}
	if code == refusalOther {
		t.s.dialog = &dialog{kind: dialogReason, clientID: c.ID, stage: to}
		t.say(t.tr("stage.reason", "stage", safe(t.stageName(to))), row(btn(t.tr("btn.cancel"), tapCancel.data())))
		return
	}
	t.moveStage(c, to, store.Refusal{Code: store.RefusalCode(code), Reason: t.tr("refusal." + code)})
}

// refusalText is a red stage's reason: a quick one in the manager's language.
func (t *turn) refusalText(code store.RefusalCode, reason string) string {
	if code != "" {
		return t.tr("refusal." + string(code))
	}
	return reason
}

func (t *turn) moveStage(c *store.Client, to store.Stage, why store.Refusal) {
	if c.Stage == to {
		t.showCard(c)
		return
	}
	c, err := t.st.MoveStage(t.ctx, t.m.ID, c.ID, to, why)
	if err != nil {
		t.fail("move stage", err)
		return
	}
	t.s.dialog = nil
	t.notice(t.tr("stage.moved", "stage", t.tr("stage."+string(to))))
	t.showCard(c)
	if n := len(t.closable(c)); to.Red() && n > 0 {
		t.say(t.tr("stage.close_tasks", "name", c.Name, "n", n),
			row(btn(t.tr("btn.close_tasks"), tapCloseTasks.data(c.ID)), btn(t.tr("btn.keep_tasks"), tapCard.data(c.ID))))
	}
}

// closable are the client's open tasks the manager may close: their own, any for a head.
func (t *turn) closable(c *store.Client) []store.TaskRef {
	var out []store.TaskRef
	for _, r := range c.Tasks {
		if r.AssigneeID == t.m.ID || t.m.Role.SeesAll() {
			out = append(out, r)
		}
	}
	return out
}

const tapCloseTasks tap = "rx" // rx:<client>

// closeTasks closes the client's open tasks (a client who refused): cancelled, so they
// count neither as done nor as overdue.
func (t *turn) closeTasks(id string) {
	c := t.editable(id)
	if c == nil {
		return
	}
	n := 0
	for _, r := range t.closable(c) {
		_, err := t.st.SetTaskState(t.ctx, t.m.ID, r.ID, store.TaskCancelled, time.Time{})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.fail("close task", err)
			return
		}
		n++
	}
	t.notice(t.tr("stage.tasks_closed", "n", n))
	t.showCard(c)
}

// parseWhen reads a time from text in the manager's zone and says what is wrong when it
// cannot, keeping the dialog so the manager can try again.
func (t *turn) parseWhen(text string) (time.Time, string, bool) {
	due, rest, err := t.parser.Parse(text, t.now, t.loc)
	if errors.Is(err, ErrNoTime) || (err == nil && !due.After(t.now)) {
		if err == nil {
			t.say(t.tr("when.past", "when", t.whenFull(due)))
		} else {
			t.say(t.tr("when.unknown"))
		}
		return time.Time{}, "", false
	}
	if err != nil {
		t.fail("parse time", err)
		return time.Time{}, "", false
	}
	return due, strings.Trim(strings.TrimSpace(rest), ",.—-: "), true
}

// remind is /remind <client?> <when> <text>. The client, when named, is the first words
// of what is left after the time that find exactly one of the manager's clients.
func (t *turn) remind(arg string) {
	if arg == "" {
		t.s.dialog = &dialog{kind: dialogRemind}
		t.say(t.tr("remind.ask_any"), row(btn(t.tr("btn.cancel"), tapCancel.data())))
		return
	}
	d := &dialog{kind: dialogRemind}
	t.s.dialog = d
	t.saveReminder(d, arg)
}

func (t *turn) saveReminder(d *dialog, text string) {
	due, rest, ok := t.parseWhen(text)
	if !ok {
		return
	}
	if d.clientID != "" {
		c := t.editable(d.clientID)
		if c == nil {
			t.s.dialog = nil
			return
		}
		t.setReminder(d, due, rest, c)
		return
	}
	found, named, after := t.leadingClients(rest)
	switch {
	case len(found) == 1:
		c := t.editable(found[0].ClientID)
		if c == nil {
			t.s.dialog = nil
			return
		}
		t.setReminder(d, due, after, c)
	case len(found) > 1:
		d.due, d.text, d.alone = due, after, rest
		t.askClient(t.tr("remind.which", "q", named), found)
	case rest == "":
		t.say(t.tr("remind.what"))
	case looksLikeName(rest):
		// A name no client has: a typo, or a client not in the base yet.
		d.due, d.text, d.alone = due, rest, rest
		first, _, _ := strings.Cut(rest, " ")
		t.askClient(t.tr("remind.no_client", "q", first), nil)
	default:
		t.setReminder(d, due, rest, nil)
	}
}

// askClient asks which client a reminder is about: one button for each found (name,
// city, stage), or a typed name; or none.
func (t *turn) askClient(question string, found []store.Result) {
	if len(found) > listPage {
		found, question = found[:listPage], question+"\n"+t.tr("find.more")
	}
	kb := t.resultButtons(found, func(r store.Result) tapData { return tapRemindClient.data(r.ClientID) })
	kb = append(kb, row(btn(t.tr("btn.no_client"), tapRemindAlone.data()), btn(t.tr("btn.cancel"), tapCancel.data())))
	t.show(question, kb...)
}

// remindClientTyped takes a client's name typed for a reminder waiting for its client.
func (t *turn) remindClientTyped(d *dialog, q string) {
	res, ok := t.search(q)
	switch {
	case !ok:
	case len(res) == 1:
		if c := t.editable(res[0].ClientID); c != nil {
			t.setReminder(d, d.due, d.text, c)
		}
	case len(res) == 0:
		t.askClient(t.tr("remind.no_client", "q", q), nil)
	default:
		t.askClient(t.tr("remind.which", "q", q), res)
	}
}

// The answers to askClient: rc:<client>, and ra for no client.
const (
	tapRemindClient tap = "rc"
	tapRemindAlone  tap = "ra"
)

// remindChosen sets the waiting reminder on the client tapped.
func (t *turn) remindChosen(id string, alone bool) {
	d := t.s.dialog
	if d == nil || d.kind != dialogRemind || d.due.IsZero() {
		t.notice(t.tr("dialog.over"))
		return
	}
	if alone {
		t.setReminder(d, d.due, d.alone, nil)
		return
	}
	// A client the manager may not change is refused with the reason; the dialog
	// stays, for another choice.
	if c := t.editable(id); c != nil {
		t.setReminder(d, d.due, d.text, c)
	}
}

// setReminder saves the reminder, about c when not nil, and ends the dialog.
func (t *turn) setReminder(d *dialog, due time.Time, text string, c *store.Client) {
	if !due.After(t.now) {
		// The question waited past the time: a new time is asked, the choice kept.
		d.due = time.Time{}
		if c != nil {
			d.clientID = c.ID
		}
		t.show(t.tr("when.past", "when", t.whenFull(due)))
		return
	}
	if text == "" {
		if c == nil {
			t.say(t.tr("remind.what"))
			return
		}
		text = t.tr("task.follow_up")
	}
	task := &store.Task{AssigneeID: t.m.ID, Due: due, TimeZone: t.loc.String(), Text: text, Source: "bot"}
	if c != nil {
		task.ClientID = c.ID
	}
	if err := t.st.CreateTask(t.ctx, t.m.ID, task); err != nil {
		t.fail("save reminder", err)
		return
	}
	t.s.dialog = nil
	msg := t.tr("task.set", "when", t.whenFull(due), "text", text)
	if c != nil {
		msg += "\n" + t.tr("task.about", "name", c.Name)
		t.show(msg, row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
		return
	}
	t.show(msg)
}

// leadingClients finds the clients named by the first one to three words of text,
// the most words first, by a whole name, its start or a word's start. It returns them
// with the words that named them and the rest of the text; none: the text as it is.
func (t *turn) leadingClients(text string) (found []store.Result, named, rest string) {
	words := strings.Fields(text)
	for n := min(3, len(words)); n >= 1; n-- {
		q := strings.Join(words[:n], " ")
		res, err := t.st.Search(t.ctx, t.viewer(), q, listPage+1)
		if err != nil {
			t.log.Warn("look for a reminder's client", "manager", t.m.ID, "err", err)
			return nil, "", text
		}
		for _, r := range res {
			if r.Match <= store.MatchWord {
				found = append(found, r)
			}
		}
		if len(found) > 0 {
			return found, q, strings.Join(words[n:], " ")
		}
	}
	return nil, "", text
}

// looksLikeName tells a text that starts as a client's name does ("Ромашка позвонить",
// "«Вектор» счёт") from a reminder's own words ("позвонить в банк").
func looksLikeName(text string) bool {
	r, _ := utf8.DecodeRuneInString(text)
	return unicode.IsUpper(r) || strings.ContainsRune("«\"“'", r)
}

// onDialogText passes typed text to the dialog in progress.
func (t *turn) onDialogText(text string) {
	d := t.s.dialog
	if text == "" {
		return
	}
	switch d.kind {
	case dialogCall:
		t.callText(d, text)
	case dialogNote:
		t.saveNote(d, text)
	case dialogReason:
		c := t.editable(d.clientID)
		if c == nil {
			t.s.dialog = nil
			return
		}
		t.moveStage(c, d.stage, store.Refusal{Reason: text})
	case dialogRemind:
		if !d.due.IsZero() {
			t.remindClientTyped(d, text)
			return
		}
		t.saveReminder(d, text)
	case dialogForm:
		t.formText(d.form, text)
	case dialogAttach:
		t.attachSearch(d, text)
	case dialogReport:
		t.reportDates(d, text)
	case dialogOrder, dialogPayment, dialogOrderCancel:
		t.orderText(d, text)
	default:
		t.s.dialog = nil
		t.find(text)
	}
}

const tapCancel tap = "x" // leaves any dialog

// onDialogTap handles the dialog buttons: skip a question, confirm, cancel, pick a kind.
func (t *turn) onDialogTap(verb tap, arg string) {
	d := t.s.dialog
	if verb == tapCancel {
		t.s.dialog = nil
		t.show(t.tr("dialog.cancelled"))
		return
	}
	if d == nil || d.kind != dialogForm {
		t.notice(t.tr("dialog.over"))
		return
	}
	t.formTap(d.form, verb, arg)
}
