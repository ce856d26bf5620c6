package bot

import (
	"context"
	"testing"

	"github.com/crm-team/crm/templates"
)

type recordingOutbox struct{ sent []Reply }

func (o *recordingOutbox) Send(_ context.Context, r Reply) error {
	o.sent = append(o.sent, r)
	return nil
}

// Replies and notifications alike leave the bot without empty rows of buttons,
// whichever code built them.
func TestRepliesAndNotificationsDropEmptyRows(t *testing.T) {
	out := &recordingOutbox{}
	b, err := New(nil, Options{Texts: templates.FS, Outbox: out})
	if err != nil {
		t.Fatal(err)
	}
	card := row(btn("card", tapCard.data("c1")))
	kb := [][]Button{nil, card, {}, row(btn("x", tapCancel.data()))}
	if err := b.opts.Outbox.Send(context.Background(), Reply{ChatID: 1, Text: "digest", Buttons: kb}); err != nil {
		t.Fatal(err)
	}
	replies := finish(Update{ChatID: 1}, []Reply{{ChatID: 1, Text: "list", Buttons: kb}, {ChatID: 1, Text: "none", Buttons: [][]Button{{}}}})
	for _, r := range append(out.sent, replies...) {
		want := 2
		if r.Text == "none" {
			want = 0
		}
		if len(r.Buttons) != want {
			t.Fatalf("%q: %d rows %v, want %d", r.Text, len(r.Buttons), r.Buttons, want)
		}
		for _, line := range r.Buttons {
			if len(line) == 0 {
				t.Fatalf("%q: an empty row in %v", r.Text, r.Buttons)
			}
		}
	}
	if len(out.sent) != 1 || len(replies) != 2 {
		t.Fatalf("sent %d, replied %d", len(out.sent), len(replies))
	}
}
