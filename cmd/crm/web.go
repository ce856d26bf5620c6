package main

import (
	"strings"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
	"github.com/crm-team/crm/web"
)

// newWeb builds the web workspace served under /app. Its sign-in links need
// CRM_PUBLIC_URL, its Mini App sign-in the bot's token; the links it returns for the
// bot's /web are nil without a public address.
func newWeb(e *env, s *store.Store) (*web.Handler, bot.WebLinks, error) {
	h, err := web.New(s, web.Options{Texts: templates.FS, PublicURL: e.cfg.PublicURL, BotToken: e.cfg.TelegramToken,
		Logger: e.log, Now: e.cfg.Now, Location: e.cfg.Calendar.Loc,
		// As crm manager invite names the bot (CRM_TELEGRAM_BOT_NAME), else "/start <code>".
		InviteLink: func(code string) string { l, _ := inviteLink(e, code, nil); return l }})
	if err != nil {
		return nil, nil, err
	}
	if e.cfg.PublicURL == "" {
		return h, nil, nil
	}
	return h, h, nil
}

// miniAppURL is the address the bot's menu button opens as a Mini App: Telegram
// opens only https ones.
func miniAppURL(cfg Config) string {
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		return cfg.PublicURL + web.Prefix + "/"
	}
	return ""
}
