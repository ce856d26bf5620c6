package main

import (
	"context"
	"net/http"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/templates"
)

// newTelegram makes the transport; with an outbox (crm serve), its outgoing messages
// are kept there until sent.
func newTelegram(e *env, outbox telegram.Outbox) (*telegram.Transport, error) {
	return telegram.New(e.cfg.TelegramToken, telegram.Options{
		APIURL:        e.cfg.TelegramAPIURL,
		Logger:        e.log,
		WebhookURL:    e.cfg.TelegramWebhookURL,
		WebhookSecret: e.cfg.TelegramWebhookSecret,
		Outbox:        outbox,
		Takeover:      e.cfg.Takeover,
	})
}

// telegramUsername asks Telegram for the bot's @username (getMe).
func telegramUsername(ctx context.Context, e *env) (string, error) {
	tr, err := newTelegram(e, nil)
	if err != nil {
		return "", err
	}
	return tr.Username(), nil
}

// startBot runs the Telegram bot when a token is set; with a webhook it mounts the
// webhook handler on mux. It returns the running core, or nil when the bot is off,
// and a channel closed when the bot stopped after ctx ended: its queued messages
// sent, or kept in the outbox for the next start.
func startBot(ctx context.Context, e *env, s *store.Store, mux *http.ServeMux) (*bot.Bot, <-chan struct{}, error) {
	stopped := make(chan struct{})
	if e.cfg.TelegramToken == "" {
		e.log.Info("Telegram bot is off: set CRM_TELEGRAM_TOKEN to run it")
		close(stopped)
		return nil, stopped, nil
	}
	tr, err := newTelegram(e, s)
	if err != nil {
		return nil, nil, err
	}
	// Mailings are driven from the chat only where crm serve sends them.
	var campaigns bot.CampaignControl
	if e.cfg.SMTP != nil {
		cs, err := newCampaigns(e, s)
		if err != nil {
			return nil, nil, err
		}
		campaigns = newCampaignControl(s, cs)
	}
	name := tr.Username()
	core, err := bot.New(s, bot.Options{Texts: templates.FS, Logger: e.log, FileLimit: e.cfg.BotFileLimit, Outbox: tr,
		InviteLink: func(code string) string { return "https://t.me/" + name + "?start=" + code }, Campaigns: campaigns,
		ReplySLA: e.cfg.ReplySLA, Calendar: e.cfg.Calendar, Reports: chatReports{s}})
	if err != nil {
		return nil, nil, err
	}
	if p := tr.WebhookPath(); p != "" {
		mux.Handle(p, tr.WebhookHandler())
	}
	go func() {
		defer close(stopped)
		if err := tr.Run(ctx, core); err != nil {
			e.log.Error("Telegram bot stopped", "err", err)
		}
	}()
	mode := "long polling"
	if e.cfg.TelegramWebhookURL != "" {
		mode = "webhook"
	}
	e.log.Info("Telegram bot is running", "bot", "@"+name, "mode", mode)
	return core, stopped, nil
}
