package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/terminal"
	"github.com/crm-team/crm/invoice"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// runChat is `crm chat --as <manager>`: the bot's conversation in the terminal.
func runChat(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	as := fs.String("as", "", "the manager to chat as (name or ID); on an empty team, the first admin is created with this name")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if strings.TrimSpace(*as) == "" || fs.NArg() > 0 {
		return usageError{fmt.Errorf("say who you are: crm chat --as \"Anna Petrova\"")}
	}
	s, closeStore, err := openMigrated(ctx, e, "crm chat", true)
	if err != nil {
		return err
	}
	defer closeStore()
	m, err := findManager(ctx, s, *as)
	if errors.Is(err, errNoTeam) {
		// A fresh base: the newcomer becomes its first admin, so that one command
		// is enough to try the bot.
		m = &store.Manager{Name: strings.TrimSpace(*as), Role: store.RoleAdmin}
		if err := s.CreateManager(ctx, "crm chat", m); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "The team was empty: %s is its first admin now.\n", m.Name)
	} else if err != nil {
		return err
	}
	// One person at a terminal: names are searchable from the first line typed.
	if err := s.Directory().Sync(ctx); err != nil {
		return err
	}
	campaigns, err := chatCampaigns(e, s)
	if err != nil {
		return err
	}
	core, err := bot.New(s, bot.Options{Texts: templates.FS, Logger: e.log, Calendar: e.cfg.Calendar, Now: e.cfg.Now, Reports: chatReports{s, e.cfg.Now},
		Campaigns: campaigns, Invoices: invoice.Maker{Store: s, Location: e.cfg.Calendar.Loc}})
	if err != nil {
		return err
	}
	return terminal.Run(ctx, core, m, e.stdin, e.stdout)
}

var errNoTeam = errors.New("the team is empty")

// findManager finds an active manager by ID or by name (case does not matter).
func findManager(ctx context.Context, s *store.Store, who string) (*store.Manager, error) {
	who = strings.TrimSpace(who)
	team, err := s.Managers(ctx)
	if err != nil {
		return nil, err
	}
	if len(team) == 0 {
		return nil, errNoTeam
	}
	var names []string
	for i := range team {
		m := &team[i]
		if m.ID == who || strings.EqualFold(m.Name, who) {
			if !m.Active {
				return nil, fmt.Errorf("%s is deactivated", m.Name)
			}
			return m, nil
		}
		names = append(names, m.Name)
	}
	return nil, fmt.Errorf("no manager %q; the team: %s (add one with crm manager add)", who, strings.Join(names, ", "))
}

// runManager is `crm manager add|list|invite|set`.
func runManager(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("crm manager add|list|invite|set (see crm manager <sub> -h)")}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("manager "+sub, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	name := fs.String("name", "", "the person's name (set: whom to change, or give it before the flags)")
	role := fs.String("role", "manager", "manager, head or admin")
	switch sub {
	case "add", "list", "invite", "set":
	default:
		return usageError{fmt.Errorf("unknown %q: use add, list, invite or set", sub)}
	}
	tg := fs.Int64("telegram-id", 0, "add: their Telegram user ID (an invite fills it by itself)")
	tz := fs.String("tz", "", "add: time zone (default CRM_TIMEZONE)")
	lang := fs.String("lang", "ru", "add: language, ru or en")
	ttl := fs.Duration("ttl", 72*time.Hour, "invite: how long the link works")
	head := fs.String("head", "", "add, set: the head (name or ID) their unanswered letters escalate to; set: none for every head")
	email := fs.String("email", "", "add, set: their e-mail address, so that their answers from the mailbox are known as theirs")
	if sub == "set" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		*name, args = args[0], args[1:] // crm manager set "Иван" --head "Ольга"
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if sub == "set" && (strings.TrimSpace(*name) == "" || (*head == "" && *email == "")) {
		return usageError{fmt.Errorf(`say whom and what: crm manager set "Иван Петров" --head "Ольга" (or --head none) [--email ivan@company.ru]`)}
	}
	s, closeStore, err := openMigrated(ctx, e, "crm manager", true)
	if err != nil {
		return err
	}
	defer closeStore()
	switch sub {
	case "add":
		m := &store.Manager{Name: *name, Role: store.Role(*role), TelegramID: *tg, TimeZone: *tz, Language: *lang}
		if err := s.CreateManager(ctx, "cli", m); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added %s (%s), id %s\n", m.Name, m.Role, m.ID)
		if *head != "" || *email != "" {
			return setManager(ctx, e, s, m, *head, *email)
		}
	case "list":
		team, err := s.Managers(ctx)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, m := range team {
			names[m.ID] = m.Name
		}
		dash := func(v string) string { return cmp.Or(v, "-") }
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tTELEGRAM\tTIME ZONE\tACTIVE\tE-MAIL\tHEAD")
		for _, m := range team {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%v\t%s\t%s\n", m.ID, m.Name, m.Role, m.TelegramID, m.TimeZone, m.Active,
				dash(m.Email), dash(names[m.HeadID]))
		}
		return w.Flush()
	case "invite":
		inv, err := s.CreateInvite(ctx, "cli", store.Role(*role), *name, *ttl)
		if err != nil {
			return err
		}
		var ask func() (string, error)
		if e.cfg.TelegramToken != "" {
			ask = func() (string, error) { return telegramUsername(ctx, e) }
		}
		link, err := inviteLink(e, inv.ID, ask)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(link, "https://") {
			link += "\n(set CRM_TELEGRAM_BOT_NAME or CRM_TELEGRAM_TOKEN to get a link; until then the person sends the line above to the bot)"
		}
		fmt.Fprintf(e.stdout, "Invitation for a %s, works once until %s:\n%s\n", inv.Role, inv.ExpiresAt.Local().Format("2006-01-02 15:04"), link)
	case "set":
		m, err := findManager(ctx, s, *name)
		if err != nil {
			return err
		}
		return setManager(ctx, e, s, m, *head, *email)
	}
	return nil
}

// setManager gives a manager their head ("none": no head of their own) and e-mail
// address, each when asked.
func setManager(ctx context.Context, e *env, s *store.Store, m *store.Manager, head, email string) error {
	if email != "" {
		var err error
		if m, err = s.UpdateManager(ctx, "cli", m.ID, map[string]any{"email": email}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s's e-mail: %s\n", m.Name, m.Email)
	}
	switch head {
	case "":
	case "none":
		if _, err := s.SetManagerHead(ctx, "cli", m.ID, ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s has no head of their own: unanswered letters go to every head\n", m.Name)
	default:
		h, err := findManager(ctx, s, head)
		if err != nil {
			return err
		}
		if _, err := s.SetManagerHead(ctx, "cli", m.ID, h.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s's head: %s (their unanswered letters go to %s)\n", m.Name, h.Name, h.Name)
	}
	return nil
}

// inviteLink makes the deep link https://t.me/<bot>?start=<code>, for crm manager
// invite and the chat's /invite alike: the bot's username is CRM_TELEGRAM_BOT_NAME,
// else what ask learns from Telegram (nil: nothing to ask). Without a name it is the
// bare command, which the person sends to the bot.
func inviteLink(e *env, code string, ask func() (string, error)) (string, error) {
	name := strings.TrimPrefix(strings.TrimSpace(e.cfg.TelegramBotName), "@")
	if name == "" && ask != nil {
		var err error
		if name, err = ask(); err != nil {
			return "", fmt.Errorf("ask Telegram for the bot's name (or set CRM_TELEGRAM_BOT_NAME): %w", err)
		}
	}
	if name == "" {
		return "/start " + code, nil
	}
	return "https://t.me/" + name + "?start=" + code, nil
}
