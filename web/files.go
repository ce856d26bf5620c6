package web

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/crm-team/crm/store"
)

// file sends an attached file as a download, as the bot's file taps do: a client's
// file to whoever sees the client, a letter's to whoever may read the letter
// (store.LetterFor); any other is "not found".
func (h *Handler) file(w http.ResponseWriter, r *http.Request, v *visit) {
	f, err := h.st.File(r.Context(), r.PathValue("id"))
	if err == nil {
		err = h.mayOpenFile(r, v, f)
	}
	if errors.Is(err, store.ErrNotFound) {
		h.message(w, r, v, http.StatusNotFound, "refused.notfound")
		return
	}
	if err != nil {
		h.fail(w, r, v, "read a file", err)
		return
	}
	if len(f.Data) == 0 {
		h.message(w, r, v, http.StatusNotFound, "file.notkept")
		return
	}
	hd := w.Header()
	// Always a download, never shown in the workspace's origin: an HTML or SVG file
	// opened here could run script as the signed-in manager.
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	hd.Set("Content-Length", strconv.Itoa(len(f.Data)))
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Security-Policy", "sandbox")
	_, _ = w.Write(f.Data)
}

// mayOpenFile is nil when the viewer may open the file, else ErrNotFound.
func (h *Handler) mayOpenFile(r *http.Request, v *visit, f *store.File) error {
	if f.ClientID != "" {
		c, err := h.st.Client(r.Context(), f.ClientID)
		if err != nil {
			return err
		}
		if v.viewer().CanSee(c) {
			return nil
		}
		return store.ErrNotFound
	}
	if f.LetterID != "" {
		_, err := h.st.LetterFor(r.Context(), v.viewer(), f.LetterID)
		return err
	}
	return store.ErrNotFound
}
