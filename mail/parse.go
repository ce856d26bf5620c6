package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/crm-team/crm/store"
)

// Limits that keep one hostile or broken letter from taking the ingester down.
const (
	defaultMaxAttachment = store.DefaultFileLimit
	maxBodyPart          = 4 << 20 // decoded bytes of one text or HTML part that are kept
	maxDepth             = 20      // nested multiparts
	maxParts             = 500     // parts in one letter
	maxProblems          = 20
	maxRecipients        = 100  // failed addresses taken from one bounce
	maxPreview           = 2000 // characters
)

// Parse reads a raw letter (RFC 5322 with MIME). It never fails and never panics:
// whatever cannot be read is noted in Problems and the rest of the letter is kept.
// Hash is always set.
//
// Headers are read with go-message's textproto and mail packages, charsets with
// go-message/charset. The MIME tree is split by this package (mime.go), on the raw
// bytes, rather than by go-message's multipart reader, so that a broken part (a bad
// header line, a boundary never closed) costs that part only; base64 is decoded by it
// too (base64.go), skipping characters outside the alphabet as RFC 2045 asks, where
// the standard decoder stops at the first one and loses the rest of the part.
func Parse(raw []byte, opts ParseOptions) (l *Letter) {
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = defaultMaxAttachment
	}
	sum := sha256.Sum256(raw)
	l = &Letter{Hash: hex.EncodeToString(sum[:])}
	p := &parser{l: l, opts: opts}
	defer func() {
		if r := recover(); r != nil {
			p.problem("the parser stopped on a broken letter: %v", r)
		}
		l.Problems = p.problems
		sanitize(l)
	}()
	if len(raw) == 0 {
		p.problem("the letter is empty")
		return l
	}
	hdr, body := p.splitHeader(raw, true)
	if hdr.Len() == 0 {
		p.problem("the letter has no header")
	}
	p.entity(hdr, body, 0, walk{})
	p.headers(gomail.Header{Header: message.Header{Header: hdr}})
	p.finish()
	return l
}

type parser struct {
	l        *Letter
	opts     ParseOptions
	problems []string
	parts    int
	// hint is the charset the body declares, used for 8-bit header text sent
	// without any charset.
	hint    string
	texts   []string
	htmls   []string
	reports []*Bounce // from message/delivery-status parts
	// returned is the Message-ID of the first letter returned in a part (a report's
	// text/rfc822-headers, a message/rfc822): the letter a bounce is about.
	returned string
}

func (p *parser) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(p.problems) >= maxProblems || slices.Contains(p.problems, msg) {
		return
	}
	p.problems = append(p.problems, msg)
}

// finish joins the parts' texts into the letter's text and preview (the HTML's text
// when no part had plain text) and settles which bounce report the letter is.
func (p *parser) finish() {
	l := p.l
	l.Text = strings.TrimRight(strings.Join(p.texts, "\n\n"), " \t\n")
	l.HTML = strings.Join(p.htmls, "\n")
	if strings.TrimSpace(l.Text) == "" && l.HTML != "" {
		l.Text = htmlText(l.HTML)
	}
	l.Preview = preview(l.Text)
	for _, r := range p.reports {
		if r.Action != "" && (l.Bounce == nil || l.Bounce.Action != "failed") {
			l.Bounce = r
		}
	}
	if l.Bounce == nil {
		l.Bounce = p.plainBounce()
	}
	if l.Bounce != nil && p.returned != "" {
		l.Bounce.Original = p.returned
	}
}

// cleanLine makes one line of header text: control characters and runs of white
// space become one space.
func cleanLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sanitize makes every string of the letter valid UTF-8.
func sanitize(l *Letter) {
	v := func(s *string) { *s = strings.ToValidUTF8(*s, "\uFFFD") }
	for _, s := range []*string{&l.MessageID, &l.InReplyTo, &l.Subject, &l.From.Name, &l.From.Email, &l.Text, &l.HTML, &l.Preview} {
		v(s)
	}
	for _, list := range [][]Address{l.To, l.Cc} {
		for i := range list {
			v(&list[i].Name)
			v(&list[i].Email)
		}
	}
	for i := range l.References {
		v(&l.References[i])
	}
	for i := range l.Forwarded {
		v(&l.Forwarded[i].Name)
		v(&l.Forwarded[i].Email)
	}
	for i := range l.Attachments {
		v(&l.Attachments[i].Name)
		v(&l.Attachments[i].MIME)
	}
	if b := l.Bounce; b != nil {
		v(&b.Original)
		v(&b.Status)
		v(&b.Action)
		v(&b.Diagnostic)
		for i := range b.Recipients {
			v(&b.Recipients[i])
		}
	}
	for i := range l.Problems {
		v(&l.Problems[i])
	}
}
