// The MIME tree: multiparts, header parameters, transfer encodings and body parts.

package mail

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

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
	if (ct == "message/rfc822" || ct == "message/global") && !w.report {
		p.attachedFrom(h, body)
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
