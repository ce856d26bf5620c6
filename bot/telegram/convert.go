package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/crm-team/crm/bot"
)

// convert maps what the core understands; anything else is skipped (and still confirmed).
func (t *Transport) convert(u tgbotapi.Update) (bot.Update, bool) {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		m := u.Message
		out := bot.Update{ChatID: m.Chat.ID, User: user(m.From)}
		switch {
		case m.Contact != nil:
			out.Contact = &bot.SharedContact{
				Phone:     m.Contact.PhoneNumber,
				FirstName: m.Contact.FirstName,
				LastName:  m.Contact.LastName,
				UserID:    m.Contact.UserID,
			}
		case m.Document != nil:
			d := m.Document
			out.Text = m.Caption
			out.File = t.file(bot.FileDocument, d.FileID, d.FileUniqueID, d.FileName, d.MimeType, d.FileSize)
		case len(m.Photo) > 0:
			p := m.Photo[0]
			for _, s := range m.Photo[1:] {
				if s.Width*s.Height > p.Width*p.Height {
					p = s
				}
			}
			out.Text = m.Caption
			out.File = t.file(bot.FilePhoto, p.FileID, p.FileUniqueID, "photo.jpg", "image/jpeg", p.FileSize)
		case m.Voice != nil:
			v := m.Voice
			mime := v.MimeType
			if mime == "" {
				mime = "audio/ogg"
			}
			out.Text = m.Caption
			out.File = t.file(bot.FileVoice, v.FileID, v.FileUniqueID, "voice.ogg", mime, v.FileSize)
		case m.Text != "":
			out.Text = m.Text
		default:
			return bot.Update{}, false
		}
		return out, true
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		out := bot.Update{User: user(q.From), Callback: &bot.Callback{ID: q.ID, Data: q.Data}}
		switch {
		case q.Message != nil && q.Message.Chat != nil:
			out.ChatID = q.Message.Chat.ID
			out.Callback.MessageID = q.Message.MessageID
		case q.From != nil: // a button under an inline message: answer in the private chat
			out.ChatID = q.From.ID
		default:
			return bot.Update{}, false
		}
		return out, true
	}
	return bot.Update{}, false
}

func user(u *tgbotapi.User) bot.User {
	if u == nil {
		return bot.User{}
	}
	return bot.User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.UserName, LanguageCode: u.LanguageCode}
}

func (t *Transport) file(kind bot.FileKind, id, uniqueID, name, mime string, size int) *bot.IncomingFile {
	return &bot.IncomingFile{
		Kind: kind, FileID: id, UniqueID: uniqueID, Name: name, MIME: mime, Size: int64(size),
		Fetch: func(ctx context.Context) ([]byte, error) { return t.fetch(ctx, id, int64(size)) },
	}
}

// fetch downloads a file by getFile and its file URL, refusing more than MaxFileSize.
func (t *Transport) fetch(ctx context.Context, fileID string, size int64) ([]byte, error) {
	limit := t.opts.MaxFileSize
	tooLarge := func() error {
		return fmt.Errorf("%w: the limit is %d MB; send a smaller file", ErrFileTooLarge, limit>>20)
	}
	if size > limit {
		return nil, tooLarge()
	}
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	f, err := t.api(ctx).GetFile(tgbotapi.FileConfig{FileID: fileID})
	if err != nil {
		return nil, fmt.Errorf("telegram: getFile: %w", err)
	}
	if int64(f.FileSize) > limit {
		return nil, tooLarge()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.apiURL+"/file/bot"+t.token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", redact(err, t.token))
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", redact(err, t.token))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("telegram: download: HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", redact(err, t.token))
	}
	if int64(len(data)) > limit {
		return nil, tooLarge()
	}
	return data, nil
}
