package bot

import "context"

// Update is one thing a person did in the chat, as every transport delivers it.
// Exactly one of Text (alone), Callback, Contact or File is the point of the update;
// a file may carry its caption in Text.
type Update struct {
	ChatID   int64
	User     User
	Text     string
	Callback *Callback
	Contact  *SharedContact
	File     *IncomingFile
}

// User is who sent an update, as the messenger knows them.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string // the app's language ("ru", "en-US"), picks the bot's texts at first
}

// Callback is a tap on an inline button.
type Callback struct {
	ID        string // answered by a Reply with CallbackID set
	Data      string // the button's data, at most 64 bytes; never trusted
	MessageID int    // the message that holds the button, edited in place
}

// SharedContact is a contact shared from the phone's address book.
type SharedContact struct {
	Phone     string
	FirstName string
	LastName  string
	UserID    int64 // the contact's own Telegram user, when they have one
}

// FileKind tells what a manager sent.
type FileKind string

// File kinds.
const (
	FileDocument FileKind = "document"
	FilePhoto    FileKind = "photo"
	FileVoice    FileKind = "voice"
)

// IncomingFile is a document, photo or voice message.
type IncomingFile struct {
	Kind     FileKind
	FileID   string // the messenger's handle, good for sending the file back
	UniqueID string // stable across bots
	Name     string
	MIME     string
	Size     int64
	// Fetch downloads the content; nil when the transport cannot (the terminal).
	Fetch func(ctx context.Context) ([]byte, error)
}

// Reply is one thing the bot says back. A transport answers the callback first (when
// CallbackID is set), then sends or edits the text, then sends the picture, then the
// document. With a picture, a new text short enough for a caption (1,024 characters)
// is sent as the picture's caption, and the buttons go under the picture.
type Reply struct {
	ChatID        int64
	Text          string     // HTML: every user-supplied string in it is escaped
	Buttons       [][]Button // an inline keyboard under the text
	EditMessageID int        // not 0: replace that message's text and buttons
	CallbackID    string     // not "": answer that button tap
	Notice        string     // a short pop-up with the callback answer (plain text)
	Photo         *Photo
	Document      *Document
}

// Photo is a picture the bot drew (a report's chart), sent as a photo.
type Photo struct {
	Name string // "funnel.png"
	PNG  []byte
}

// Button is an inline button: it sends Data back as a Callback, or opens URL.
type Button struct {
	Text string
	Data string
	URL  string
}

// Document is a file sent to the chat.
type Document struct {
	Name   string
	MIME   string
	FileID string // tried first: Telegram keeps the file
	// Load reads the stored copy, for when FileID no longer works (a new bot token);
	// nil when there is none.
	Load func(ctx context.Context) ([]byte, error)
}

// Command is an entry of the chat's command menu.
type Command struct {
	Name        string // without the slash
	Description string
}
