// Forwarded letters: who wrote the letter a colleague forwards.

package mail

import (
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// maxForwarded is how many forwarded senders one letter names at most.
const maxForwarded = 10

// attachedFrom notes the sender of a letter attached whole (a message/rfc822 part)
// in the letter's Forwarded; the part stays an attachment.
func (p *parser) attachedFrom(h textproto.Header, body []byte) {
	if len(p.l.Forwarded) >= maxForwarded {
		return
	}
	quiet := len(p.problems) // the attached letter's faults are not this one's
	defer func() { p.problems = p.problems[:quiet] }()
	r, _ := p.transfer(h, body)
	data, _ := io.ReadAll(io.LimitReader(r, 64<<10)) // its header is at the start
	hdr, _ := p.splitHeader(data, false)
	from := p.addresses(hdr.Get("From"), "From")
	if len(from) > 0 && from[0].Email != "" && !slices.Contains(p.l.Forwarded, from[0]) {
		p.l.Forwarded = append(p.l.Forwarded, from[0])
	}
}

var (
	// forwardPhrases are the separators mail programs put above a letter forwarded
	// in the text (Gmail, Yandex, Mail.ru, Apple Mail, Thunderbird).
	forwardPhrases = map[string]bool{"forwarded message": true, "пересылаемое сообщение": true,
		"перенаправленное сообщение": true, "переадресованное сообщение": true, "пересланное сообщение": true,
		"begin forwarded message": true, "начало переадресованного сообщения": true, "начало пересылаемого сообщения": true}
	// forwardSubjects start the subject of a forward; Outlook marks its forwards so,
	// and otherwise quotes a forward like a reply.
	forwardSubjects = []string{"fwd:", "fw:", "пересл:", "перес:", "пер:", "tr:", "wg:"}
	// forwardLookAhead is how many lines below a separator its "From:" line may be.
	forwardLookAhead = 6
)

// forwardedSenders are the senders of the letters a letter forwards: attached whole,
// or in its text below a forward separator (and, for a subject marked as a forward,
// below Outlook's header block), at most maxForwarded, never the letter's own sender.
func forwardedSenders(l *Letter) []Address {
	out := slices.Clone(l.Forwarded)
	add := func(a Address) {
		if a.Email != "" && a.Email != l.From.Email && len(out) < maxForwarded &&
			!slices.ContainsFunc(out, func(b Address) bool { return b.Email == a.Email }) {
			out = append(out, a)
		}
	}
	subject := strings.ToLower(strings.TrimSpace(l.Subject))
	outlook := slices.ContainsFunc(forwardSubjects, func(p string) bool { return strings.HasPrefix(subject, p) })
	lines := strings.Split(l.Text, "\n")
	for i := 0; i < len(lines) && len(out) < maxForwarded; i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" || len(t) > 2*maxReplyLine {
			continue
		}
		phrase := strings.Trim(strings.ToLower(t), "-_=*:<> ")
		if len(t) <= 80 && (forwardPhrases[phrase] || outlook && separatorPhrases[phrase]) {
			if a, ok := forwardFrom(lines[i+1 : min(len(lines), i+1+forwardLookAhead)]); ok {
				add(a)
			}
			continue
		}
		if outlook && quoteStarts(lines, i) {
			if a, ok := forwardFrom(lines[i:min(len(lines), i+forwardLookAhead)]); ok {
				add(a)
			}
		}
	}
	return out
}

// forwardFrom reads the sender from the head of a forwarded letter: a "From:" ("От:")
// line, or an attribution "12.03.2026, 15:30, "Анна" <anna@romashka.ru>:".
func forwardFrom(lines []string) (Address, bool) {
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if label, value := headerLabel(t); slices.Contains(fromLabels, label) {
			return forwardAddress(value)
		}
		if isAttribution(t) {
			if open := strings.LastIndexByte(t, '<'); open >= 0 {
				t = t[open:] // the name before it has a date and commas
			}
			return forwardAddress(t)
		}
	}
	return Address{}, false
}

// forwardAddress reads "Анна <anna@romashka.ru>", "anna@romashka.ru" or Outlook's
// "Анна [mailto:anna@romashka.ru]".
func forwardAddress(v string) (Address, bool) {
	email := strings.TrimRight(emailRE.FindString(strings.ReplaceAll(v, "mailto:", " ")), ".")
	if email == "" || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") {
		return Address{}, false
	}
	name := v
	if i := strings.IndexAny(name, "<["); i >= 0 {
		name = name[:i]
	} else {
		name = strings.Replace(name, email, "", 1)
	}
	return Address{Name: strings.Trim(strings.TrimSpace(name), `"' `), Email: strings.ToLower(email)}, true
}
