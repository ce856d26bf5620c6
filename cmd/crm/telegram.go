package main

import (
	"context"
	"net/http"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

func newTelegram(e *env) (*telegram.Transport, error) {
	return telegram.New(e.cfg.TelegramToken, telegram.Options{
		APIURL:        e.cfg.TelegramAPIURL,
		Logger:        e.log,
		WebhookURL:    e.cfg.TelegramWebhookURL,
		WebhookSecret: e.cfg.TelegramWebhookSecret,
	})
}

// telegramUsername asks Telegram for the bot's @username (getMe).
func telegramUsername(ctx context.Context, e *env) (string, error) {
	tr, err := newTelegram(e)
	if err != nil {
		return "", err
	}
	return tr.Username(), nil
}

// startBot runs the Telegram bot when a token is set; with a webhook it mounts the
// webhook handler on mux. It returns the running core, or nil when the bot is off.
func startBot(ctx context.Context, e *env, s *store.Store, mux *http.ServeMux) (*bot.Bot, error) {
	if e.cfg.TelegramToken == "" {
		e.log.Info("Telegram bot is off: set CRM_TELEGRAM_TOKEN to run it")
		return nil, nil
	}
	tr, err := newTelegram(e)
	if err != nil {
		return nil, err
	}
	// Mailings are driven from the chat only where crm serve sends them.
	var campaigns bot.CampaignControl
	if e.cfg.SMTP != nil {
		cs, err := newCampaigns(e, s)
		if err != nil {
			return nil, err
		}
		campaigns = newCampaignControl(s, cs)
	}
	name := tr.Username()
	core, err := bot.New(s, bot.Options{Texts: templates.FS, Logger: e.log, FileLimit: e.cfg.BotFileLimit, Outbox: tr,
		InviteLink: func(code string) string { return "https://t.me/" + name + "?start=" + code }, Campaigns: campaigns,
		ReplySLA: e.cfg.ReplySLA, Calendar: e.cfg.Calendar, Now: e.cfg.Now, Reports: chatReports{s, e.cfg.Now}})
	if err != nil {
		return nil, err
	}
	if p := tr.WebhookPath(); p != "" {
		mux.Handle(p, tr.WebhookHandler())
	}
	go func() {
		if err := tr.Run(ctx, core); err != nil {
			e.log.Error("Telegram bot stopped", "err", err)
		}
	}()
	mode := "long polling"
	if e.cfg.TelegramWebhookURL != "" {
		mode = "webhook"
	}
	e.log.Info("Telegram bot is running", "bot", "@"+name, "mode", mode)
	return core, nil
}
