// Package web is the office's workspace in a browser and, the same pages, the bot's
// Telegram Mini App: server-rendered html/template pages under /app with a little
// plain script, the templates and static files embedded in the binary.
//
// One route table (routes in web.go), one handler a file. A manager signs in without
// a password, by Telegram's signed init data (initdata.go) or a one-time link the bot
// sends (login.go); a session cookie then names a session kept in the store (session.go),
// checked on every request together with the manager's active flag. Every change
// carries the session's CSRF token and passes the Origin check. What a manager sees is
// store.Viewer's rule, as in the bot.
package web
