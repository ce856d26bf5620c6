package mail_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crm-team/crm/mail"
)

// FuzzParse checks what Parse promises on any input: it returns a letter with its
// Hash, never panics (not even one it catches itself and notes as a problem), every
// string in the letter is valid UTF-8, the preview stays within 2000 characters, no
// attachment keeps more than the limit, and a second reading gives the same letter.
// Seeded with every letter in testdata.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed letters in testdata: %v", err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	const limit = 1 << 10 // small, so that the fuzzer reaches the not-stored path
	f.Fuzz(func(t *testing.T, raw []byte) {
		l := mail.Parse(raw, mail.ParseOptions{MaxAttachment: limit})
		if l == nil {
			t.Fatal("Parse returned nil")
		}
		if sum := sha256.Sum256(raw); l.Hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("Hash %q is not the SHA-256 of the input", l.Hash)
		}
		for _, p := range l.Problems {
			if strings.Contains(p, "parser stopped") {
				t.Fatalf("Parse panicked inside: %s", p)
			}
		}
		check := func(what, s string) {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		check("MessageID", l.MessageID)
		check("InReplyTo", l.InReplyTo)
		check("Subject", l.Subject)
		check("Text", l.Text)
		check("HTML", l.HTML)
		check("Preview", l.Preview)
		for _, id := range l.References {
			check("References", id)
		}
		for _, a := range append([]mail.Address{l.From}, append(l.To, l.Cc...)...) {
			check("address name", a.Name)
			check("address", a.Email)
		}
		for _, a := range l.Attachments {
			check("attachment name", a.Name)
			check("attachment type", a.MIME)
			if a.Name == "" {
				t.Fatal("an attachment without a name")
			}
			stored := a.Size <= limit && a.NotStored == "" && int64(len(a.Content)) == a.Size
			notStored := a.Size > limit && a.NotStored != "" && a.Content == nil
			if !stored && !notStored {
				t.Fatalf("attachment %q: size %d, %d bytes kept, NotStored %q", a.Name, a.Size, len(a.Content), a.NotStored)
			}
		}
		if b := l.Bounce; b != nil {
			check("bounce status", b.Status)
			check("bounce diagnostic", b.Diagnostic)
			for _, r := range b.Recipients {
				check("bounce recipient", r)
			}
		}
		for _, p := range l.Problems {
			check("problem", p)
		}
		if n := utf8.RuneCountInString(l.Preview); n > 2000 {
			t.Fatalf("Preview has %d characters", n)
		}
		if again := mail.Parse(raw, mail.ParseOptions{MaxAttachment: limit}); !reflect.DeepEqual(l, again) {
			t.Fatalf("two readings differ:\n%+v\n%+v", l, again)
		}
	})
}
