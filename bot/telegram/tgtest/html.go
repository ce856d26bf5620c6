package tgtest

import (
	"html"
	"strings"
	"unicode/utf16"
)

// Tags Telegram's HTML parse mode accepts.
var allowedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true,
}

// checkText rejects what Telegram rejects: an empty or too long text (counted in UTF-16
// units after markup), and, in HTML mode, a stray '<' or unknown or unbalanced tags, the
// usual sign of an unescaped user string.
func checkText(text, parseMode string, limit int) *apiError {
	plain := text
	if strings.EqualFold(parseMode, "HTML") {
		var err *apiError
		if plain, err = parseHTML(text); err != nil {
			return err
		}
	}
	if strings.TrimSpace(plain) == "" {
		return badRequest("message text is empty")
	}
	if len(utf16.Encode([]rune(plain))) > limit {
		return badRequest("message is too long")
	}
	return nil
}

// parseHTML checks the markup and returns the visible text.
func parseHTML(s string) (string, *apiError) {
	var plain strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			plain.WriteString(html.UnescapeString(s[i:]))
			break
		}
		plain.WriteString(html.UnescapeString(s[i : i+lt]))
		i += lt
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			return "", badRequest("can't parse entities: Unclosed start tag at byte offset %d", i)
		}
		tag := s[i+1 : i+gt]
		closing := strings.HasPrefix(tag, "/")
		name := strings.TrimPrefix(tag, "/")
		if n := strings.IndexAny(name, " \t\n"); n >= 0 {
			name = name[:n]
		}
		name = strings.ToLower(name)
		if !allowedTags[name] {
			return "", badRequest("can't parse entities: Unsupported start tag %q at byte offset %d", name, i)
		}
		if closing {
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return "", badRequest("can't parse entities: Can't find end tag corresponding to start tag %q", name)
			}
			stack = stack[:len(stack)-1]
		} else {
			stack = append(stack, name)
		}
		i += gt + 1
	}
	if len(stack) > 0 {
		return "", badRequest("can't parse entities: Can't find end tag corresponding to start tag %q", stack[len(stack)-1])
	}
	return plain.String(), nil
}
