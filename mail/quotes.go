// The preview: a letter's text without its quotes, reply headers and signature.

package mail

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
