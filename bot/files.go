package bot

import (
	"context"
	"errors"
	"strings"

	"github.com/crm-team/crm/store"
)

// onFile attaches a document or photo to the open card; a voice message is a note (of
// the call or note being logged, or of the open card).
func (t *turn) onFile(f *IncomingFile) {
	d := t.s.dialog
	if f.Kind == FileVoice && d != nil && (d.kind == dialogCall || d.kind == dialogNote) {
		// The client may have gone to another manager since the dialog began: checked
		// before the file is stored for it.
		if t.editable(d.clientID) == nil {
			t.s.dialog = nil
			return
		}
		id := t.saveFileContent(d.clientID, f, false)
		if id == "" {
			return
		}
		d.voiceID = id
		if d.kind == dialogNote {
			t.saveNote(d, strings.TrimSpace(t.u.Text))
			return
		}
		t.callText(d, strings.TrimSpace(t.u.Text))
		return
	}
	if t.s.cardID == "" || t.now.Sub(t.s.cardAt) > t.opts.IdleDialog {
		t.say(t.tr("file.no_card"))
		return
	}
	c := t.editable(t.s.cardID)
	if c == nil {
		return
	}
	if f.Kind == FileVoice {
		t.s.dialog = &dialog{kind: dialogNote, clientID: c.ID}
		t.onFile(f)
		return
	}
	if t.saveFileContent(c.ID, f, true) == "" {
		return
	}
	t.say(t.tr("file.attached", "file", f.Name, "name", c.Name), row(btn(t.tr("btn.card"), tapCard.data(c.ID))))
}

// saveFileContent stores a file for a client, with its content when it is small enough,
// and returns its ID ("" after telling the manager what failed).
func (t *turn) saveFileContent(clientID string, f *IncomingFile, attach bool) string {
	rec := &store.File{ClientID: clientID, Name: f.Name, MIME: f.MIME, Size: f.Size, Kind: string(f.Kind),
		Caption: t.u.Text, TelegramFileID: f.FileID, TelegramUniqueID: f.UniqueID}
	if rec.Name == "" {
		rec.Name = defaultFileName(f)
		f.Name = rec.Name
	}
	switch {
	case f.Fetch == nil:
		rec.NotStored = "the chat does not give the content"
	case f.Size > t.opts.FileLimit:
		rec.NotStored = "larger than the limit; kept by Telegram"
	default:
		content, err := f.Fetch(t.ctx)
		if err != nil {
			// Telegram still has it: keep the handle, say why the copy is missing.
			t.log.Warn("download file", "manager", t.m.ID, "err", err)
			rec.NotStored = "download failed: " + err.Error()
		} else if int64(len(content)) <= t.opts.FileLimit {
			rec.Data, rec.Size = content, int64(len(content))
		} else {
			rec.NotStored = "larger than the limit; kept by Telegram"
		}
	}
	save := t.st.SaveFile
	if attach {
		save = t.st.AttachFile
	}
	if err := save(t.ctx, t.m.ID, rec); err != nil {
		t.fail("save file", err)
		return ""
	}
	return rec.ID
}

func defaultFileName(f *IncomingFile) string {
	switch f.Kind {
	case FilePhoto:
		return "photo.jpg"
	case FileVoice:
		return "voice.ogg"
	}
	return "file"
}

const tapFile tap = "f" // f:<file>

// sendFile sends an attached file back, by Telegram's handle first and the stored copy
// when the handle no longer works.
func (t *turn) sendFile(id string) {
	f, err := t.st.File(t.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.fail("read file", err)
		return
	}
	if err != nil || t.client(f.ClientID) == nil {
		if err != nil {
			t.notice(t.tr("client.none"))
		}
		return
	}
	doc := &Document{Name: f.Name, MIME: f.MIME, FileID: f.TelegramFileID}
	if len(f.Data) > 0 {
		content := f.Data
		doc.Load = func(context.Context) ([]byte, error) { return content, nil }
	}
	if doc.FileID == "" && doc.Load == nil {
		t.notice(t.tr("file.gone"))
		return
	}
	t.out = append(t.out, Reply{ChatID: t.u.ChatID, Document: doc})
}

// onSharedContact opens the client with that phone, or offers to create one.
func (t *turn) onSharedContact(sc *SharedContact) {
	phone, err := t.st.Phones().Normalize(sc.Phone)
	if err != nil {
		t.say(t.tr("bad.phone", "v", sc.Phone))
		return
	}
	hit, err := t.st.FindByPhone(t.ctx, phone)
	switch {
	case errors.Is(err, store.ErrNotFound):
		name := strings.TrimSpace(sc.FirstName + " " + sc.LastName)
		t.s.dialog = &dialog{kind: dialogShared, form: &form{contact: store.Contact{Name: name, Phones: []string{phone}}}}
		t.say(t.tr("shared.unknown", "name", name, "phone", safe(t.phone(phone))),
			row(btn(t.tr("btn.new"), tapNewFromShared.data()), btn(t.tr("btn.cancel"), tapCancel.data())))
	case err != nil:
		t.fail("find by phone", err)
	case !t.viewer().CanSee(hit.Client):
		t.say(t.whose(hit.Client.Name, hit.Client.ManagerID))
	default:
		t.showCard(hit.Client)
	}
}

const tapNewFromShared tap = "nc"

func (t *turn) newFromShared() {
	d := t.s.dialog
	if d == nil || d.kind != dialogShared {
		t.notice(t.tr("dialog.over"))
		return
	}
	seed := d.form.contact
	t.startNewClient(&seed)
}
