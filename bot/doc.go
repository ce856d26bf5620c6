// Package bot is the managers' conversation core (commands, client cards, keyboards,
// access rules) and its transports: Telegram (go-telegram-bot-api v5) and a terminal
// chat. It depends on the store only; what it needs from mail or the scheduler it takes
// as small interfaces that cmd/crm wires.
package bot
