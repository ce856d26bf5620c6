package imaptest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func TestGenerateLetters(t *testing.T) {
	letters := GenerateLetters(1000, 7)
	again := GenerateLetters(1000, 7)
	dec := &mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(cs, "windows-1251") {
			return charmap.Windows1251.NewDecoder().Reader(r), nil
		}
		return nil, fmt.Errorf("charset %s", cs)
	}}
	ids := map[string]bool{}
	var attachments, cp1251, small int
	for i, raw := range letters {
		if !bytes.Equal(raw, again[i]) {
			t.Fatalf("letter %d differs for the same seed", i)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("letter %d: %v", i, err)
		}
		id := m.Header.Get("Message-ID")
		if id != "<"+MessageID(i, 7, false)+">" || ids[id] {
			t.Fatalf("letter %d: Message-ID %q", i, id)
		}
		ids[id] = true
		subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil || !strings.ContainsAny(subject, "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") {
			t.Fatalf("letter %d: subject %q, %v", i, subject, err)
		}
		from, err := (&mail.AddressParser{WordDecoder: dec}).Parse(m.Header.Get("From"))
		if err != nil || !strings.HasPrefix(from.Address, "p") || !strings.HasSuffix(from.Address, ".ru") || from.Name == "" {
			t.Fatalf("letter %d: From %q: %+v, %v", i, m.Header.Get("From"), from, err)
		}
		if m.Header.Get("To") != "sales@company.ru" {
			t.Fatalf("letter %d: To %q", i, m.Header.Get("To"))
		}
		if _, err := m.Header.Date(); err != nil {
			t.Fatalf("letter %d: %v", i, err)
		}
		ct := m.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "multipart/mixed") {
			attachments++
			if len(raw) < 100<<10 {
				t.Fatalf("letter %d: an attachment letter of %d bytes", i, len(raw))
			}
		} else if len(raw) >= 5<<10 && len(raw) <= 40<<10 {
			small++
		}
		if strings.Contains(ct, "windows-1251") || strings.Contains(string(raw[:min(len(raw), 4096)]), "windows-1251") {
			cp1251++
		}
	}
	if attachments < 70 || attachments > 130 {
		t.Fatalf("%d of 1000 with attachments, want about 100", attachments)
	}
	if cp1251 < 120 || cp1251 > 280 {
		t.Fatalf("%d of 1000 in windows-1251, want about 200", cp1251)
	}
	if small < 850 {
		t.Fatalf("only %d of 1000 plain letters are 5-40 KB", small)
	}
	out := GenerateOutgoing(5, 7)
	m, err := mail.ReadMessage(bytes.NewReader(out[0]))
	if err != nil || !strings.Contains(m.Header.Get("From"), "<sales@company.ru>") || !strings.Contains(m.Header.Get("To"), "@client") {
		t.Fatalf("outgoing: %v %q %q", err, m.Header.Get("From"), m.Header.Get("To"))
	}
}
