package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // registers every charset Russian mail uses
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/charmap"

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
// go-message/charset. The MIME tree is split here, on the raw bytes, rather than by
// go-message's multipart reader, so that a broken part (a bad header line, a
// boundary never closed) costs that part only; base64 is decoded here too, skipping
// characters outside the alphabet as RFC 2045 asks, where the standard decoder stops
// at the first one and loses the rest of the part.
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

// ---- headers ---------------------------------------------------------------

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

// ---- the MIME tree -----------------------------------------------------------

// walk is what a part knows of the multiparts around it.
type walk struct {
	alt    *altGroup // the nearest multipart/alternative
	report bool      // directly inside a multipart/report
}

// altGroup keeps one text and one HTML body from a multipart/alternative.
type altGroup struct{ text, html bool }

func (p *parser) entity(h textproto.Header, body []byte, depth int, w walk) {
	p.parts++
	if p.parts > maxParts {
		if p.parts == maxParts+1 {
			p.problem("more than %d parts; the rest are skipped", maxParts)
		}
		return
	}
	ct, params := p.contentType(h)
	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxDepth {
			p.problem("parts nested deeper than %d levels are skipped", maxDepth)
			return
		}
		if p.multipart(ct, params, body, depth, w) {
			return
		}
		ct, params = "text/plain", nil // not really multipart: read it as text
	}
	disp, dparams := p.paramHeader(h.Get("Content-Disposition"), "Content-Disposition")
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if p.returned == "" && returnedTypes[ct] {
		p.returned = p.returnedID(h, body)
	}
	switch {
	case (ct == "message/delivery-status" || ct == "message/global-delivery-status") && w.report:
		r, _ := p.transfer(h, body)
		data, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			p.problem("delivery status: %v", err)
		}
		p.reports = append(p.reports, p.deliveryStatus(data))
	case (ct == "text/plain" || ct == "text/html") && disp != "attachment" && name == "":
		p.bodyPart(h, ct, params, body, w)
	default:
		p.attachment(h, ct, name, body)
	}
}

// multipart splits a multipart body on its boundary and reads every part. It
// returns false when the body has no parts at all, so that the caller reads it as
// text.
func (p *parser) multipart(ct string, params map[string]string, body []byte, depth int, w walk) bool {
	boundary := params["boundary"]
	if boundary == "" {
		boundary = guessBoundary(body)
		if boundary == "" {
			p.problem("%s without a boundary; read as text", ct)
			return false
		}
		p.problem("%s without a boundary; used %q found in the body", ct, boundary)
	}
	parts, closed := splitMultipart(body, boundary)
	if parts == nil && !closed {
		p.problem("%s: no part starts with its boundary; read as text", ct)
		return false
	}
	if !closed {
		p.problem("%s: the closing boundary is missing (the letter may be cut short)", ct)
	}
	inner := walk{alt: w.alt, report: ct == "multipart/report"}
	if ct == "multipart/alternative" {
		inner.alt = &altGroup{}
	}
	for _, part := range parts {
		h, b := p.splitHeader(part, false)
		p.entity(h, b, depth+1, inner)
	}
	return true
}

// guessBoundary finds a boundary in a multipart body whose header lost it: the first
// line that starts with "--".
func guessBoundary(body []byte) string {
	for pos := 0; pos < len(body); {
		line, next := nextLine(body, pos)
		if s := strings.TrimSpace(string(line)); len(s) > 2 && len(s) <= 72 && strings.HasPrefix(s, "--") && !strings.ContainsAny(s, " \t") {
			return strings.TrimSuffix(s[2:], "--")
		}
		pos = next
	}
	return ""
}

// splitMultipart cuts a multipart body into its parts, each from after its
// delimiter line to before the line break that precedes the next delimiter. closed
// says whether the closing delimiter was there.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body); {
		lineStart := pos
		line, next := nextLine(body, pos)
		pos = next
		if !bytes.HasPrefix(line, delim) {
			continue
		}
		rest := line[len(delim):]
		final := bytes.HasPrefix(rest, []byte("--"))
		if final {
			rest = rest[2:]
		}
		if len(bytes.Trim(rest, " \t")) != 0 {
			continue
		}
		if len(parts) > maxParts {
			return parts, true // enough: entity notes the parts beyond the limit
		}
		if start >= 0 {
			end := lineStart
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
		}
		if final {
			return parts, true
		}
		start = next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// contentType reads Content-Type; none means text/plain, something unreadable too.
func (p *parser) contentType(h textproto.Header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{}
	}
	ct, params := p.paramHeader(v, "Content-Type")
	if !validMediaType(ct) {
		p.problem("Content-Type %q is not a media type; read as text/plain", clip(ct, 60))
		ct = "text/plain"
	}
	return ct, params
}

func validMediaType(ct string) bool {
	typ, sub, ok := strings.Cut(ct, "/")
	if !ok || typ == "" || sub == "" {
		return false
	}
	for _, c := range ct {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"[]?=`, c) {
			return false
		}
	}
	return true
}

// paramHeader reads a header with parameters ("attachment; filename=...") leniently:
// quoted or bare values, RFC 2231 continuations and charsets (windows-1251 and
// KOI8-R too, which mime.ParseMediaType drops), RFC 2047 encoded words in values and
// raw 8-bit values. The first of duplicate parameters wins; an extended (RFC 2231)
// value wins over a plain one.
func (p *parser) paramHeader(v, key string) (string, map[string]string) {
	value, rest, _ := strings.Cut(v, ";")
	value = strings.ToLower(strings.TrimSpace(value))
	raw := map[string]string{}
	var order []string
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t\r\n;")
		i := strings.IndexAny(rest, "=;")
		if i < 0 {
			break
		}
		if rest[i] == ';' {
			rest = rest[i:]
			continue
		}
		k := strings.ToLower(strings.TrimSpace(rest[:i]))
		rest = strings.TrimLeft(rest[i+1:], " \t\r\n")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				// Only \" and \\ are taken for escapes: Outlook sends Windows paths
				// with bare backslashes.
				if rest[j] == '\\' && j+1 < len(rest) && (rest[j+1] == '"' || rest[j+1] == '\\') {
					j++
				}
				b.WriteByte(rest[j])
			}
			val, rest = b.String(), rest[min(j+1, len(rest)):]
			if k := strings.IndexByte(rest, ';'); k >= 0 {
				rest = rest[k:]
			} else {
				rest = ""
			}
		} else {
			j := strings.IndexByte(rest, ';')
			if j < 0 {
				j = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:j]), rest[j:]
		}
		if _, dup := raw[k]; k != "" && !dup {
			raw[k] = val
			order = append(order, k)
		}
	}
	out := make(map[string]string, len(raw))
	type section struct {
		n   int
		ext bool
		v   string
	}
	ext := map[string][]section{}
	var bases []string // in the order they came, so that problems come in a fixed order
	for _, k := range order {
		base, isExt := strings.CutSuffix(k, "*")
		n := 0
		if i := strings.LastIndexByte(base, '*'); i >= 0 {
			num, err := strconv.Atoi(base[i+1:])
			if err != nil || num < 0 || num > 999 {
				continue
			}
			base, n = base[:i], num
		} else if !isExt {
			out[k] = p.paramText(raw[k], key)
			continue
		}
		if _, seen := ext[base]; !seen {
			bases = append(bases, base)
		}
		ext[base] = append(ext[base], section{n, isExt, raw[k]})
	}
	for _, base := range bases {
		secs := ext[base]
		slices.SortStableFunc(secs, func(a, b section) int { return a.n - b.n })
		cs := ""
		var buf []byte
		for i, s := range secs {
			if i > 0 && s.n == secs[i-1].n {
				continue
			}
			if !s.ext {
				buf = append(buf, s.v...)
				continue
			}
			val := s.v
			if i == 0 {
				if c, after, ok := strings.Cut(val, "'"); ok {
					if _, after2, ok := strings.Cut(after, "'"); ok {
						cs, val = c, after2
					}
				}
			}
			buf = append(buf, percentDecode(val)...)
		}
		out[base] = p.decodeWords(p.charsetDecode(normalizeCharset(cs), buf, key+" "+base))
	}
	return value, out
}

func (p *parser) paramText(v, key string) string {
	return p.decodeWords(p.raw8bit(v, key))
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// transfer undoes the Content-Transfer-Encoding. It also returns a guess of the
// decoded size, to size buffers.
func (p *parser) transfer(h textproto.Header, body []byte) (io.Reader, int) {
	cte := strings.ToLower(strings.Trim(h.Get("Content-Transfer-Encoding"), " \t\"'"))
	switch cte {
	case "base64":
		return newBase64Reader(body), len(body)/4*3 + 3
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return bytes.NewReader(body), len(body)
	}
	var mh message.Header
	mh.Set("Content-Transfer-Encoding", cte)
	e, err := message.New(mh, bytes.NewReader(body))
	if err != nil {
		p.problem("unknown Content-Transfer-Encoding %q; the part is kept as it came", clip(cte, 40))
	}
	return e.Body, len(body)
}

// bodyPart reads a text/plain or text/html part of the body.
func (p *parser) bodyPart(h textproto.Header, ct string, params map[string]string, body []byte, w walk) {
	if w.alt != nil {
		if ct == "text/plain" && w.alt.text || ct == "text/html" && w.alt.html {
			return // a second version of the same alternative
		}
		if ct == "text/plain" {
			w.alt.text = true
		} else {
			w.alt.html = true
		}
	}
	r, _ := p.transfer(h, body)
	data, err := io.ReadAll(io.LimitReader(r, maxBodyPart+1))
	if err != nil {
		p.problem("%s part: %v; kept what was read", ct, err)
	}
	if br, ok := r.(*base64Reader); ok && br.junk > 0 {
		p.problem("%s part: %d characters that are not base64 were skipped", ct, br.junk)
	}
	if len(data) > maxBodyPart {
		data = data[:maxBodyPart]
		p.problem("a %s part is longer than %d MB; the rest is cut", ct, maxBodyPart>>20)
	}
	cs := normalizeCharset(params["charset"])
	if ct == "text/html" && cs == "" && !utf8.Valid(data) {
		cs = metaCharset(data)
	}
	if p.hint == "" && cs != "" && cs != "utf-8" && cs != "us-ascii" && knownCharset(cs) {
		p.hint = cs
	}
	text := p.charsetDecode(cs, data, ct+" part")
	if ct == "text/html" {
		p.htmls = append(p.htmls, text)
		return
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if strings.EqualFold(params["format"], "flowed") {
		text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
	}
	p.texts = append(p.texts, text)
}

var metaCharsetRE = regexp.MustCompile(`(?i)<meta[^>]{0,200}charset\s*=\s*["']?\s*([a-z0-9_.:\-]+)`)

// metaCharset finds the charset an HTML part declares in a <meta> tag.
func metaCharset(data []byte) string {
	if m := metaCharsetRE.FindSubmatch(data[:min(len(data), 4096)]); m != nil {
		return normalizeCharset(string(m[1]))
	}
	return ""
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676).
func unflow(s string, delsp bool) string {
	var out []string
	var cur strings.Builder
	open, curDepth := false, 0
	for _, line := range strings.Split(s, "\n") {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(line[depth:], " ")
		if open && depth != curDepth {
			out = append(out, quotePrefix(curDepth)+cur.String())
			cur.Reset()
			open = false
		}
		curDepth = depth
		cur.WriteString(content)
		if strings.HasSuffix(content, " ") && content != "-- " {
			if delsp {
				s := strings.TrimSuffix(cur.String(), " ")
				cur.Reset()
				cur.WriteString(s)
			}
			open = true
			continue
		}
		out = append(out, quotePrefix(depth)+cur.String())
		cur.Reset()
		open = false
	}
	if open {
		out = append(out, quotePrefix(curDepth)+cur.String())
	}
	return strings.Join(out, "\n")
}

func quotePrefix(depth int) string {
	if depth == 0 {
		return ""
	}
	return strings.Repeat(">", depth) + " "
}

// ---- charsets ----------------------------------------------------------------

var charsetAliases = map[string]string{
	"utf8": "utf-8", "utf-8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-utf-8": "utf-8",
	"win-1251": "windows-1251", "win1251": "windows-1251", "cp-1251": "windows-1251", "windows1251": "windows-1251",
	"cp1251": "windows-1251", "x-cp1251": "windows-1251", "windows-1251": "windows-1251",
	"koi8r": "koi8-r", "koi8": "koi8-r", "koi": "koi8-r", "koi8-r": "koi8-r",
	"ascii": "us-ascii", "us-ascii": "us-ascii", "ansi_x3.4-1968": "us-ascii", "iso646-us": "us-ascii",
}

// normalizeCharset lower-cases a charset name, drops quotes and an RFC 2231
// language, and maps the misspellings seen in Russian mail.
func normalizeCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"' `))
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i]
	}
	if a, ok := charsetAliases[cs]; ok {
		return a
	}
	return cs
}

// charsetDecode turns bytes in a charset into valid UTF-8. No charset, UTF-8 or
// US-ASCII that are not valid UTF-8, and unknown charsets, are read as UTF-8 when
// that mostly works, else as windows-1251 or KOI8-R, whichever the bytes look like;
// the guess is noted as a problem.
func (p *parser) charsetDecode(cs string, data []byte, what string) string {
	switch cs {
	case "", "utf-8", "us-ascii":
		if utf8.Valid(data) {
			return string(data)
		}
		guess := guessCharset(data)
		if cs == "" {
			cs = "no charset"
		}
		p.problem("%s: %s but not UTF-8; read as %s", what, cs, guess)
		return decodeKnown(guess, data)
	}
	if message.CharsetReader != nil {
		r, err := message.CharsetReader(cs, bytes.NewReader(data))
		if err == nil && r != nil {
			out, err := io.ReadAll(r)
			if err != nil {
				p.problem("%s: %s: %v", what, cs, err)
			}
			return strings.ToValidUTF8(string(out), "\uFFFD")
		}
	}
	guess := guessCharset(data)
	p.problem("%s: unknown charset %q; read as %s", what, clip(cs, 40), guess)
	return decodeKnown(guess, data)
}

func knownCharset(cs string) bool {
	if message.CharsetReader == nil {
		return false
	}
	_, err := message.CharsetReader(cs, strings.NewReader(""))
	return err == nil
}

// lenientCharsetReader is a charset reader for mime.WordDecoder that never fails.
func (p *parser) lenientCharsetReader(cs string, input io.Reader) (io.Reader, error) {
	data, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(p.charsetDecode(normalizeCharset(cs), data, "address")), nil
}

// guessCharset says how to read bytes whose charset is unknown or wrong: "utf-8"
// when they are mostly UTF-8 (a few broken bytes), else a Cyrillic 8-bit charset.
func guessCharset(data []byte) string {
	multi, bad := 0, 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			multi++
		}
		i += n
	}
	if multi > bad {
		return "utf-8"
	}
	return guessCyrillic(data)
}

// guessCyrillic tells windows-1251 from KOI8-R by letter case: Russian text is mostly
// lower case, which windows-1251 puts at 0xE0-0xFF and KOI8-R at 0xC0-0xDF.
func guessCyrillic(data []byte) string {
	low, high := 0, 0
	for _, c := range data {
		switch {
		case c >= 0xE0:
			high++
		case c >= 0xC0:
			low++
		}
	}
	if low > high {
		return "koi8-r"
	}
	return "windows-1251"
}

func decodeKnown(cs string, data []byte) string {
	switch cs {
	case "koi8-r":
		s, _ := charmap.KOI8R.NewDecoder().Bytes(data)
		return string(s)
	case "windows-1251":
		s, _ := charmap.Windows1251.NewDecoder().Bytes(data)
		return string(s)
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// ---- attachments ---------------------------------------------------------------

var mimeExtensions = map[string]string{
	"application/pdf": ".pdf", "application/zip": ".zip", "application/x-zip-compressed": ".zip",
	"application/msword": ".doc", "application/vnd.ms-excel": ".xls", "application/rtf": ".rtf",
	"application/x-rar-compressed": ".rar", "application/vnd.rar": ".rar", "application/x-7z-compressed": ".7z",
	"application/json": ".json", "application/xml": ".xml", "application/octet-stream": ".bin",
	"application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s", "application/pgp-signature": ".asc",
	"image/jpeg": ".jpg", "image/jpg": ".jpg", "image/pjpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
	"image/webp": ".webp", "image/bmp": ".bmp", "image/tiff": ".tif", "image/svg+xml": ".svg", "image/heic": ".heic",
	"audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/wav": ".wav", "video/mp4": ".mp4", "video/quicktime": ".mov",
	"message/rfc822": ".eml", "message/global": ".eml", "text/rfc822-headers": ".txt",
	"message/delivery-status": ".txt", "text/plain": ".txt", "text/html": ".html", "text/csv": ".csv",
	"text/calendar": ".ics", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "text/xml": ".xml",
	"application/vnd.oasis.opendocument.text":                                   ".odt",
	"application/vnd.oasis.opendocument.spreadsheet":                            ".ods",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}

func extensionFor(ct string) string {
	if ext, ok := mimeExtensions[ct]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// attachment keeps a part as a file: its content up to MaxAttachment, and beyond it
// only the size, counted while the rest is decoded and thrown away.
func (p *parser) attachment(h textproto.Header, ct, name string, body []byte) {
	name = fileName(name)
	if name == "" {
		name = fmt.Sprintf("attachment-%d%s", len(p.l.Attachments)+1, extensionFor(ct))
	}
	a := Attachment{Name: name, MIME: ct}
	r, hint := p.transfer(h, body)
	limit := min(p.opts.MaxAttachment, 1<<40)
	// Read at most limit+1 bytes into a buffer sized from the encoded size (one byte
	// more, so that an exact guess still sees the end without growing the buffer).
	buf := make([]byte, 0, min(int64(hint)+1, limit+1))
	var err error
	for int64(len(buf)) <= limit && err == nil {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(limit+1-int64(len(buf)), max(int64(len(buf)), 4096))))
		}
		var n int
		n, err = r.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
	}
	a.Size = int64(len(buf))
	if a.Size > limit {
		rest, err2 := io.Copy(io.Discard, r)
		a.Size += rest
		err = err2
		a.NotStored = "larger than " + sizeText(limit)
	} else {
		a.Content = buf
	}
	if err != nil && !errors.Is(err, io.EOF) {
		p.problem("attachment %q: %v; kept what was read", name, err)
	}
	if br, ok := r.(*base64Reader); ok && br.junk > 0 {
		p.problem("attachment %q: %d characters that are not base64 were skipped", name, br.junk)
	}
	p.l.Attachments = append(p.l.Attachments, a)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileName keeps the last element of a path (Outlook sometimes sends
// C:\Users\...\file.pdf) without control characters.
func fileName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	return clip(name, 255)
}

// base64Reader decodes base64 leniently: characters outside the alphabet are
// skipped (RFC 2045 6.8), padding in the middle (concatenated blocks) is accepted,
// and a short last group still gives its bytes.
type base64Reader struct {
	src  []byte
	q    [4]byte
	qn   int
	out  []byte
	buf  [3072]byte
	junk int // skipped characters other than white space
}

func newBase64Reader(src []byte) *base64Reader { return &base64Reader{src: src} }

var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = byte(i)
	}
	t['='] = 0xFE
	return t
}()

func (r *base64Reader) Read(d []byte) (int, error) {
	for len(r.out) == 0 {
		if len(r.src) == 0 && r.qn == 0 {
			return 0, io.EOF
		}
		r.fill()
	}
	n := copy(d, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *base64Reader) fill() {
	out := r.buf[:0]
	// Whole lines of clean base64, nearly every line of every letter, go through the
	// standard decoder, several times faster; the rest character by character below.
	for r.qn == 0 && len(r.src) > 0 {
		line := r.src
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl+1]
		}
		body := bytes.TrimRight(line, "\r\n")
		if len(body) == 0 || len(body)%4 != 0 || len(out)+len(body)/4*3 > len(r.buf) {
			break
		}
		n, err := base64.StdEncoding.Decode(r.buf[len(out):], body)
		if err != nil {
			break
		}
		out = r.buf[:len(out)+n]
		r.src = r.src[len(line):]
	}
	i := 0
	for ; i < len(r.src) && len(out) <= len(r.buf)-3; i++ {
		c := r.src[i]
		v := base64Values[c]
		switch v {
		case 0xFF:
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				r.junk++
			}
			continue
		case 0xFE: // padding ends a group early
			out = r.flush(out)
			continue
		}
		r.q[r.qn] = v
		r.qn++
		if r.qn == 4 {
			out = append(out, r.q[0]<<2|r.q[1]>>4, r.q[1]<<4|r.q[2]>>2, r.q[2]<<6|r.q[3])
			r.qn = 0
		}
	}
	r.src = r.src[i:]
	if len(r.src) == 0 {
		out = r.flush(out)
	}
	r.out = out
}

func (r *base64Reader) flush(out []byte) []byte {
	switch r.qn {
	case 1:
		r.junk++
	case 2:
		out = append(out, r.q[0]<<2|r.q[1]>>4)
	case 3:
		out = append(out, r.q[0]<<2|r.q[1]>>4, r.q[1]<<4|r.q[2]>>2)
	}
	r.qn = 0
	return out
}

// ---- bounces -------------------------------------------------------------------

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

// ---- the letter's text -----------------------------------------------------------

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

var (
	skipElements = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true, "svg": true, "object": true}
	// paragraph elements are set off by a blank line, block elements by a line break.
	paragraphElements = map[string]bool{"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"ul": true, "ol": true, "dl": true, "table": true, "blockquote": true, "pre": true, "hr": true, "address": true, "figure": true}
	blockElements = map[string]bool{"div": true, "li": true, "tr": true, "dt": true, "dd": true, "section": true,
		"article": true, "header": true, "footer": true, "nav": true, "aside": true, "main": true, "center": true,
		"form": true, "fieldset": true, "caption": true, "figcaption": true, "details": true, "summary": true,
		"tbody": true, "thead": true, "tfoot": true, "body": true, "html": true}
)

// htmlText makes an HTML body readable as text: no script, style or head; block
// elements on their own lines, <br> a line break, link texts kept, entities
// decoded, white space collapsed, quoted (blockquote) lines marked with ">", at
// most one blank line in a row.
func htmlText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var w htmlWriter
	skip, pre := 0, 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			w.breakLine(false)
			return tidy(strings.Join(w.lines, "\n"))
		case html.TextToken:
			if skip == 0 {
				w.text(string(z.Text()), pre > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, _ := z.TagName()
			name := string(tag)
			switch {
			case name == "body":
				skip = 0 // a <head> never closed ends here
			case skipElements[name]:
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			switch {
			case name == "br":
				w.breakLine(true)
			case name == "blockquote":
				w.paragraph()
				w.quote++
			case name == "pre":
				w.paragraph()
				if tt == html.StartTagToken {
					pre++
				}
			case paragraphElements[name]:
				w.paragraph()
			case name == "li":
				w.breakLine(false)
				w.text("- ", true)
			case blockElements[name]:
				w.breakLine(false)
			case name == "td" || name == "th":
				w.text(" ", false)
			}
		case html.EndTagToken:
			tag, _ := z.TagName()
			name := string(tag)
			switch {
			case skipElements[name]:
				skip = max(skip-1, 0)
			case name == "blockquote":
				w.breakLine(false)
				for n := len(w.lines); n > 0 && strings.Trim(w.lines[n-1], "> ") == ""; n-- {
					w.lines = w.lines[:n-1] // no blank quoted line at the end of a quote
				}
				w.quote = max(w.quote-1, 0)
				w.paragraph()
			case name == "pre":
				w.paragraph()
				pre = max(pre-1, 0)
			case paragraphElements[name]:
				w.paragraph()
			case blockElements[name]:
				w.breakLine(false)
			case name == "td" || name == "th":
				w.text(" ", false)
			}
		}
	}
}

type htmlWriter struct {
	lines []string
	cur   strings.Builder
	quote int
}

func (w *htmlWriter) text(s string, pre bool) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if pre {
		for i, part := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
			if i > 0 {
				w.breakLine(true)
			}
			w.cur.WriteString(part)
		}
		return
	}
	space := len(s) > 0 && isSpaceByte(s[0])
	words := strings.Fields(s)
	end := len(s) > 0 && isSpaceByte(s[len(s)-1])
	if len(words) == 0 {
		if space && w.cur.Len() > 0 && !strings.HasSuffix(w.cur.String(), " ") {
			w.cur.WriteByte(' ')
		}
		return
	}
	if space && w.cur.Len() > 0 && !strings.HasSuffix(w.cur.String(), " ") {
		w.cur.WriteByte(' ')
	}
	w.cur.WriteString(strings.Join(words, " "))
	if end {
		w.cur.WriteByte(' ')
	}
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// breakLine ends the current line; force makes an empty line too (<br><br>).
func (w *htmlWriter) breakLine(force bool) {
	line := strings.TrimRight(w.cur.String(), " \t")
	w.cur.Reset()
	if line == "" && !force {
		return
	}
	w.lines = append(w.lines, strings.TrimRight(quotePrefix(w.quote)+line, " "))
}

func (w *htmlWriter) paragraph() {
	w.breakLine(false)
	if n := len(w.lines); n > 0 && strings.Trim(w.lines[n-1], "> ") != "" {
		w.lines = append(w.lines, strings.TrimRight(quotePrefix(w.quote), " "))
	}
}

// tidy trims the end of every line, and keeps at most one blank line in a row and
// none at the start or the end.
func tidy(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if strings.TrimSpace(line) == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

var (
	separatorPhrases = map[string]bool{"original message": true, "forwarded message": true, "исходное сообщение": true,
		"пересылаемое сообщение": true, "перенаправленное сообщение": true, "переадресованное сообщение": true,
		"пересланное сообщение": true, "begin forwarded message": true, "начало переадресованного сообщения": true,
		"начало пересылаемого сообщения": true}
	wroteWords   = []string{" wrote", " schrieb", " a écrit", " пишет", " писал", " писала", " написал", " написала", " написал(а)"}
	fromLabels   = []string{"from", "от", "von", "de"}
	sentLabels   = []string{"sent", "date", "отправлено", "дата", "gesendet", "envoyé"}
	maxReplyLine = 400 // a reply header is never longer
)

// quoteLookAhead is how many lines after a line quoteStarts may read.
const quoteLookAhead = 5

// preview is the text without quoted lines, and without everything from a reply or
// forward header or a signature on; at most 2000 characters.
func preview(text string) string {
	// Lines are split off only as far as they are read (and quoteStarts looks ahead):
	// most of a long letter is never read.
	var lines, out []string
	rest, more := text, true
	kept := 0
	for i := 0; ; i++ {
		for more && len(lines) <= i+quoteLookAhead {
			var line string
			line, rest, more = strings.Cut(rest, "\n")
			lines = append(lines, line)
		}
		if i == len(lines) {
			break
		}
		line := lines[i]
		if strings.TrimRight(line, " \t") == "--" || quoteStarts(lines, i) {
			break
		}
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		out = append(out, line)
		if kept += utf8.RuneCountInString(line) + 1; kept > 2*maxPreview {
			break // enough for the preview; the rest need not be read
		}
	}
	s := strings.TrimSpace(tidy(strings.Join(out, "\n")))
	// Cut at maxPreview characters, the last of them an ellipsis.
	n, cut := 0, 0
	for at := range s {
		if n == maxPreview-1 {
			cut = at
		} else if n == maxPreview {
			return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + "…"
		}
		n++
	}
	return s
}

// quoteStarts says whether the quoted or forwarded part of a letter starts at line i:
// a separator ("-----Original Message-----", "Forwarded message"), an attribution
// ("On ... wrote:", "... пишет:", Gmail's and Mail.ru's "date, name <address>:", also
// wrapped onto two lines) or Outlook's header block ("From: ... Sent: ...", "От: ...
// Отправлено: ...", perhaps after a line of underscores).
func quoteStarts(lines []string, i int) bool {
	t := strings.TrimSpace(lines[i])
	if t == "" || len(t) > 2*maxReplyLine {
		return false
	}
	if len(t) <= 80 && separatorPhrases[strings.Trim(strings.ToLower(t), "-_=*:<> ")] {
		return true
	}
	if isAttribution(t) {
		return true
	}
	if i+1 < len(lines) && !strings.HasSuffix(t, ":") { // Gmail wraps a long attribution
		if next := strings.TrimSpace(lines[i+1]); strings.HasSuffix(next, ":") && isAttribution(t+" "+next) {
			return true
		}
	}
	h := headerLine(t)
	if len(h) == 0 {
		return false
	}
	if h[0] == '_' && len(h) >= 10 && strings.Trim(h, "_") == "" {
		for j := i + 1; j < len(lines) && j <= i+2; j++ {
			if label, _ := headerLabel(lines[j]); slices.Contains(fromLabels, label) {
				return true
			}
		}
		return false
	}
	label, value := headerLabel(t)
	if !slices.Contains(fromLabels, label) || value == "" {
		return false
	}
	lowerValue := strings.ToLower(value)
	if strings.Contains(lowerValue, " sent:") || strings.Contains(lowerValue, " отправлено:") {
		return true // Outlook's block run into one line
	}
	for j := i + 1; j < len(lines) && j <= i+quoteLookAhead; j++ {
		if label, _ := headerLabel(lines[j]); slices.Contains(sentLabels, label) {
			return true
		}
	}
	return false
}

// isAttribution recognises "On ... wrote:", "... пишет:" and "date, name <address>:".
func isAttribution(s string) bool {
	if len(s) > maxReplyLine || !strings.HasSuffix(s, ":") {
		return false
	}
	body := strings.TrimRight(strings.TrimSuffix(s, ":"), " ")
	lower := strings.ToLower(body)
	for _, w := range wroteWords {
		if strings.HasSuffix(lower, w) {
			return true
		}
	}
	if !strings.HasSuffix(body, ">") {
		return false
	}
	open := strings.LastIndexByte(body, '<')
	if open < 0 {
		return false
	}
	addr := body[open+1 : len(body)-1]
	return strings.Contains(addr, "@") && !strings.ContainsAny(addr, " \t<") &&
		strings.ContainsFunc(body[:open], unicode.IsDigit)
}

// headerLabel splits "From: Ivan" (or "*From:* Ivan", as a text version of Outlook's
// HTML has it) into the lower-case label and the value; the label is "" when the
// line is not like that.
func headerLabel(line string) (string, string) {
	h := headerLine(line)
	colon := strings.IndexByte(h, ':')
	if colon <= 0 || colon > 20 {
		return "", ""
	}
	return strings.ToLower(strings.TrimSpace(h[:colon])), strings.TrimSpace(h[colon+1:])
}

// headerLine is a line without the bold stars a text version of Outlook's HTML has.
func headerLine(line string) string {
	line = strings.TrimSpace(line)
	if strings.IndexByte(line, '*') < 0 {
		return line
	}
	return strings.TrimSpace(strings.ReplaceAll(line, "*", ""))
}

// ---- small helpers -----------------------------------------------------------------

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
