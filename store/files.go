package store

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// MaxStoredFile is the most content a file document keeps: MongoDB documents stop at
// 16 MB. Larger files are recorded with Telegram's handle only.
const MaxStoredFile = 15 << 20

// DefaultFileLimit is the largest file (sent to the bot, or attached to a letter)
// whose content is kept in the database unless configured otherwise.
const DefaultFileLimit = 10 << 20

// capContent drops content a document cannot hold, saying why.
func capContent(f *File) {
	if len(f.Data) > MaxStoredFile {
		f.Data, f.NotStored = nil, fmt.Sprintf("larger than %d MB", MaxStoredFile>>20)
	}
}

// SaveFile stores a file's record (and its content, when it fits) without listing it
// anywhere: a voice note is saved this way and pointed to by its note.
func (s *Store) SaveFile(ctx context.Context, actor string, f *File) error {
	if f.ClientID == "" {
		return invalidf("a file belongs to a client")
	}
	f.Name, f.Caption = strings.TrimSpace(f.Name), strings.TrimSpace(f.Caption)
	if f.Name == "" {
		f.Name = "file"
	}
	if f.ID == "" {
		f.ID = newID()
	}
	capContent(f)
	if f.Size == 0 {
		f.Size = int64(len(f.Data))
	}
	f.At, f.By = s.now(), actor
	if _, err := s.c(colFiles).InsertOne(ctx, f); err != nil {
		return fmt.Errorf("save file: %w", err)
	}
	return nil
}

// AttachFile saves a file, lists it on its client's card and notes it in the timeline.
func (s *Store) AttachFile(ctx context.Context, actor string, f *File) error {
	if err := s.SaveFile(ctx, actor, f); err != nil {
		return err
	}
	ref := FileRef{ID: f.ID, Name: f.Name, Size: f.Size, At: f.At, By: actor}
	unlock := s.locks.lock(colClients, f.ClientID)
	_, err := s.c(colClients).UpdateOne(ctx, bson.D{{Key: "_id", Value: f.ClientID}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "files", Value: ref}}}})
	unlock()
	if err != nil {
		return fmt.Errorf("list file on the card: %w", err)
	}
	// The history shows the caption with the name: it says what the file is.
	text := f.Name
	if f.Caption != "" {
		text += " — " + f.Caption
	}
	if _, err := s.AppendInteraction(ctx, f.ClientID, Interaction{Kind: InteractionFile, AuthorID: actor, Text: text, FileID: f.ID}); err != nil {
		return err
	}
	return s.Audit(ctx, actor, "file.attach", "client", f.ClientID, map[string]any{"file": f.ID, "name": f.Name, "size": f.Size})
}

// File reads a file with its content.
func (s *Store) File(ctx context.Context, id string) (*File, error) {
	return getOne[File](ctx, s, colFiles, id)
}
