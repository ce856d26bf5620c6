// Attachments: file names, extensions and the size kept.

package mail

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"unicode"

	"github.com/emersion/go-message/textproto"
)

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
