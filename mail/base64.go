// Base64 decoded leniently, as RFC 2045 asks.

package mail

import (
	"bytes"
	"encoding/base64"
	"io"
)

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
