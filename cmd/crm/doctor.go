package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/embedded"
)

// runDoctor checks what the CRM depends on and says in plain words what is wrong and
// how to fix it.
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
		missing, err := s.MissingCollections(dbCtx)
		switch {
		case err != nil:
			report(false, "schema", err.Error())
		case len(missing) == len(store.Collections()):
			report(false, "schema", "a new, empty database: run `crm migrate` (crm serve does it at start)")
		case len(missing) > 0:
			report(false, "schema", fmt.Sprintf("collections %v are missing: run `crm migrate` (crm serve does it at start)", missing))
		default:
			if ix, err := s.MissingIndexes(dbCtx); err != nil {
				report(false, "schema", err.Error())
			} else if len(ix) > 0 {
				report(false, "schema", fmt.Sprintf("indexes %v are missing: run `crm migrate`", ix))
			} else {
				report(true, "schema", "every collection and index exists")
			}
		}
		if e.cfg.MongoURI != "" {
			if set, err := s.ReplicaSet(dbCtx); err != nil {
				report(false, "replica set", err.Error())
			} else if set == "" {
				report(false, "replica set", "MongoDB runs standalone: run it as a replica set (one node is enough: mongod --replSet rs0, then rs.initiate() once), which crm backup's snapshot and several instances need")
			} else {
				report(true, "replica set", set)
			}
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
	if e.cfg.SMTP == nil {
		report(true, "SMTP", "not configured (CRM_SMTP_HOST is empty): no greetings or mailings are sent")
	} else {
		checkSMTP(ctx, e, report)
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

// checkSMTP logs in to the SMTP server as sending does and sends nothing; mailings
// also need the address of the unsubscribe links and the secret that signs them.
func checkSMTP(ctx context.Context, e *env, report func(ok bool, what, detail string)) {
	c := e.cfg.SMTP
	pool, err := mail.NewSMTP(*c)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = pool.Check(sctx)
		cancel()
		_ = pool.Close()
	}
	who := c.Host
	if c.User != "" {
		who = c.User + " on " + c.Host
	}
	if err != nil {
		report(false, "SMTP", fmt.Sprintf("%s: %v (check CRM_SMTP_HOST, CRM_SMTP_PORT, CRM_SMTP_SECURITY=%s, CRM_SMTP_USER and CRM_SMTP_PASSWORD)", who, err, c.Security))
	} else {
		login := "connected"
		if c.User != "" {
			login = "connected and logged in"
		}
		report(true, "SMTP", fmt.Sprintf("%s (%s): %s; nothing sent", who, c.Security, login))
	}
	var lack []string
	if e.cfg.PublicURL == "" {
		lack = append(lack, "CRM_PUBLIC_URL (the address recipients reach this server at)")
	}
	if e.cfg.UnsubscribeSecret == "" {
		lack = append(lack, "CRM_UNSUBSCRIBE_SECRET (16 or more random characters, kept)")
	}
	if len(lack) > 0 {
		report(false, "unsubscribe links", "mailings and greetings carry a one-click unsubscribe link: set "+strings.Join(lack, " and "))
	} else {
		report(true, "unsubscribe links", e.cfg.PublicURL+"/unsubscribe/…, signed")
	}
}
