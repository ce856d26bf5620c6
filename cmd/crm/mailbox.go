package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
)

// Mailbox settings: CRM_IMAP_HOST and friends for one mailbox; for several, list their
// names in CRM_IMAP_MAILBOXES (e.g. "sales,info") and give each its own
// CRM_IMAP_<NAME>_HOST, _USER, ... (CRM_IMAP_SALES_HOST); unset ones fall back to the
// CRM_IMAP_* value.

// unnamedMailbox names the one mailbox CRM_IMAP_HOST configures, in logs and errors.
const unnamedMailbox = "mailbox"

// mailAccounts reads the configured mailboxes.
func mailAccounts(get func(string) string) ([]mail.Account, error) {
	names := []string{""}
	if list := strings.TrimSpace(get("CRM_IMAP_MAILBOXES")); list != "" {
		names = nil
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	var out []mail.Account
	for _, n := range names {
		prefix := "CRM_IMAP_"
		if n != "" {
			prefix += strings.ToUpper(n) + "_"
		}
		opt := func(key string) string {
			if v := get(prefix + key); v != "" || n == "" {
				return v
			}
			return get("CRM_IMAP_" + key) // shared defaults, e.g. the security mode
		}
		host := strings.TrimSpace(get(prefix + "HOST"))
		if host == "" {
			if n != "" {
				return nil, fmt.Errorf("%sHOST is empty: mailbox %q is listed in CRM_IMAP_MAILBOXES", prefix, n)
			}
			continue
		}
		acc := mail.Account{Name: n, Host: host, Security: strings.ToLower(opt("SECURITY")), User: get(prefix + "USER"),
			Password: get(prefix + "PASSWORD"), MoveTo: opt("MOVE_TO")}
		if acc.Name == "" {
			acc.Name = unnamedMailbox
		}
		if acc.Security == "" {
			acc.Security = "tls"
		}
		switch acc.Security {
		case "tls", "starttls", "none":
		default:
			return nil, fmt.Errorf("%sSECURITY=%q: use tls, starttls or none", prefix, acc.Security)
		}
		if acc.User == "" {
			return nil, fmt.Errorf("%sUSER is empty: the mailbox needs a login", prefix)
		}
		if p := opt("PORT"); p != "" {
			port, err := strconv.Atoi(p)
			if err != nil || port < 1 || port > 65535 {
				return nil, fmt.Errorf("%sPORT=%q: use a port number", prefix, p)
			}
			acc.Port = port
		}
		acc.Folders = splitComma(opt("FOLDERS"))
		acc.SentFolders = splitComma(opt("SENT_FOLDERS"))
		if v := opt("POLL_INTERVAL"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return nil, fmt.Errorf("%sPOLL_INTERVAL=%q: use a duration such as 1m or 30s", prefix, v)
			}
			acc.PollInterval = d
		}
		if v := opt("MARK_SEEN"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%sMARK_SEEN=%q: use true or false", prefix, v)
			}
			acc.MarkSeen = b
		}
		out = append(out, acc)
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// letterNotices passes the mailbox's notices to the bot.
type letterNotices struct{ core *bot.Bot }

func (n letterNotices) LetterArrived(ctx context.Context, l mail.LetterNotice) error {
	return n.core.NotifyLetter(ctx, bot.LetterNotice{ManagerID: l.ManagerID, ClientID: l.ClientID, ClientName: l.ClientName,
		LetterID: l.LetterID, From: l.From, Subject: l.Subject, Preview: l.Preview})
}

func (n letterNotices) ReplyOverdue(ctx context.Context, a mail.ReplyAlert) error {
	return n.core.NotifyReplyOverdue(ctx, bot.ReplyAlert{ManagerID: a.To, Escalated: a.Escalated, ManagerName: a.ManagerName,
		ClientID: a.ClientID, ClientName: a.ClientName, LetterID: a.LetterID, From: a.From, Subject: a.Subject, ReceivedAt: a.ReceivedAt})
}

// startMail runs a poller per configured mailbox; each letter lands in its clients'
// timelines through one Ingester. Letters that arrive while the bot is not connected
// are stored, their managers are not told; reply-time alerts start once it is. It
// returns the mailboxes' check for /readyz.
func startMail(ctx context.Context, e *env, s *store.Store, core *bot.Bot, link *botLink) readyCheck {
	if len(e.cfg.Mailboxes) == 0 {
		e.log.Info("mailbox reading is off: set CRM_IMAP_HOST, CRM_IMAP_USER and CRM_IMAP_PASSWORD to read one")
		return off("set CRM_IMAP_HOST to read one")
	}
	opts := mail.IngestOptions{OwnDomains: e.cfg.OwnDomains, MaxAttachment: e.cfg.AttachmentLimit, Logger: e.log,
		ReplySLA: e.cfg.ReplySLA, Calendar: e.cfg.Calendar, Now: e.cfg.Now, Metrics: e.metrics}
	if core != nil {
		opts.Notifier = letterNotices{core}
		if e.cfg.ReplySLA > 0 {
			watch := mail.NewReplyWatch(s, letterNotices{core}, mail.ReplyWatchOptions{Logger: e.log, Now: e.cfg.Now})
			opts.ClocksStarted = watch.Wake
			go func() {
				// An alert is claimed before it is sent: sent through no bot, it would be lost.
				if link.waitUp(ctx) {
					watch.Run(ctx)
				}
			}()
		}
	}
	in := mail.NewIngester(s, opts)
	var mu sync.Mutex
	var stopped []string
	for _, acc := range e.cfg.Mailboxes {
		p := mail.NewPoller(acc, mail.StoreProgress{St: s}, in.Store, e.log.With("mailbox", acc.Name))
		p.SetMetrics(e.metrics)
		e.metrics.watchMailbox(acc.Name)
		go func() {
			if err := p.Run(ctx); err != nil {
				e.log.Error("mailbox reading stopped", "mailbox", acc.Name, "err", err)
				mu.Lock()
				stopped = append(stopped, strconv.Quote(acc.Name))
				mu.Unlock()
			}
		}()
		e.log.Info("reading mailbox", "mailbox", acc.Name, "host", acc.Host, "user", acc.User)
	}
	return func(context.Context) (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		if len(stopped) > 0 {
			return false, "not ready — reading " + strings.Join(stopped, ", ") + " stopped (crm's log says why)"
		}
		return true, fmt.Sprintf("ok (reading %d)", len(e.cfg.Mailboxes))
	}
}
