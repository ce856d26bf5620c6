// The header block and its fields: message IDs, encoded words, dates and addresses.

package mail

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// splitHeader reads the header block at the start of data and returns it with the
// body after it. A line that is not a header field ends the header (the body
// starts there, as when a sender forgot the blank line), unless the next line is a
// header field again: then the bad line alone is skipped (an mbox "From " line, a
// field name in Russian).
func (p *parser) splitHeader(data []byte, top bool) (textproto.Header, []byte) {
	var clean bytes.Buffer
	pos, body := 0, -1
	skipped := 0
	first := true
	for pos < len(data) {
		line, next := nextLine(data, pos)
		if len(bytes.TrimSpace(line)) == 0 {
			body = next
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !first {
				clean.Write(line)
				clean.WriteString("\r\n")
			}
			pos = next
			continue
		}
		if !isHeaderLine(line) {
			if next < len(data) {
				if after, _ := nextLine(data, next); isHeaderLine(after) {
					skipped++
					pos = next
					continue
				}
			}
			if clean.Len() > 0 {
				p.problem("the header ends without a blank line; the rest is read as the body")
			} else if !top {
				p.problem("a part has no header")
			}
			body = pos
			break
		}
		first = false
		clean.Write(line)
		clean.WriteString("\r\n")
		pos = next
	}
	if skipped > 0 {
		p.problem("%d unreadable header lines skipped", skipped)
	}
	if body < 0 {
		body = len(data)
	}
	clean.WriteString("\r\n")
	h, err := textproto.ReadHeader(bufio.NewReader(&clean))
	if err != nil {
		p.problem("header: %v", err)
	}
	return h, data[body:]
}

// nextLine returns the line at pos without its line break, and where the next starts.
func nextLine(data []byte, pos int) ([]byte, int) {
	i := bytes.IndexByte(data[pos:], '\n')
	if i < 0 {
		return bytes.TrimSuffix(data[pos:], []byte("\r")), len(data)
	}
	return bytes.TrimSuffix(data[pos:pos+i], []byte("\r")), pos + i + 1
}

func isHeaderLine(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:colon], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func (p *parser) headers(h gomail.Header) {
	l := p.l
	l.MessageID = p.messageID(h)
	if ids := p.msgIDs(h, "In-Reply-To"); len(ids) > 0 {
		l.InReplyTo = ids[0]
	}
	l.References = p.msgIDs(h, "References")
	l.Subject = p.headerText(h.Get("Subject"), "Subject")
	l.Date = p.date(h.Get("Date"))
	if from := p.addresses(h.Get("From"), "From"); len(from) > 0 {
		l.From = from[0]
	} else if sender := p.addresses(h.Get("Sender"), "Sender"); len(sender) > 0 {
		l.From = sender[0]
	}
	l.To = p.addresses(h.Get("To"), "To")
	l.Cc = p.addresses(h.Get("Cc"), "Cc")
}

var msgIDRE = regexp.MustCompile(`<([^<>]*)>`)

func (p *parser) messageID(h gomail.Header) string {
	id, err := h.MessageID()
	if err == nil {
		return id
	}
	v := strings.TrimSpace(h.Get("Message-Id"))
	if m := msgIDRE.FindStringSubmatch(v); m != nil {
		return strings.TrimSpace(m[1])
	}
	if f := strings.Fields(v); len(f) > 0 {
		return strings.Trim(f[0], "<>")
	}
	return ""
}

// msgIDs reads In-Reply-To or References: go-message's strict reading first, then
// every <...> in the field, then every word with an @.
func (p *parser) msgIDs(h gomail.Header, key string) []string {
	if ids, err := h.MsgIDList(key); err == nil {
		return ids
	}
	v := h.Get(key)
	var ids []string
	for _, m := range msgIDRE.FindAllStringSubmatch(v, -1) {
		if id := strings.TrimSpace(m[1]); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		for _, f := range strings.Fields(v) {
			if strings.Contains(f, "@") && !slices.Contains(ids, f) {
				ids = append(ids, strings.Trim(f, "<>,"))
			}
		}
	}
	return ids
}

// headerText decodes an unstructured header field: encoded words in any charset
// (also broken ones), and raw 8-bit text sent without any charset.
func (p *parser) headerText(v, key string) string {
	return cleanLine(p.decodeWords(p.raw8bit(v, key)))
}

// raw8bit decodes header text that came as raw bytes of some 8-bit charset: the
// one the body declares, else a guess between windows-1251 and KOI8-R.
func (p *parser) raw8bit(v, key string) string {
	if utf8.ValidString(v) {
		return v
	}
	cs := p.hint
	if cs == "" {
		cs = guessCyrillic([]byte(v))
	}
	p.problem("%s: 8-bit text without a charset, read as %s", key, cs)
	return p.charsetDecode(cs, []byte(v), key)
}

var encodedWordRE = regexp.MustCompile(`=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*)\?=`)

// decodeWords decodes RFC 2047 encoded words best-effort: any charset (an unknown
// one is guessed), B without padding, Q with raw 8-bit bytes, adjacent words of one
// charset joined before decoding (a character split between words survives), the
// space between adjacent words dropped.
func (p *parser) decodeWords(s string) string {
	locs := encodedWordRE.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	var out strings.Builder
	var pend []byte
	pendCS := ""
	flush := func() {
		if len(pend) > 0 {
			out.WriteString(p.charsetDecode(pendCS, pend, "encoded word"))
		}
		pend = pend[:0]
	}
	last, prevWord := 0, false
	for _, m := range locs {
		between := s[last:m[0]]
		cs := normalizeCharset(s[m[2]:m[3]])
		data, ok := decodeWordText(s[m[4]], s[m[6]:m[7]])
		if !ok {
			flush()
			out.WriteString(s[last:m[1]])
			last, prevWord = m[1], false
			continue
		}
		if !prevWord || strings.TrimSpace(between) != "" {
			flush()
			out.WriteString(between)
		} else if cs != pendCS {
			flush()
		}
		pendCS = cs
		pend = append(pend, data...)
		last, prevWord = m[1], true
	}
	flush()
	out.WriteString(s[last:])
	return out.String()
}

func decodeWordText(enc byte, text string) ([]byte, bool) {
	if enc == 'b' || enc == 'B' {
		r := newBase64Reader([]byte(text))
		data, _ := io.ReadAll(r)
		return data, r.junk == 0 || len(data) > 0
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// zoneAbbrevs are the zone names seen in Russian mail that net/mail would read as UTC.
var zoneAbbrevs = map[string]string{
	"MSK": "+0300", "MSD": "+0400", "EET": "+0200", "EEST": "+0300", "CET": "+0100", "CEST": "+0200",
	"BST": "+0100", "IST": "+0530", "JST": "+0900", "SAMT": "+0400", "YEKT": "+0500", "OMST": "+0600",
	"KRAT": "+0700", "IRKT": "+0800", "YAKT": "+0900", "VLAT": "+1000", "MAGT": "+1100", "PETT": "+1200",
	"UTC": "+0000", "GMT": "+0000", "UT": "+0000", "Z": "+0000",
}

var (
	trailingCommentRE = regexp.MustCompile(`\s*\([^()]*\)\s*$`)
	trailingZoneRE    = regexp.MustCompile(`\s([A-Za-z]{1,5})$`)
	dateLayouts       = []string{
		"Monday, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 -07:00", "2 Jan 2006 15:04:05 -07:00",
		"Mon, 2 January 2006 15:04:05 -0700", "2 January 2006 15:04:05 -0700",
		time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -07:00", "2006-01-02 15:04:05",
		"02.01.2006 15:04:05 -0700", "02.01.2006 15:04:05", "02.01.2006 15:04",
		"Mon, 2 Jan 2006 15:04:05", "2 Jan 2006 15:04:05", "Mon, 2 Jan 2006 15:04", "2 Jan 2006 15:04",
		time.ANSIC, time.UnixDate, time.RubyDate, "Mon Jan 2 15:04:05 -0700 2006",
	}
)

// date reads the Date field in UTC: RFC 5322 (with net/mail, as go-message does), zone
// names net/mail would take for UTC (MSK), ISO 8601 and a few other forms seen in
// the wild. A missing or unreadable date is the zero time.
func (p *parser) date(v string) time.Time {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return time.Time{}
	}
	norm := trailingCommentRE.ReplaceAllString(v, "")
	if m := trailingZoneRE.FindStringSubmatch(norm); m != nil {
		if off, ok := zoneAbbrevs[strings.ToUpper(m[1])]; ok {
			norm = norm[:len(norm)-len(m[1])] + off
		}
	}
	for _, s := range []string{norm, v} {
		if t, err := netmail.ParseDate(s); err == nil {
			return t.UTC()
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, norm); err == nil {
			return t.UTC()
		}
	}
	p.problem("Date: cannot read %q", clip(v, 80))
	return time.Time{}
}

var emailRE = regexp.MustCompile(`[^\s<>()\[\],;:"'@]+@[^\s<>()\[\],;:"'@]+`)

// addresses reads an address list with net/mail (as go-message's AddressList does,
// but with a charset reader that never fails); a list it refuses is split by hand
// and every piece that holds an address is kept.
func (p *parser) addresses(v, key string) []Address {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	v = p.raw8bit(v, key)
	ap := netmail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: p.lenientCharsetReader}}
	list, err := ap.ParseList(v)
	if err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, Address{Name: cleanLine(p.decodeWords(a.Name)), Email: strings.ToLower(a.Address)})
		}
		return out
	}
	var out []Address
	for _, piece := range splitAddressList(v) {
		if a, err := ap.Parse(piece); err == nil {
			out = append(out, Address{Name: cleanLine(p.decodeWords(a.Name)), Email: strings.ToLower(a.Address)})
			continue
		}
		email := emailRE.FindString(piece)
		email = strings.TrimRight(email, ".")
		if email == "" || strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") {
			continue
		}
		name := piece
		if i := strings.IndexByte(name, '<'); i >= 0 {
			name = name[:i]
		} else {
			name = strings.Replace(name, email, "", 1)
		}
		name = strings.Trim(strings.TrimSpace(name), `"' `)
		out = append(out, Address{Name: cleanLine(p.decodeWords(name)), Email: strings.ToLower(email)})
	}
	p.problem("%s: %v; kept %d readable addresses", key, err, len(out))
	return out
}

// splitAddressList splits at commas and semicolons outside quotes, angle brackets
// and comments.
func splitAddressList(v string) []string {
	var out []string
	quoted, angle, paren, start := false, 0, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == '(':
			paren++
		case c == ')' && paren > 0:
			paren--
		case (c == ',' || c == ';') && angle == 0 && paren == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}
