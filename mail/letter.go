package mail

import "time"

// Address is a mailbox in a header: "Анна Петрова <anna@romashka.ru>".
type Address struct {
	Name  string
	Email string // lower case
}

// Attachment is a file in a letter. Content is kept up to a size limit; a larger
// attachment keeps its name, type and size, and NotStored says why there is no content.
type Attachment struct {
	Name      string
	MIME      string
	Size      int64
	Content   []byte
	NotStored string
}

// Bounce is what a delivery status notification (RFC 3464) says failed.
type Bounce struct {
	Recipients []string // the failed addresses, lower case
	Status     string   // e.g. "5.1.1"
	Action     string   // "failed", "delayed"...
	Diagnostic string
	// Original is the Message-ID of the letter that bounced, from the headers the
	// report returns (a text/rfc822-headers or message/rfc822 part, or the copy
	// quoted in a plain-text bounce); "" when the report returns none.
	Original string
}

// Letter is a parsed e-mail message: what the CRM keeps and shows of it.
type Letter struct {
	MessageID   string // without angle brackets; "" when the letter has none
	InReplyTo   string
	References  []string
	Subject     string
	From        Address
	To          []Address
	Cc          []Address
	Date        time.Time // the Date header, UTC; zero when missing or unreadable
	Text        string    // the body as text: the text part, or the HTML part made readable
	HTML        string    // the HTML part as sent, when there is one
	Preview     string    // Text without quoted replies, forwarded parts and signatures, for the card
	Attachments []Attachment
	// Forwarded are the senders of letters attached whole (message/rfc822 parts).
	Forwarded []Address
	Bounce    *Bounce
	// Hash identifies the letter when it has no Message-ID: SHA-256 of its raw bytes.
	Hash string
	// Problems lists what could not be read (a broken part, an unknown charset); the
	// rest of the letter is still there.
	Problems []string
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// MaxAttachment is the largest attachment whose content is kept (default
	// store.DefaultFileLimit).
	MaxAttachment int64
}
