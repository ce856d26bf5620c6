package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store/embedded"
)

// runDoctor checks what the CRM depends on and says in plain words what is wrong and
// how to fix it. The SMTP check comes with the mailings.
func runDoctor(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("doctor takes no arguments")}
	}
	failed := 0
	report := func(ok bool, what, detail string) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(e.stdout, "[%s] %s", mark, what)
		if detail != "" {
			fmt.Fprintf(e.stdout, ": %s", detail)
		}
		fmt.Fprintln(e.stdout)
	}

	report(true, "configuration", "read from the environment"+map[bool]string{true: " and " + e.getenv("CRM_CONFIG"), false: ""}[e.getenv("CRM_CONFIG") != ""])
	if e.cfg.MongoURI == "" {
		if o, err := embedded.ReadOwner(e.cfg.DataDir); err == nil {
			report(true, "embedded database", fmt.Sprintf("run by %q (pid %d) on %s; this check uses it", o.Command, o.PID, e.cfg.DataDir))
		} else {
			report(true, "embedded database", "not running; this check starts it on "+e.cfg.DataDir)
		}
	}
	dbCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, closeStore, err := openStore(dbCtx, e.cfg, e.log, "crm doctor", true)
	if err != nil {
		report(false, "database", err.Error()) // openStore's errors say what to check
	} else {
		defer closeStore()
		start := time.Now()
		if err := s.Ping(dbCtx); err != nil {
			report(false, "database", hint(err, databaseHint(e.cfg)).Error())
		} else {
			report(true, "database", fmt.Sprintf("answers in %v (%s, database %q)", time.Since(start).Round(time.Microsecond), describeDB(e.cfg), e.cfg.Database))
		}
		if missing, err := s.MissingCollections(dbCtx); err != nil {
			report(false, "schema", err.Error())
		} else if len(missing) > 0 {
			report(false, "schema", fmt.Sprintf("collections %v are missing: run `crm migrate` (crm serve does it at start)", missing))
		} else {
			report(true, "schema", "every collection exists")
		}
	}
	if len(e.cfg.Mailboxes) == 0 {
		report(true, "mailbox", "not configured (CRM_IMAP_HOST is empty): letters are not read")
	}
	for _, acc := range e.cfg.Mailboxes {
		label := "mailbox"
		if acc.Name != unnamedMailbox {
			label = fmt.Sprintf("mailbox %q", acc.Name)
		}
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		folders, err := mail.Check(mctx, acc)
		cancel()
		if err != nil {
			// The label names the mailbox; the error's "imap <name>: " is for the logs.
			report(false, label, strings.TrimPrefix(err.Error(), "imap "+acc.Name+": "))
		} else {
			report(true, label, fmt.Sprintf("%s on %s: logged in; reads %s", acc.User, acc.Host, strings.Join(folders, ", ")))
		}
	}
	if e.cfg.TelegramToken == "" {
		report(true, "Telegram", "not configured (CRM_TELEGRAM_TOKEN is empty): the bot is off")
	} else if name, err := telegramUsername(ctx, e); err != nil {
		report(false, "Telegram", fmt.Sprintf("%v (check CRM_TELEGRAM_TOKEN from @BotFather and that %s is reachable)", err, e.cfg.TelegramAPIURL))
	} else {
		report(true, "Telegram", "the token works: @"+name)
	}

	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	fmt.Fprintln(e.stdout, "all checks passed")
	return nil
}
