package main

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
	"github.com/crm-team/crm/web"
)

// newWeb builds the web workspace served under /app. Its sign-in links need
// CRM_PUBLIC_URL, its Mini App sign-in the bot's token; the links it returns for the
// bot's /web are nil without a public address.
//
// Its mailings pages run campaigns through package campaign, as the CLI and the bot
// do; their test letters go through an SMTP pool of their own (nil without
// CRM_SMTP_HOST), which close closes.
func newWeb(e *env, s *store.Store, given web.GivenNotifier) (h *web.Handler, links bot.WebLinks, close func(), err error) {
	cs, err := newCampaigns(e, s)
	if err != nil {
		return nil, nil, nil, err
	}
	opts := web.Options{Texts: templates.FS, PublicURL: e.cfg.PublicURL, BotToken: e.cfg.TelegramToken,
		Logger: e.log, Now: e.cfg.Now, Location: e.cfg.Calendar.Loc, Campaigns: cs, Given: given,
		// As crm manager invite names the bot (CRM_TELEGRAM_BOT_NAME), else "/start <code>".
		InviteLink: func(code string) string { l, _ := inviteLink(e, code, nil); return l }}
	close = func() {}
	if e.cfg.SMTP != nil {
		pool, err := mail.NewSMTP(*e.cfg.SMTP)
		if err != nil {
			return nil, nil, nil, err
		}
		opts.Mailer, close = pool, func() { pool.Close() }
	}
	if h, err = web.New(s, opts); err != nil {
		close()
		return nil, nil, nil, err
	}
	if e.cfg.PublicURL == "" {
		return h, nil, close, nil
	}
	return h, h, close, nil
}

// miniAppURL is the address the bot's menu button opens as a Mini App: Telegram
// opens only https ones.
func miniAppURL(cfg Config) string {
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		return cfg.PublicURL + web.Prefix + "/"
	}
	return ""
}

// botGiven passes the web's "clients given" notices to the bot's core, made after
// the web workspace (which the bot links to); without a bot nobody is told.
type botGiven struct{ core atomic.Pointer[bot.Bot] }

func (g *botGiven) NotifyClientGiven(ctx context.Context, by, managerID, clientID, clientName string) error {
	if b := g.core.Load(); b != nil {
		return b.NotifyClientGiven(ctx, by, managerID, clientID, clientName)
	}
	return nil
}

func (g *botGiven) NotifyClientsGiven(ctx context.Context, by, managerID, from string, clients, tasks int) error {
	if b := g.core.Load(); b != nil {
		return b.NotifyClientsGiven(ctx, by, managerID, from, clients, tasks)
	}
	return nil
}
