// Charsets: the names Russian mail uses, decoding, and a guess when the name is wrong.

package mail

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // registers every charset Russian mail uses
	"golang.org/x/text/encoding/charmap"
)

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
