// Package templates holds the e-mail templates, the bot's texts, the reports' labels
// and the web workspace's texts in Russian and English, embedded in the binary.
package templates

import "embed"

// FS is the embedded template tree: mail/<name>.<lang>.tmpl, bot/<lang>.txt,
// reports/<lang>.txt and web/<lang>.txt (the web workspace's texts).
//
//go:embed mail bot reports web
var FS embed.FS
