// Package templates holds the e-mail templates and the bot's texts in Russian and
// English, embedded in the binary.
package templates

import "embed"

// FS is the embedded template tree: mail/<name>.<lang>.tmpl and bot/<lang>.txt.
//
//go:embed mail bot
var FS embed.FS
