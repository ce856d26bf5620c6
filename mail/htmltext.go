// HTML bodies made readable as text.

package mail

import (
	"strings"

	"golang.org/x/net/html"
)

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
