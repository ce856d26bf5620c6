package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // every charset Russian mail uses
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/charmap"
)

// Parse reads a raw letter. It never fails: what cannot be read is listed in
// Problems, and the rest is kept.
func Parse(raw []byte, opts ParseOptions) (l *Letter) {
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = 10 << 20
	}
	sum := sha256.Sum256(raw)
	l = &Letter{Hash: hex.EncodeToString(sum[:])}
	defer func() {
		if r := recover(); r != nil {
			l.Problems = append(l.Problems, fmt.Sprintf("the parser stopped: %v", r))
		}
		l.Subject, l.Text, l.Preview = validUTF8(l.Subject), validUTF8(l.Text), validUTF8(l.Preview)
	}()
	if len(raw) == 0 {
		l.Problems = append(l.Problems, "the letter is empty")
		return l
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		l.Problems = append(l.Problems, "unreadable header: "+err.Error())
		return l
	}
	if err != nil {
		l.Problems = append(l.Problems, err.Error())
	}
	p := &parser{l: l, opts: opts}
	p.headers(gomail.Header{Header: e.Header})
	p.walk(e, 0)
	if l.Text == "" && l.HTML != "" {
		l.Text = htmlText(l.HTML)
	}
	l.Preview = preview(l.Text)
	return l
}

type parser struct {
	l    *Letter
	opts ParseOptions
}

func (p *parser) problem(format string, args ...any) {
	if len(p.l.Problems) < 20 {
		p.l.Problems = append(p.l.Problems, fmt.Sprintf(format, args...))
	}
}

func (p *parser) headers(h gomail.Header) {
	l := p.l
	if id, err := h.MessageID(); err == nil {
		l.MessageID = id
	} else if v := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"); v != "" {
		l.MessageID = v
	}
	if ids, err := h.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		l.InReplyTo = ids[0]
	}
	if ids, err := h.MsgIDList("References"); err == nil {
		l.References = ids
	}
	if s, err := h.Subject(); err == nil {
		l.Subject = s
	} else {
		l.Subject = h.Get("Subject")
		p.problem("subject: %v", err)
	}
	if d, err := h.Date(); err == nil {
		l.Date = d.UTC()
	}
	addrs := func(key string) []Address {
		list, err := h.AddressList(key)
		if err != nil {
			p.problem("%s: %v", key, err)
			return looseAddresses(h.Get(key))
		}
		var out []Address
		for _, a := range list {
			out = append(out, Address{Name: a.Name, Email: strings.ToLower(a.Address)})
		}
		return out
	}
	if from := addrs("From"); len(from) > 0 {
		l.From = from[0]
	}
	l.To, l.Cc = addrs("To"), addrs("Cc")
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// looseAddresses finds addresses in a header the strict parser refused.
func looseAddresses(v string) []Address {
	var out []Address
	for _, m := range emailRE.FindAllString(v, -1) {
		out = append(out, Address{Email: strings.ToLower(m)})
	}
	return out
}

// walk visits the parts: the first text and HTML parts are the body, a delivery
// report is a bounce, everything else is an attachment.
func (p *parser) walk(e *message.Entity, depth int) {
	if depth > 20 {
		p.problem("parts nested too deep")
		return
	}
	ct, params, _ := e.Header.ContentType()
	if ct == "" {
		ct = "text/plain"
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if part == nil {
				p.problem("a broken part: %v", err)
				break
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				p.problem("part: %v", err)
			}
			p.walk(part, depth+1)
		}
		if ct == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") && p.l.Bounce == nil {
			p.l.Bounce = &Bounce{}
		}
		return
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWord(name)
	switch {
	case ct == "message/delivery-status":
		p.bounce(e.Body)
	case strings.HasPrefix(ct, "text/") && disp != "attachment" && name == "" && (ct == "text/plain" || ct == "text/html"):
		body, err := io.ReadAll(io.LimitReader(e.Body, 4<<20))
		if err != nil {
			p.problem("%s: %v", ct, err)
		}
		text := string(body)
		if !utf8.ValidString(text) {
			// An unknown or wrong charset: Russian mail is most likely windows-1251.
			if dec, err := charmap.Windows1251.NewDecoder().String(text); err == nil {
				text = dec
			}
		}
		if ct == "text/html" && p.l.HTML == "" {
			p.l.HTML = text
		} else if ct == "text/plain" && p.l.Text == "" {
			p.l.Text = strings.ReplaceAll(text, "\r\n", "\n")
		}
	default:
		p.attachment(e.Body, ct, name)
	}
}

func (p *parser) attachment(body io.Reader, ct, name string) {
	if name == "" {
		ext := ""
		if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
			ext = exts[0]
		}
		name = fmt.Sprintf("attachment-%d%s", len(p.l.Attachments)+1, ext)
	}
	a := Attachment{Name: validUTF8(name), MIME: ct}
	// Keep at most the limit in memory; count the rest without holding it.
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(body, p.opts.MaxAttachment+1))
	if err == nil && n > p.opts.MaxAttachment {
		var rest int64
		rest, err = io.Copy(io.Discard, body)
		n += rest
	}
	if err != nil {
		p.problem("attachment %q: %v", name, err)
	}
	a.Size = n
	if n > p.opts.MaxAttachment {
		a.NotStored = fmt.Sprintf("larger than %d MB", p.opts.MaxAttachment>>20)
	} else {
		a.Content = buf.Bytes()
	}
	p.l.Attachments = append(p.l.Attachments, a)
}

// bounce reads an RFC 3464 delivery-status part.
func (p *parser) bounce(body io.Reader) {
	b := p.l.Bounce
	if b == nil {
		b = &Bounce{}
		p.l.Bounce = b
	}
	sc := bufio.NewScanner(io.LimitReader(body, 1<<20))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "final-recipient", "original-recipient":
			if _, addr, ok := strings.Cut(v, ";"); ok {
				v = addr
			}
			v = strings.ToLower(strings.Trim(strings.TrimSpace(v), "<>"))
			if v != "" && !contains(b.Recipients, v) {
				b.Recipients = append(b.Recipients, v)
			}
		case "action":
			b.Action = strings.ToLower(v)
		case "status":
			b.Status = v
		case "diagnostic-code":
			b.Diagnostic = v
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func decodeWord(s string) string {
	if s == "" {
		return s
	}
	if d, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// htmlText makes an HTML body readable as text.
func htmlText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " ") + " ")
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote":
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip = max(skip-1, 0)
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table":
				b.WriteString("\n")
			}
		}
	}
}

// tidy trims every line and keeps at most one blank line in a row.
func tidy(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// replyHeader starts the quoted part of a reply or a forwarded letter.
var replyHeader = regexp.MustCompile(`(?i)^(on .+ wrote:|.+ (пишет|написал|написала):|-+ ?original message ?-+|-+ ?исходное сообщение ?-+|-+ ?(пересылаемое|forwarded) (сообщение|message) ?-+|from: .+|от: .+)\s*$`)

// preview is the text without quotes, forwarded parts and the signature.
func preview(text string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "--" || replyHeader.MatchString(t) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, line)
	}
	p := tidy(strings.Join(out, "\n"))
	if r := []rune(p); len(r) > 2000 {
		p = string(r[:2000]) + "…"
	}
	return p
}
