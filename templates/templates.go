// Package templates holds the e-mail templates, the bot's texts and the reports'
// labels in Russian and English, embedded in the binary.
package templates

import "embed"

// FS is the embedded template tree: mail/<name>.<lang>.tmpl, bot/<lang>.txt and
// reports/<lang>.txt.
//
//go:embed mail bot reports
var FS embed.FS
