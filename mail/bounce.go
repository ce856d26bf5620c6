// Bounces: RFC 3464 delivery reports and the common plain-text ones.

package mail

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// deliveryStatus reads the body of a message/delivery-status part (RFC 3464): a
// block of per-message fields, then a block per recipient.
func (p *parser) deliveryStatus(data []byte) *Bounce {
	var failed, delayed *Bounce
	quiet := len(p.problems) // a report's blocks are not parts: their problems are noise
	defer func() { p.problems = p.problems[:quiet] }()
	for len(bytes.TrimSpace(data)) > 0 {
		data = bytes.TrimLeft(data, "\r\n\t ")
		h, rest := p.splitHeader(data, false)
		if len(rest) >= len(data) {
			_, next := nextLine(data, 0) // not a field: skip the line
			rest = data[next:]
		}
		data = rest
		rcpt := recipientAddress(h.Get("Final-Recipient"))
		orig := recipientAddress(h.Get("Original-Recipient"))
		if rcpt == "" && orig == "" {
			continue
		}
		action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
		status := ""
		if f := strings.Fields(h.Get("Status")); len(f) > 0 {
			status = f[0]
		}
		diag := h.Get("Diagnostic-Code")
		if typ, text, ok := strings.Cut(diag, ";"); ok && !strings.ContainsAny(strings.TrimSpace(typ), " \t") {
			diag = text
		}
		diag = cleanLine(diag)
		isFailed := action == "failed" || action == "" && !strings.HasPrefix(status, "2.") && !strings.HasPrefix(status, "4.")
		switch {
		case isFailed:
			if failed == nil {
				failed = &Bounce{Action: "failed", Status: status, Diagnostic: diag}
			}
			for _, a := range []string{orig, rcpt} {
				if a != "" && len(failed.Recipients) < maxRecipients && !slices.Contains(failed.Recipients, a) {
					failed.Recipients = append(failed.Recipients, a)
				}
			}
		case action == "delayed" && delayed == nil:
			delayed = &Bounce{Action: "delayed", Status: status, Diagnostic: diag}
		}
	}
	switch {
	case failed != nil:
		return failed
	case delayed != nil:
		return delayed // the letter may still arrive: no address is marked
	}
	return &Bounce{}
}

// returnedTypes hold a letter, or its header, that a report returns.
var returnedTypes = map[string]bool{"text/rfc822-headers": true, "message/rfc822": true, "message/global": true, "message/global-headers": true}

// returnedID reads the Message-ID of a returned letter (the part stays an attachment).
func (p *parser) returnedID(h textproto.Header, body []byte) string {
	quiet := len(p.problems) // the returned letter's faults are not this one's
	defer func() { p.problems = p.problems[:quiet] }()
	r, _ := p.transfer(h, body)
	data, _ := io.ReadAll(io.LimitReader(r, 256<<10))
	hdr, _ := p.splitHeader(data, false)
	return p.messageID(gomail.Header{Header: message.Header{Header: hdr}})
}

// recipientAddress reads "rfc822; Anna@Romashka.ru" as anna@romashka.ru.
func recipientAddress(v string) string {
	if _, addr, ok := strings.Cut(v, ";"); ok {
		v = addr
	}
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), "<> \t"))
	if !strings.Contains(v, "@") || strings.ContainsAny(v, " \t") {
		return ""
	}
	return v
}

var (
	bounceSubjects = []string{
		"undelivered mail returned to sender", "delivery status notification (failure)", "недоставленное сообщение",
		"mail delivery failed", "undeliverable", "delivery failure", "failure notice", "returned mail",
		"не доставлено", "не удалось доставить", "delivery has failed", "message not delivered",
	}
	bounceCopyMarkers = []string{
		"this is a copy of the message", "below this line is a copy of the message", "original message follows",
		"----- original message -----", "------ this is a copy", "копия исходного сообщения", "исходное сообщение",
	}
	bounceListMarkers = []string{
		"following address(es) failed", "following addresses had permanent fatal errors", "following recipient(s) failed",
		"following recipients failed", "delivery to the following recipient", "could not be delivered to the following",
		"по следующим адресам", "следующим получателям",
	}
	postfixRecipientRE = regexp.MustCompile(`^<([^<>\s]+@[^<>\s]+)>:`)
	gmailRecipientRE   = regexp.MustCompile(`(?i)wasn't delivered to\s+<?([^\s<>]+@[^\s<>]+?)>?\s+because`)
	soleAddressRE      = regexp.MustCompile(`^<?([^\s<>@]+@[^\s<>@]+?)>?:?$`)
	statusCodeRE       = regexp.MustCompile(`\b([45]\.\d{1,3}\.\d{1,3})\b`)
)

// plainBounce recognises the common bounces that are not RFC 3464 reports: from
// mailer-daemon@ or postmaster@, with a bounce subject, and with the failed
// addresses clearly marked in the text. When unsure, there is no Bounce.
func (p *parser) plainBounce() *Bounce {
	l := p.l
	local, _, _ := strings.Cut(l.From.Email, "@")
	switch local {
	case "mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon":
	default:
		return nil
	}
	subject := strings.ToLower(l.Subject)
	if !slices.ContainsFunc(bounceSubjects, func(s string) bool { return strings.Contains(subject, s) }) {
		return nil
	}
	ours := map[string]bool{l.From.Email: true}
	for _, a := range append(slices.Clone(l.To), l.Cc...) {
		ours[a.Email] = true
	}
	b := &Bounce{Action: "failed"}
	add := func(a string) {
		a = strings.ToLower(strings.Trim(a, "<>.,;:"))
		if strings.Contains(a, "@") && !ours[a] && len(b.Recipients) < maxRecipients && !slices.Contains(b.Recipients, a) {
			b.Recipients = append(b.Recipients, a)
		}
	}
	listing, found := false, false
	lines := strings.Split(l.Text, "\n")
	for k, line := range lines {
		t := strings.TrimSpace(line)
		lower := strings.ToLower(t)
		if slices.ContainsFunc(bounceCopyMarkers, func(s string) bool { return strings.Contains(lower, s) }) {
			b.Original = quotedMessageID(lines[k+1:])
			break
		}
		if m := postfixRecipientRE.FindStringSubmatch(t); m != nil {
			add(m[1])
		}
		if m := gmailRecipientRE.FindStringSubmatch(t); m != nil {
			add(m[1])
		}
		if slices.ContainsFunc(bounceListMarkers, func(s string) bool { return strings.Contains(lower, s) }) {
			listing, found = true, false
			continue
		}
		if listing {
			if t == "" {
				listing = found == false
				continue
			}
			if m := soleAddressRE.FindStringSubmatch(t); m != nil {
				add(m[1])
				found = true
			}
		}
		if b.Status == "" {
			if m := statusCodeRE.FindStringSubmatch(t); m != nil {
				b.Status, b.Diagnostic = m[1], clip(t, 300)
			}
		}
	}
	if len(b.Recipients) == 0 {
		return nil
	}
	return b
}

// quotedMessageID reads the Message-ID in the header of a letter a plain-text bounce
// quotes after its copy marker.
func quotedMessageID(lines []string) string {
	started := false
	for _, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case t == "" && started:
			return "" // the quoted header is over
		case t == "":
		case len(t) > 11 && strings.EqualFold(t[:11], "message-id:"):
			if m := msgIDRE.FindStringSubmatch(t); m != nil {
				return strings.TrimSpace(m[1])
			}
			return ""
		default:
			started = true
		}
	}
	return ""
}
