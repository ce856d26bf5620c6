package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	netmail "net/mail"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
)

// newCampaigns builds the campaign side from the configuration. Without
// CRM_UNSUBSCRIBE_SECRET it can preview but not start a campaign (no unsubscribe
// links can be signed).
func newCampaigns(e *env, s *store.Store) (*campaign.Campaigns, error) {
	unsub, err := newUnsubscriber(e, s)
	if err != nil {
		return nil, err
	}
	cs := campaign.NewCampaigns(s, unsub, e.cfg.MailFrom, e.cfg.Calendar.Loc)
	cs.SetSenderName(e.cfg.SenderName)
	return cs, nil
}

// newUnsubscriber signs the letters' unsubscribe links and serves the page they
// open; nil without CRM_UNSUBSCRIBE_SECRET.
func newUnsubscriber(e *env, s *store.Store) (*campaign.Unsubscriber, error) {
	if e.cfg.UnsubscribeSecret == "" {
		return nil, nil
	}
	u, err := campaign.NewUnsubscriber(s, e.cfg.UnsubscribeSecret, e.cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("%w: check CRM_PUBLIC_URL and CRM_UNSUBSCRIBE_SECRET", err)
	}
	u.SetCompany(e.cfg.SenderName)
	return u, nil
}

// settingsHint adds to an error of package campaign, which says what failed, the
// settings that fix it.
func settingsHint(err error) error {
	if errors.Is(err, campaign.ErrNoLinks) {
		return fmt.Errorf("%w; set CRM_PUBLIC_URL and CRM_UNSUBSCRIBE_SECRET", err)
	}
	return err
}

// campaignSubs are the `crm campaign` subcommands, in the order the usage lists them.
var campaignSubs = []string{"create", "edit", "list", "preview", "test", "start", "pause", "resume", "status", "report", "delete", "archive"}

// campaignUsage is the usage of one `crm campaign` subcommand; "" for an unknown one.
// A campaign is named by its ID or its name.
func campaignUsage(sub string) string {
	switch sub {
	case "create":
		return `create --name N --subject S (--text T | --text-file F) [--html-file F] [--sender "Name <addr>"]
         [--schedule now|"2026-12-01 10:00"|"0 10 * * 1"] [--stage S]... [--city C]... [--industry I]...
         [--tag T]... [--manager NAME-or-ID]... [--has-orders yes|no] [--custom key=value]...
         [--segment-file segment.json] [--id ID-or-NAME] [--as "head or admin"]`
	case "edit":
		return `edit ID-or-NAME [--name N] [--subject S] [--text T | --text-file F] [--html-file F] [--sender "Name <addr>"]
         [--schedule ...] [the segment's flags, as create's] [--segment-file segment.json] [--as "head or admin"]
         (only the flags given change; a segment flag replaces that part, an empty value or --has-orders any clears it)`
	case "list":
		return "list [--all]"
	case "status":
		return "status ID-or-NAME"
	case "report":
		return "report ID-or-NAME [--format table|csv|xlsx] [-o FILE] [--comma ;] [--run N]"
	case "preview":
		return "preview ID-or-NAME [--client NAME-or-ID] [--contact CONTACT-ID]"
	case "test":
		return "test ID-or-NAME --to ADDRESS [--client NAME-or-ID] [--contact CONTACT-ID]"
	case "start", "pause", "resume", "delete", "archive":
		return sub + ` ID-or-NAME [--as "head or admin"]`
	}
	return ""
}

// campaignUsageError says what is wrong with a subcommand's arguments, and its usage.
func campaignUsageError(sub, format string, a ...any) error {
	return usageError{fmt.Errorf(format+"\nusage: crm campaign %s", append(a, campaignUsage(sub))...)}
}

// repeatedFlag collects every value of a flag given several times.
type repeatedFlag []string

func (f *repeatedFlag) String() string { return strings.Join(*f, ",") }

func (f *repeatedFlag) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// campaignFlags are the flags of every `crm campaign` subcommand; each registers its own.
type campaignFlags struct {
	id, name, subject, text, textFile, htmlFile, sender, schedule, hasOrders, segmentFile string
	stages, cities, industries, tags, managers, custom, classes                           repeatedFlag
	as, client, contact, to                                                               string
	format, out, comma                                                                    string
	run                                                                                   int
	all                                                                                   bool
	// given are the flags given on the command line: edit changes only those.
	given map[string]bool
}

func (f *campaignFlags) register(fs *flag.FlagSet, sub string) {
	switch sub {
	case "create", "edit":
		if sub == "create" {
			fs.StringVar(&f.id, "id", "", "replace this draft (ID or name) instead of creating a campaign")
		}
		fs.StringVar(&f.name, "name", "", "the campaign's name (unique)")
		fs.StringVar(&f.subject, "subject", "", "the subject (a template: {{.Contact.FirstName}}, {{.Client.Name}}...)")
		fs.StringVar(&f.text, "text", "", "the text part (a template)")
		fs.StringVar(&f.textFile, "text-file", "", "read the text part from this file")
		fs.StringVar(&f.htmlFile, "html-file", "", "read an HTML part from this file")
		fs.StringVar(&f.sender, "sender", "", `the From address, "Name <addr>" (default: CRM_SMTP_FROM)`)
		fs.StringVar(&f.schedule, "schedule", "", `now (default), a time "2026-12-01 10:00" (CRM_TIMEZONE) or RFC 3339, or a cron expression "0 10 * * 1" (recurring)`)
		fs.Var(&f.stages, "stage", fmt.Sprintf("funnel stage, one of %v or its Russian name (repeatable)", store.Stages))
		fs.Var(&f.cities, "city", "city (repeatable)")
		fs.Var(&f.industries, "industry", "industry (repeatable)")
		fs.Var(&f.tags, "tag", "tag (repeatable)")
		fs.Var(&f.managers, "manager", "responsible manager, name or ID (repeatable)")
		fs.StringVar(&f.hasOrders, "has-orders", "", "yes: clients with orders; no: without; any (edit): either")
		fs.Var(&f.classes, "class", "ABC/XYZ class: A, B, C, X, Y, Z or a pair such as AX (repeatable)")
		fs.Var(&f.custom, "custom", "custom field equals a value, key=value (repeatable)")
		fs.StringVar(&f.segmentFile, "segment-file", "", `the segment as JSON, e.g. {"any":[{"stages":["gold"]},{"cities":["Казань"]}]}`)
		fs.StringVar(&f.as, "as", "", "the head or admin the audit log names (default: cli)")
	case "preview", "test":
		fs.StringVar(&f.client, "client", "", "render for this client, name or ID (default: the segment's first recipient)")
		fs.StringVar(&f.contact, "contact", "", "render for this contact of --client (default: its first)")
		if sub == "test" {
			fs.StringVar(&f.to, "to", "", "the address the test letter goes to")
		}
	case "start", "pause", "resume", "delete", "archive":
		fs.StringVar(&f.as, "as", "", "the head or admin the audit log names (default: cli)")
	case "list":
		fs.BoolVar(&f.all, "all", false, "list archived campaigns too")
	case "report":
		fs.StringVar(&f.format, "format", "", "table (default), csv or xlsx (default for a -o ending in .xlsx: xlsx; in .csv: csv)")
		fs.StringVar(&f.out, "o", "", "write to this file instead of standard output (required for xlsx)")
		fs.StringVar(&f.comma, "comma", ";", "CSV's column separator: ';' opens in Excel with a Russian locale, ',' elsewhere")
		fs.IntVar(&f.run, "run", 0, "the run of a recurring campaign (default: the latest)")
	}
}

// parseInterleaved parses flags given before and after the positional arguments
// (`crm campaign preview ID --client X`), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// runCampaign is `crm campaign create|edit|list|preview|test|start|pause|resume|status|report|delete|archive`.
func runCampaign(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || campaignUsage(args[0]) == "" {
		say := "say what to do"
		if len(args) > 0 {
			say = fmt.Sprintf("unknown %q; use one of", args[0])
		}
		for _, sub := range campaignSubs {
			say += "\n  crm campaign " + campaignUsage(sub)
		}
		return usageError{errors.New(say)}
	}
	sub, args := args[0], args[1:]
	bad := func(format string, a ...any) error { return campaignUsageError(sub, format, a...) }
	fs := flag.NewFlagSet("campaign "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f campaignFlags
	f.register(fs, sub)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return bad("%v", err)
	}
	f.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.given[fl.Name] = true })
	var ref string // the campaign's ID or name
	switch {
	case sub == "create" || sub == "list":
		if len(pos) > 0 {
			return bad("unexpected %q", pos[0])
		}
	case len(pos) != 1:
		return bad("give one campaign's ID or name (crm campaign list shows them)")
	default:
		ref = pos[0]
	}
	if f.contact != "" && f.client == "" {
		return bad("--contact needs --client: contact IDs belong to a client")
	}
	var draft *store.Campaign
	var format reportFormat
	switch sub {
	case "create":
		if draft, err = f.draft(); err != nil {
			return err
		}
	case "edit":
		if err := f.checkEdit(); err != nil {
			return err
		}
	case "report":
		if format, err = f.reportFormat(); err != nil {
			return err
		}
	case "test":
		if _, err := netmail.ParseAddress(f.to); err != nil {
			return bad("--to %q: give the address the test letter goes to", f.to)
		}
		if e.cfg.SMTP == nil {
			return errors.New("a test letter needs an SMTP server: set CRM_SMTP_HOST (and CRM_SMTP_FROM)")
		}
	}

	s, closeStore, err := openMigrated(ctx, e, "crm campaign", true)
	if err != nil {
		return err
	}
	defer closeStore()
	cs, err := newCampaigns(e, s)
	if err != nil {
		return err
	}
	cc := &campaignCmd{e: e, s: s, cs: cs}
	switch sub {
	case "create":
		return cc.create(ctx, draft, &f)
	case "list":
		return cc.list(ctx, f.all)
	}
	c, err := cc.campaign(ctx, ref)
	if err != nil {
		return err
	}
	switch sub {
	case "status":
		return cc.status(ctx, c.ID)
	case "report":
		return cc.report(ctx, c, &f, format)
	case "edit":
		return cc.edit(ctx, c, &f)
	case "delete", "archive":
		return cc.putAway(ctx, sub, c, f.as)
	case "preview":
		return cc.preview(ctx, c, &f)
	case "test":
		return cc.test(ctx, c, &f)
	default:
		return cc.move(ctx, sub, c, f.as)
	}
}

// campaignCmd runs the `crm campaign` subcommands on an open store.
type campaignCmd struct {
	e  *env
	s  *store.Store
	cs *campaign.Campaigns
}

// campaign finds a campaign by its ID or its name.
func (cc *campaignCmd) campaign(ctx context.Context, ref string) (*store.Campaign, error) {
	c, err := cc.s.FindCampaign(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no campaign %q (crm campaign list shows them; --all with the archived ones)", ref)
	}
	return c, err
}

// actor is who the audit log names: a head or an admin given by --as, else "cli".
func (cc *campaignCmd) actor(ctx context.Context, as string) (string, error) {
	if strings.TrimSpace(as) == "" {
		return "cli", nil
	}
	m, err := findManager(ctx, cc.s, as)
	if errors.Is(err, errNoTeam) {
		return "", fmt.Errorf("--as %q: the team is empty (add people with crm manager add)", as)
	}
	if err != nil {
		return "", fmt.Errorf("--as: %w", err)
	}
	if !m.Role.SeesAll() {
		return "", fmt.Errorf("--as: %s is a %s; campaigns are created and started by heads and admins", m.Name, m.Role)
	}
	return m.ID, nil
}

// resolveManagers turns the managers a segment names (by name or ID), also in its
// alternatives, into IDs, which is what clients store.
func (cc *campaignCmd) resolveManagers(ctx context.Context, seg *store.Segment) error {
	for i, who := range seg.Managers {
		m, err := findManager(ctx, cc.s, who)
		if errors.Is(err, errNoTeam) {
			return fmt.Errorf("manager %q: the team is empty", who)
		}
		if err != nil {
			return err
		}
		seg.Managers[i] = m.ID
	}
	for i := range seg.Any {
		if err := cc.resolveManagers(ctx, &seg.Any[i]); err != nil {
			return err
		}
	}
	return nil
}

func (cc *campaignCmd) when(t time.Time) string {
	return t.In(cc.e.cfg.Calendar.Loc).Format("2006-01-02 15:04 MST")
}

func (cc *campaignCmd) create(ctx context.Context, c *store.Campaign, f *campaignFlags) error {
	actor, err := cc.actor(ctx, f.as)
	if err != nil {
		return err
	}
	if err := cc.resolveManagers(ctx, &c.Segment); err != nil {
		return err
	}
	if _, _, err := cc.cs.ReadSchedule(c.Schedule); err != nil {
		return err
	}
	if f.id != "" {
		// Replacing is for drafts only: a started campaign's queued letters were
		// checked against what it says now.
		old, err := cc.campaign(ctx, f.id)
		if err != nil {
			return err
		}
		if !old.IsDraft() {
			return fmt.Errorf("campaign %q is %s; only a draft can be changed", old.Name, old.State)
		}
		c.ID, c.Run, c.CreatedAt, c.CreatedBy = old.ID, old.Run, old.CreatedAt, old.CreatedBy
		// A start between the read and the write must win: the write is conditional.
		if err := cc.s.ReplaceDraft(ctx, actor, c); err != nil {
			return err
		}
	} else if err := cc.s.SaveCampaign(ctx, actor, c); err != nil {
		return err
	}
	fmt.Fprintf(cc.e.stdout, "draft %q saved, id %s\n", c.Name, c.ID)
	return cc.checkDraft(ctx, c)
}

// checkDraft says when a saved draft goes out, renders it for every recipient, and
// says how many there are and what is left to do, or the first problem.
func (cc *campaignCmd) checkDraft(ctx context.Context, c *store.Campaign) error {
	first, recurring, err := cc.cs.ReadSchedule(c.Schedule)
	if err != nil {
		return err
	}
	out := cc.e.stdout
	switch {
	case first == nil:
		fmt.Fprintln(out, "schedule: sent as soon as it is started")
	case recurring:
		fmt.Fprintf(out, "schedule: first run %s, then again by %q\n", cc.when(*first), c.Schedule)
	default:
		fmt.Fprintf(out, "schedule: %s\n", cc.when(*first))
	}
	rv, err := cc.cs.Review(ctx, c)
	if err != nil {
		return fmt.Errorf("%w (the draft is kept: correct it with crm campaign edit %s and the flags to change)", err, c.ID)
	}
	n := rv.Recipients
	fmt.Fprintf(out, "recipients now: %d\n", n)
	warnEmptyFields(out, rv)
	switch {
	case n == 0:
		fmt.Fprintln(out, "nobody to send to yet: no client in the segment has a contact who consented to mailings and has a working address")
	case cc.e.cfg.UnsubscribeSecret == "":
		fmt.Fprintf(out, "almost ready: set CRM_PUBLIC_URL and CRM_UNSUBSCRIBE_SECRET (letters carry unsubscribe links), then crm campaign start %s\n", c.ID)
	default:
		fmt.Fprintf(out, "ready: crm campaign start %s\n", c.ID)
	}
	return nil
}

// warnEmptyFields names the fields the template prints that some letters would have
// empty ("Здравствуйте, !"), with one of their recipients to look at.
func warnEmptyFields(w io.Writer, rv campaign.Review) {
	for _, f := range rv.Empty {
		fmt.Fprintf(w, "warning: %s is empty in %d of %d letters, e.g. to %s\n", f.Field, f.N, rv.Recipients, f.Example)
	}
}

// list shows the campaigns, the archived ones only with all, and their current run's
// letters by outcome, as status and the report count them.
func (cc *campaignCmd) list(ctx context.Context, all bool) error {
	list, err := cc.s.Campaigns(ctx)
	if err != nil {
		return err
	}
	archived := 0
	if !all {
		list = slices.DeleteFunc(list, func(c store.Campaign) bool {
			if c.IsArchived() {
				archived++
			}
			return c.IsArchived()
		})
	}
	if len(list) == 0 && archived == 0 {
		fmt.Fprintln(cc.e.stdout, "no campaigns yet: crm campaign create --name ... (crm campaign create -h)")
		return nil
	}
	w := tabwriter.NewWriter(cc.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATE\tSCHEDULE\tRUN\tSENT\tFAILED\tDEFERRED\tCUT\tSKIPPED\tWAITING")
	for _, c := range list {
		counts := strings.Repeat("\t-", 6)
		if c.Run > 0 {
			st, err := cc.cs.Status(ctx, c.ID)
			if err != nil {
				return err
			}
			t := st.Tally()
			counts = fmt.Sprintf("\t%d\t%d\t%d\t%d\t%d\t%d", t.Sent, t.Failed, t.Deferred, t.Cut, t.Skipped, t.Queued+t.Sending)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d%s\n", c.ID, c.Name, cc.state(&c), orNow(c.Schedule), c.Run, counts)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if archived > 0 {
		fmt.Fprintf(cc.e.stdout, "%d archived not shown: crm campaign list --all\n", archived)
	}
	return nil
}

func orNow(schedule string) string {
	if schedule == "" {
		return "now"
	}
	return schedule
}

// state is a campaign's state with when a scheduled one runs next (a paused one runs
// when resumed, or later if its time has not come).
func (cc *campaignCmd) state(c *store.Campaign) string {
	if c.RunAt != nil && c.State == store.CampaignScheduled {
		return fmt.Sprintf("%s (next run %s)", c.State, cc.when(*c.RunAt))
	}
	if c.IsArchived() {
		return string(c.State) + ", archived"
	}
	return string(c.State)
}

// errFirstRecipient stops the segment's reading at its first recipient.
var errFirstRecipient = errors.New("first recipient found")

// recipient picks whom a preview or test letter is rendered for: the client (and
// contact) asked for, else the segment's first recipient. It returns the client's ID,
// the contact's ID ("" for the client's first) and who that is, for the output.
func (cc *campaignCmd) recipient(ctx context.Context, c *store.Campaign, client, contact string) (string, string, error) {
	if client != "" {
		cl, err := cc.findClient(ctx, client)
		if err != nil {
			return "", "", err
		}
		return cl.ID, contact, nil
	}
	var first campaign.Recipient
	err := campaign.EachRecipient(ctx, cc.s, c.Segment, func(r campaign.Recipient) error {
		first = r
		return errFirstRecipient
	})
	if err != nil && !errors.Is(err, errFirstRecipient) {
		return "", "", err
	}
	if first.Client == nil {
		return "", "", errors.New("nobody in the segment would get this campaign; name a client with --client to see the letter anyway")
	}
	return first.Client.ID, first.Contact.ID, nil
}

// findClient finds a client by ID, else by name: an exact name, or the only match.
func (cc *campaignCmd) findClient(ctx context.Context, who string) (*store.Client, error) {
	cl, err := cc.s.Client(ctx, who)
	if !errors.Is(err, store.ErrNotFound) {
		return cl, err
	}
	if err := cc.s.Directory().Sync(ctx); err != nil { // a command: the names as they are now
		return nil, err
	}
	found, err := cc.s.Search(ctx, store.Viewer{Role: store.RoleAdmin}, who, 6)
	if err != nil {
		return nil, err
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("no client %q", who)
	case len(found) == 1 || found[0].Match <= store.MatchExact && found[1].Match > store.MatchExact:
		return cc.s.Client(ctx, found[0].ClientID)
	}
	var names []string
	for _, r := range found {
		names = append(names, fmt.Sprintf("%s (%s)", r.Name, r.ClientID))
	}
	return nil, fmt.Errorf("%q matches several clients: %s; give the ID", who, strings.Join(names, ", "))
}

func (cc *campaignCmd) preview(ctx context.Context, c *store.Campaign, f *campaignFlags) error {
	clientID, contactID, err := cc.recipient(ctx, c, f.client, f.contact)
	if err != nil {
		return err
	}
	letter, r, err := cc.cs.Preview(ctx, c, clientID, contactID)
	if err != nil {
		return err
	}
	from := c.Sender
	if from == "" {
		from = cc.e.cfg.MailFrom
	}
	if from == "" {
		from = "(not set: CRM_SMTP_FROM or --sender)"
	}
	to := fmt.Sprintf("%s <%s>", r.Contact.Name, r.Email)
	if r.Email == "" {
		to = r.Contact.Name + " (no e-mail)"
	}
	out := cc.e.stdout
	fmt.Fprintf(out, "From: %s\nTo: %s (%s)\nSubject: %s\n", from, to, r.Client.Name, letter.Subject)
	if _, why := store.MailableEmail(r.Contact); why != "" {
		fmt.Fprintf(out, "(this contact gets no mailings: %s; the letter is shown anyway)\n", why)
	}
	if cc.e.cfg.UnsubscribeSecret == "" {
		fmt.Fprintln(out, "(no unsubscribe link until CRM_PUBLIC_URL and CRM_UNSUBSCRIBE_SECRET are set)")
	}
	fmt.Fprintf(out, "\n%s\n", strings.TrimRight(letter.Text, "\n"))
	if letter.HTML != "" {
		fmt.Fprintf(out, "\n--- HTML part ---\n%s\n", strings.TrimRight(letter.HTML, "\n"))
	}
	return nil
}

func (cc *campaignCmd) test(ctx context.Context, c *store.Campaign, f *campaignFlags) error {
	clientID, contactID, err := cc.recipient(ctx, c, f.client, f.contact)
	if err != nil {
		return err
	}
	pool, err := mail.NewSMTP(*cc.e.cfg.SMTP)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := cc.cs.Test(ctx, pool, c, clientID, contactID, f.to); err != nil {
		return err
	}
	fmt.Fprintf(cc.e.stdout, "test letter of %q sent to %s\n", c.Name, f.to)
	return nil
}

// move starts, pauses or resumes a campaign.
func (cc *campaignCmd) move(ctx context.Context, sub string, c *store.Campaign, as string) error {
	actor, err := cc.actor(ctx, as)
	if err != nil {
		return err
	}
	n, name, done := 0, c.Name, ""
	switch sub {
	case "start":
		c, n, err = cc.cs.Start(ctx, actor, c.ID)
		err = settingsHint(err)
		done = "started"
	case "pause":
		c, err = cc.cs.Pause(ctx, actor, c.ID)
		done = "paused"
	case "resume":
		c, err = cc.cs.Resume(ctx, actor, c.ID)
		done = "resumed"
	}
	if err != nil {
		return fmt.Errorf("campaign %q not %s: %w", name, done, err)
	}
	out := cc.e.stdout
	fmt.Fprintf(out, "campaign %q: %s\n", c.Name, cc.state(c))
	switch {
	case sub == "start" && c.State == store.CampaignScheduled:
		fmt.Fprintf(out, "recipients: %d now (the segment is read again when the run begins)\n", n)
	case sub == "start":
		fmt.Fprintln(out, "its letters are rendered and queued batch by batch, and each batch goes out as soon as it is queued")
	}
	if c.State != store.CampaignPaused {
		hint := "crm serve sends it"
		if cc.e.cfg.SMTP == nil {
			hint += " where CRM_SMTP_HOST is set"
		}
		fmt.Fprintln(out, hint+"; crm campaign status "+c.ID+" shows how far it got")
	}
	return nil
}

func (cc *campaignCmd) status(ctx context.Context, id string) error {
	if _, err := cc.campaign(ctx, id); err != nil {
		return err
	}
	st, err := cc.cs.Status(ctx, id)
	if err != nil {
		return err
	}
	c, out := st.Campaign, cc.e.stdout
	fmt.Fprintf(out, "campaign: %s (%s)\nstate: %s\nschedule: %s\n", c.Name, c.ID, cc.state(c), orNow(c.Schedule))
	if c.State == store.CampaignPaused {
		fmt.Fprintf(out, "paused: %s\n", cc.pauseReason(ctx, c.PauseReason))
		if _, refused := campaign.RefusedReply(c.PauseReason); refused {
			fmt.Fprintf(out, "once the server accepts letters again: crm campaign resume %s (the failed ones stay failed)\n", c.ID)
		}
		if c.ResumeAt != nil {
			fmt.Fprintf(out, "resumes by itself at %s\n", cc.when(*c.ResumeAt))
		}
		if c.RunAt != nil {
			fmt.Fprintf(out, "next run: %s, once resumed\n", cc.when(*c.RunAt))
		}
	}
	if c.Run == 0 {
		fmt.Fprintln(out, "not run yet")
		return nil
	}
	over, n, t := st.RunOver(), st.Counts, st.Tally()
	queued := fmt.Sprintf("%d", n.Total())
	if !c.Prepared && !over {
		queued += " so far (the segment is still being read)"
	}
	fmt.Fprintf(out, "run: %d\nrecipients queued: %s\nsent: %d\nfailed: %d\n", c.Run, queued, n.Sent, n.Failed)
	shown := 0
	for _, r := range st.Replies {
		fmt.Fprintf(out, "  %d × %s\n", r.N, r.Reply)
		shown += r.N
	}
	if shown > 0 && shown < n.Failed {
		fmt.Fprintf(out, "  %d × other replies\n", n.Failed-shown)
	}
	fmt.Fprintf(out, "deferred (retrying): %d\nqueued (waiting): %d\n", n.Deferred, n.Queued)
	if t.Skipped > 0 {
		var why []string
		if st.Excluded > 0 {
			why = append(why, fmt.Sprintf("%d got no letter from the start: no consent, unsubscribed, bounced or no e-mail", st.Excluded))
		}
		if n.Skipped > 0 {
			why = append(why, fmt.Sprintf("%d unsubscribed, bounced or were removed after the start, or their letter did not render", n.Skipped))
		}
		fmt.Fprintf(out, "skipped: %d (%s)\n", t.Skipped, strings.Join(why, "; "))
		for _, r := range st.Skips {
			fmt.Fprintf(out, "  %d × %s\n", r.N, r.Reply)
		}
	}
	switch {
	case t.Cut > 0:
		fmt.Fprintf(out, "cut: %d (the connection broke during sending; they may have arrived and are not sent again)\n", t.Cut)
	case t.Sending > 0:
		fmt.Fprintf(out, "sending now: %d\n", t.Sending)
	}
	if c.State == store.CampaignFinishing {
		fmt.Fprintf(out, "history lines written: %d of %d\n", st.Lines, n.Sent)
	}
	fmt.Fprintf(out, "who got what: crm campaign report %s\n", c.ID)
	return nil
}

// pauseReason names the manager who paused a campaign instead of their ID.
func (cc *campaignCmd) pauseReason(ctx context.Context, reason string) string {
	if id, ok := strings.CutPrefix(reason, "paused by "); ok {
		if m, err := cc.s.Manager(ctx, id); err == nil {
			return "paused by " + m.Name
		}
	}
	return reason
}
