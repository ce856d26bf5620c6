// Package mail reads the shared mailbox over IMAP (go-imap v2), parses letters
// (go-message, every Russian charset), matches them to clients through the store's
// key look-ups, and sends mail over SMTP (go-mail). It notifies managers through a
// Notifier interface of its own, wired to the bot by cmd/crm.
package mail
