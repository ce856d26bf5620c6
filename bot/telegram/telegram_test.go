package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/bot/telegram"
	"github.com/crm-team/crm/bot/telegram/tgtest"
)

const wait = 10 * time.Second // generous: only how long a test waits before failing

// logBuf collects the transport's log, to check that the token never appears in it.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// echo is a tiny core: it answers every update so the test can see it arrived.
type echo struct {
	mu  sync.Mutex
	got []bot.Update
	// hook, when set, runs first; replies it returns replace the echo.
	hook func(ctx context.Context, u bot.Update) ([]bot.Reply, bool)
}

func (e *echo) Handle(ctx context.Context, u bot.Update) []bot.Reply {
	e.mu.Lock()
	e.got = append(e.got, u)
	hook := e.hook
	e.mu.Unlock()
	if hook != nil {
		if r, ok := hook(ctx, u); ok {
			return r
		}
	}
	switch {
	case u.Callback != nil:
		return []bot.Reply{{CallbackID: u.Callback.ID, Notice: "ok", ChatID: u.ChatID,
			EditMessageID: u.Callback.MessageID, Text: "tapped " + html.EscapeString(u.Callback.Data)}}
	case u.Contact != nil:
		return []bot.Reply{{Text: "contact " + u.Contact.Phone + " " + u.Contact.FirstName}}
	case u.File != nil:
		data, err := u.File.Fetch(ctx)
		if err != nil {
			if errors.Is(err, telegram.ErrFileTooLarge) {
				return []bot.Reply{{Text: "too large"}}
			}
			return []bot.Reply{{Text: "fetch failed: " + html.EscapeString(err.Error())}}
		}
		return []bot.Reply{{Text: html.EscapeString(fmt.Sprintf("file %s %s %s %q caption %q", u.File.Kind, u.File.Name, u.File.MIME, data, u.Text))}}
	default:
		return []bot.Reply{{Text: "echo: " + html.EscapeString(u.Text), Buttons: [][]bot.Button{{{Text: "again", Data: "again"}, {Text: "site", URL: "https://example.com"}}}}}
	}
}

func (e *echo) Commands(lang string) []bot.Command {
	return []bot.Command{{Name: "start", Description: "start " + lang}, {Name: "help", Description: "help " + lang}}
}

func (e *echo) updates() []bot.Update {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// eventually polls cond for a while; for the transport's side, which the server cannot signal.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

type env struct {
	srv *tgtest.Server
	log *logBuf
}

func newEnv(t *testing.T) *env {
	e := &env{srv: tgtest.New(t), log: &logBuf{}}
	t.Cleanup(func() {
		if strings.Contains(e.log.String(), tgtest.Token) {
			t.Errorf("the token leaked into the log:\n%s", e.log.String())
		}
	})
	return e
}

// transport makes a fast transport (no rate limits unless opts says otherwise).
func (e *env) transport(t *testing.T, opts telegram.Options) *telegram.Transport {
	t.Helper()
	opts.APIURL = e.srv.URL()
	opts.PollTimeout = time.Second
	if opts.GlobalRate == 0 {
		opts.GlobalRate = rate.Inf
	}
	if opts.PerChatRate == 0 {
		opts.PerChatRate = rate.Inf
	}
	opts.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr, err := telegram.New(tgtest.Token, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// run starts tr and returns a stop that cancels it and waits for Run to return.
func run(t *testing.T, tr *telegram.Transport, h telegram.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestPollingDeliversEveryKind(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	srv.SetUser(tgtest.User{ID: 7, FirstName: "Anna", Username: "anna", LanguageCode: "en"})
	tr := e.transport(t, telegram.Options{})
	if tr.Username() != tgtest.BotUsername {
		t.Errorf("Username = %q", tr.Username())
	}
	h := &echo{}
	run(t, tr, h)

	srv.SendText(7, "hello <b>")
	m := srv.Next(7, wait)
	if m.Method != "sendMessage" || m.Text != "echo: hello &lt;b&gt;" || m.ParseMode != "HTML" || !m.NoPreview {
		t.Errorf("text reply = %+v", m)
	}
	if b, _ := m.Button("site"); b.URL != "https://example.com" || m.ButtonData("again") != "again" {
		t.Errorf("buttons = %+v", m.Buttons)
	}
	u := h.updates()[0]
	if u.ChatID != 7 || u.User.ID != 7 || u.User.FirstName != "Anna" || u.User.Username != "anna" || u.User.LanguageCode != "en" {
		t.Errorf("update = %+v", u)
	}

	cb := srv.TapButton(m, "again")
	if a := srv.Answer(cb, wait); a.Text != "ok" {
		t.Errorf("callback answer = %+v", a)
	}
	ed := srv.Next(7, wait)
	if ed.Method != "editMessageText" || ed.MessageID != m.MessageID || ed.Text != "tapped again" {
		t.Errorf("edit = %+v", ed)
	}
	if got := h.updates()[1].Callback; got == nil || got.ID != cb || got.Data != "again" || got.MessageID != m.MessageID {
		t.Errorf("callback update = %+v", got)
	}

	srv.ShareContact(7, tgtest.Contact{Phone: "+79001234567", FirstName: "Ivan", UserID: 42})
	if m := srv.Next(7, wait); m.Text != "contact +79001234567 Ivan" {
		t.Errorf("contact reply = %q", m.Text)
	}
	if c := h.updates()[2].Contact; c == nil || c.UserID != 42 {
		t.Errorf("contact = %+v", c)
	}

	srv.SendDocument(7, "offer.txt", "text/plain", []byte("the offer"), "for Ivan")
	if m := srv.Next(7, wait); m.Text != html.EscapeString(`file document offer.txt text/plain "the offer" caption "for Ivan"`) {
		t.Errorf("document reply = %q", m.Text)
	}
	srv.SendVoice(7, []byte("OggS voice"), 3)
	if m := srv.Next(7, wait); m.Text != html.EscapeString(`file voice voice.ogg audio/ogg "OggS voice" caption ""`) {
		t.Errorf("voice reply = %q", m.Text)
	}
	srv.SendPhoto(7, []byte("a large jpeg"), "")
	if m := srv.Next(7, wait); m.Text != html.EscapeString(`file photo photo.jpg image/jpeg "a large jpeg" caption ""`) {
		t.Errorf("photo reply = %q", m.Text)
	}

	// Kinds the core does not take are skipped and still confirmed.
	n := len(h.updates())
	id := srv.PushRaw("edited_message", map[string]any{"message_id": 1, "date": 1, "chat": map[string]any{"id": 7, "type": "private"}, "text": "x"})
	srv.PushRaw("message", map[string]any{"message_id": 2, "date": 1, "chat": map[string]any{"id": 7, "type": "private"}, "sticker": map[string]any{"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": false, "is_video": false, "type": "regular"}})
	srv.SendText(7, "after")
	if m := srv.Next(7, wait); m.Text != "echo: after" {
		t.Errorf("after skipped updates: %q", m.Text)
	}
	if got := len(h.updates()); got != n+1 {
		t.Errorf("handler got %d updates, want %d", got, n+1)
	}
	if !srv.Await(wait, func() bool { return srv.Offset() > id+2 }) {
		t.Errorf("offset %d does not confirm update %d", srv.Offset(), id+2)
	}
	if st := tr.Stats(); st.Failed != 0 || st.Updates != int64(n+1) {
		t.Errorf("stats = %+v", st)
	}
}

func TestFetchRefusesLargeFiles(t *testing.T) {
	e := newEnv(t)
	tr := e.transport(t, telegram.Options{MaxFileSize: 8})
	run(t, tr, &echo{})
	e.srv.SendDocument(3, "big.bin", "application/octet-stream", []byte("more than eight bytes"), "")
	if m := e.srv.Next(3, wait); m.Text != "too large" {
		t.Errorf("reply = %q", m.Text)
	}
	e.srv.SendDocument(3, "ok.bin", "application/octet-stream", []byte("eight b."), "")
	if m := e.srv.Next(3, wait); !strings.Contains(m.Text, "eight b.") {
		t.Errorf("reply = %q", m.Text)
	}
}

// blocker is a core whose handler waits for release (or ctx) on the text "block".
func blocker(started chan<- bot.Update, release <-chan struct{}) *echo {
	return &echo{hook: func(ctx context.Context, u bot.Update) ([]bot.Reply, bool) {
		if u.Text != "block" {
			return nil, false
		}
		started <- u
		select {
		case <-release:
			return []bot.Reply{{Text: "released"}}, true
		case <-ctx.Done():
			return nil, true
		}
	}}
}

func TestOffsetConfirmedOnlyAfterHandling(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	started, release := make(chan bot.Update, 1), make(chan struct{})
	run(t, e.transport(t, telegram.Options{}), blocker(started, release))

	srv.SendText(1, "block")
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("handler not called")
	}
	if srv.Pending() != 1 || srv.Offset() != 0 {
		t.Errorf("while handling: pending %d, offset %d; want the update unconfirmed", srv.Pending(), srv.Offset())
	}
	close(release)
	if m := srv.Next(1, wait); m.Text != "released" {
		t.Errorf("reply = %q", m.Text)
	}
	if !srv.Await(wait, func() bool { return srv.Pending() == 0 && srv.Offset() > 0 }) {
		t.Errorf("after handling: pending %d, offset %d", srv.Pending(), srv.Offset())
	}
}

func TestUnhandledUpdateRedeliveredAfterRestart(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	started := make(chan bot.Update, 1)
	srv.SendText(1, "block")
	srv.SendText(2, "other chat") // in the same batch
	stop := run(t, e.transport(t, telegram.Options{}), blocker(started, nil))
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("handler not called")
	}
	srv.Next(2, wait) // the other chat was handled meanwhile, but the batch is not confirmed
	stop()
	if srv.Pending() != 2 {
		t.Fatalf("pending after stop = %d, want 2", srv.Pending())
	}

	h := &echo{}
	run(t, e.transport(t, telegram.Options{}), h)
	if m := srv.Next(1, wait); m.Text != "echo: block" {
		t.Errorf("redelivered reply = %q", m.Text)
	}
	if m := srv.Next(2, wait); m.Text != "echo: other chat" {
		t.Errorf("redelivered reply = %q", m.Text)
	}
}

func TestChatsConcurrentEachInOrder(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	chat2 := make(chan struct{})
	var once sync.Once
	h := &echo{hook: func(ctx context.Context, u bot.Update) ([]bot.Reply, bool) {
		switch u.Text {
		case "wait for chat 2": // deadlocks unless chat 2 runs meanwhile
			select {
			case <-chat2:
			case <-ctx.Done():
			}
		case "go":
			once.Do(func() { close(chat2) })
		}
		return nil, false
	}}
	const n = 30
	srv.SendText(1, "wait for chat 2")
	srv.SendText(2, "go")
	for i := range n {
		srv.SendText(1, fmt.Sprint(i))
		srv.SendText(2, fmt.Sprint(i))
	}
	run(t, e.transport(t, telegram.Options{}), h)
	for _, chat := range []int64{1, 2} {
		want := []string{"echo: wait for chat 2"}
		if chat == 2 {
			want = []string{"echo: go"}
		}
		for i := range n {
			want = append(want, fmt.Sprintf("echo: %d", i))
		}
		var got []string
		for range want {
			got = append(got, srv.Next(chat, wait).Text)
		}
		if !slices.Equal(got, want) {
			t.Errorf("chat %d got %q", chat, got)
		}
	}
	var seen []string
	for _, u := range h.updates() {
		if u.ChatID == 1 {
			seen = append(seen, u.Text)
		}
	}
	if len(seen) != n+1 || seen[0] != "wait for chat 2" || seen[n] != fmt.Sprint(n-1) {
		t.Errorf("chat 1 handled out of order: %q", seen)
	}
}

func TestSlowChatDoesNotHoldOthers(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	h := &echo{hook: func(ctx context.Context, u bot.Update) ([]bot.Reply, bool) {
		if u.Text == "two" {
			return []bot.Reply{{Text: "first"}, {Text: "second"}}, true
		}
		return nil, false
	}}
	// One message per 100 s in a chat: chat 1's second message waits its turn.
	run(t, e.transport(t, telegram.Options{PerChatRate: 0.01, GlobalRate: 30}), h)
	srv.SendText(1, "two")
	if m := srv.Next(1, wait); m.Text != "first" {
		t.Fatalf("first = %q", m.Text)
	}
	srv.SendText(2, "hi")
	if m := srv.Next(2, wait); m.Text != "echo: hi" {
		t.Errorf("chat 2 = %q", m.Text)
	}
	if got := len(srv.Sent(1)); got != 1 {
		t.Errorf("chat 1 has %d messages; its second should still wait for its turn", got)
	}
}

func TestStormOf429LosesNothing(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	const chats, per = 10, 4
	// Ten chats send at once, so the 20 failures come in a couple of rounds of
	// retry_after = 1 s, not twenty.
	srv.Fail429(20, 1)
	for i := range per {
		for c := int64(1); c <= chats; c++ {
			srv.SendText(c, fmt.Sprint(i))
		}
	}
	tr := e.transport(t, telegram.Options{})
	run(t, tr, &echo{})
	for c := int64(1); c <= chats; c++ {
		for i := range per {
			if m := srv.Next(c, 3*wait); m.Text != fmt.Sprintf("echo: %d", i) {
				t.Errorf("chat %d message %d = %q", c, i, m.Text)
			}
		}
	}
	if srv.Failures() != 20 {
		t.Errorf("server served %d 429s", srv.Failures())
	}
	eventually(func() bool { return tr.Stats().Sent == chats*per }) // counted after the response
	if st := tr.Stats(); st.Retries429 != 20 || st.Failed != 0 || st.Sent != chats*per {
		t.Errorf("stats = %+v", st)
	}
	if got := srv.Count("sendMessage"); got != chats*per {
		t.Errorf("sendMessage count = %d, want %d (no duplicates)", got, chats*per)
	}
}

func TestSend(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	tr := e.transport(t, telegram.Options{})
	ctx := context.Background()

	// Send works without Run (a reminder job, say), and through a 429.
	srv.Fail429(1, 1)
	buttons := [][]bot.Button{{{Text: "Done", Data: "t:1:done"}}}
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: "<b>Call Ivan</b>", Buttons: buttons}); err != nil {
		t.Fatal(err)
	}
	m := srv.Next(5, wait)
	if m.Text != "<b>Call Ivan</b>" || m.ButtonData("Done") != "t:1:done" {
		t.Errorf("sent %+v", m)
	}

	// An edit to the same text and buttons is "message is not modified": success.
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, EditMessageID: m.MessageID, Text: "<b>Call Ivan</b>", Buttons: buttons}); err != nil {
		t.Errorf("unchanged edit: %v", err)
	}
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, EditMessageID: m.MessageID, Text: "done"}); err != nil {
		t.Errorf("edit: %v", err)
	}
	if ed := srv.Next(5, wait); ed.Method != "editMessageText" || ed.Text != "done" || len(ed.Buttons) != 0 {
		t.Errorf("edit = %+v", ed)
	}
	if n := srv.Count("editMessageText"); n != 1 {
		t.Errorf("%d edits accepted, want 1 (the other was not modified)", n)
	}

	// Permanent errors come back and are not retried.
	srv.Block(9)
	err := tr.Send(ctx, bot.Reply{ChatID: 9, Text: "hello"})
	if !telegram.Blocked(err) {
		t.Errorf("to a blocked chat: %v", err)
	}
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: "<b>unclosed"}); err == nil || telegram.Blocked(err) {
		t.Errorf("bad HTML: %v", err)
	}
	if st := tr.Stats(); st.Failed != 2 || st.Retries429 != 1 {
		t.Errorf("stats = %+v", st)
	}

	// A Send whose context ends while waiting for its turn returns the context's error.
	slow := e.transport(t, telegram.Options{PerChatRate: 0.01})
	if err := slow.Send(ctx, bot.Reply{ChatID: 6, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := slow.Send(short, bot.Reply{ChatID: 6, Text: "two"}); err == nil {
		t.Errorf("Send past its deadline succeeded")
	}
}

// flaky fails the first sendMessage requests as a network error would.
type flaky struct {
	mu    sync.Mutex
	fails int
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.fails > 0 && strings.HasSuffix(r.URL.Path, "/sendMessage")
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestNetworkErrorRetried(t *testing.T) {
	e := newEnv(t)
	tr := e.transport(t, telegram.Options{HTTPClient: &http.Client{Transport: &flaky{fails: 1}}})
	if err := tr.Send(context.Background(), bot.Reply{ChatID: 5, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if m := e.srv.Next(5, wait); m.Text != "hello" {
		t.Errorf("sent %q", m.Text)
	}
	if n := e.srv.Count("sendMessage"); n != 1 {
		t.Errorf("sent %d times", n)
	}
	// The error names the URL, with the token replaced (newEnv checks it is absent).
	if log := e.log.String(); !strings.Contains(log, "connection reset") || !strings.Contains(log, "<token>") {
		t.Errorf("log:\n%s", log)
	}
}

func TestDocumentFallsBackToUpload(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	tr := e.transport(t, telegram.Options{})
	ctx := context.Background()
	content := []byte("%PDF-1.4 offer")
	load := func(context.Context) ([]byte, error) { return content, nil }

	good := srv.AddFile("offer.pdf", "application/pdf", content)
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Document: &bot.Document{Name: "offer.pdf", FileID: good, Load: load}}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Next(5, wait); m.Method != "sendDocument" || m.Uploaded || m.FileID != good {
		t.Errorf("by file_id: %+v", m)
	}

	srv.RejectFileID(good)
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: "Your offer:", Document: &bot.Document{Name: "offer.pdf", FileID: good, Load: load}}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Next(5, wait); m.Text != "Your offer:" {
		t.Errorf("text first: %+v", m)
	}
	m := srv.Next(5, wait)
	if m.Method != "sendDocument" || !m.Uploaded || m.FileName != "offer.pdf" || !bytes.Equal(m.Content, content) || m.FileID == good {
		t.Errorf("upload: %+v", m)
	}

	err := tr.Send(ctx, bot.Reply{ChatID: 5, Document: &bot.Document{Name: "offer.pdf", FileID: good}})
	if err == nil || !strings.Contains(err.Error(), "wrong file identifier") {
		t.Errorf("rejected file_id without a copy: %v", err)
	}
}

// pngOf is a small picture, as the report charts are PNG.
func pngOf(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 30, 20))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A picture takes a text short enough as its caption, or comes after a longer one;
// either way the buttons are under the last message, and the bytes are uploaded.
func TestPhotoWithCaptionOrAfterTheText(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	tr := e.transport(t, telegram.Options{})
	ctx := context.Background()
	pic := pngOf(t)
	buttons := [][]bot.Button{{{Text: "📊 Table (xlsx)", Data: "rpx:funnel:20261001:20261031"}}}

	short := "<b>Funnel, 01.10–31.10</b>\nMoves: 3 &lt;b&gt;"
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: short, Buttons: buttons, Photo: &bot.Photo{Name: "funnel.png", PNG: pic}}); err != nil {
		t.Fatal(err)
	}
	m := srv.Next(5, wait)
	if m.Method != "sendPhoto" || m.Text != short || m.ParseMode != "HTML" || !m.Uploaded || m.FileName != "funnel.png" ||
		!bytes.Equal(m.Content, pic) || m.ButtonData("📊 Table (xlsx)") != "rpx:funnel:20261001:20261031" {
		t.Errorf("picture with a caption: %+v", m)
	}
	if n := srv.Count("sendMessage"); n != 0 {
		t.Errorf("a caption that fits was also sent as a message (%d)", n)
	}

	// Markup and entities do not count: 1,500 bytes that show as 300 characters fit.
	escaped := "<b>" + strings.Repeat("&amp;", 300) + "</b>"
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: escaped, Photo: &bot.Photo{Name: "a.png", PNG: pic}}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Next(5, wait); m.Method != "sendPhoto" || m.Text != escaped {
		t.Errorf("an escaped caption that fits: %+v", m)
	}

	// Over 1,024 characters: the text first, bare, then the picture with the buttons.
	long := "<b>Sources</b>\n" + strings.Repeat("Ярмарка — 12 clients\n", 60)
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Text: long, Buttons: buttons, Photo: &bot.Photo{Name: "sources.png", PNG: pic}}); err != nil {
		t.Fatal(err)
	}
	first, second := srv.Next(5, wait), srv.Next(5, wait)
	if first.Method != "sendMessage" || first.Text != long || len(first.Buttons) != 0 {
		t.Errorf("the long text: %+v", first)
	}
	if second.Method != "sendPhoto" || second.Text != "" || !bytes.Equal(second.Content, pic) ||
		second.ButtonData("📊 Table (xlsx)") == "" || second.Seq < first.Seq {
		t.Errorf("the picture after it: %+v", second)
	}

	// A spreadsheet made on the spot has no file_id: it is uploaded from Load.
	sheet := []byte("PK\x03\x04 workbook")
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Document: &bot.Document{Name: "funnel-2026-10-01_2026-10-31.xlsx",
		MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		Load: func(context.Context) ([]byte, error) { return sheet, nil }}}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Next(5, wait); m.Method != "sendDocument" || !m.Uploaded || m.FileName != "funnel-2026-10-01_2026-10-31.xlsx" ||
		!bytes.Equal(m.Content, sheet) {
		t.Errorf("the spreadsheet: %+v", m)
	}

	// What is not a picture is refused, as Telegram refuses it.
	if err := tr.Send(ctx, bot.Reply{ChatID: 5, Photo: &bot.Photo{Name: "x.png", PNG: []byte("not a picture")}}); err == nil ||
		!strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Errorf("a photo that is not a picture: %v", err)
	}
}

func TestWebhook(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	const secret = "s3cret_-X"
	tr := e.transport(t, telegram.Options{WebhookURL: "https://crm.example.com/tg/hook", WebhookSecret: secret})
	if tr.WebhookPath() != "/tg/hook" {
		t.Errorf("WebhookPath = %q", tr.WebhookPath())
	}
	hook := tr.WebhookHandler()
	body := func(text string) []byte {
		b, _ := json.Marshal(tgbotapi.Update{UpdateID: 1, Message: &tgbotapi.Message{
			MessageID: 1, Date: 1, Chat: &tgbotapi.Chat{ID: 4, Type: "private"},
			From: &tgbotapi.User{ID: 4, FirstName: "Oleg", LanguageCode: "ru"}, Text: text,
		}})
		return b
	}
	post := func(header, text string) int {
		r := httptest.NewRequest(http.MethodPost, "/tg/hook", bytes.NewReader(body(text)))
		if header != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
		}
		w := httptest.NewRecorder()
		hook.ServeHTTP(w, r)
		return w.Code
	}
	if code := post(secret, "too early"); code != http.StatusServiceUnavailable {
		t.Errorf("before Run: %d", code)
	}

	h := &echo{}
	run(t, tr, h)
	if !srv.Await(wait, func() bool { u, s := srv.Webhook(); return u != "" && s != "" }) {
		t.Fatal("setWebhook not called")
	}
	if u, s := srv.Webhook(); u != "https://crm.example.com/tg/hook" || s != secret {
		t.Errorf("webhook = %q %q", u, s)
	}
	if code := post("", "no secret"); code != http.StatusUnauthorized {
		t.Errorf("no secret: %d", code)
	}
	if code := post("s3cret_-Y", "wrong secret"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if n := len(h.updates()); n != 0 {
		t.Errorf("%d updates handled without the secret", n)
	}
	if code := post(secret, strings.Repeat("x", 1<<20)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("an update over 1 MB: %d", code)
	}
	if n := len(h.updates()); n != 0 {
		t.Errorf("%d updates handled from an oversized body", n)
	}
	if code := post(secret, "hi"); code != http.StatusOK {
		t.Errorf("right secret: %d", code)
	}
	if m := srv.Next(4, wait); m.Text != "echo: hi" {
		t.Errorf("reply = %q", m.Text)
	}
	if u := h.updates(); len(u) != 1 || u[0].User.FirstName != "Oleg" {
		t.Errorf("updates = %+v", u)
	}
	if srv.Count("deleteWebhook") != 0 {
		t.Errorf("webhook mode must not delete the webhook")
	}
}

func TestWebhookNeedsSecret(t *testing.T) {
	e := newEnv(t)
	_, err := telegram.New(tgtest.Token, telegram.Options{APIURL: e.srv.URL(), WebhookURL: "https://crm.example.com/hook"})
	if err == nil {
		t.Error("a webhook without a secret was accepted")
	}
}

func TestCommandsPerLanguage(t *testing.T) {
	e := newEnv(t)
	srv := e.srv
	run(t, e.transport(t, telegram.Options{}), &echo{})
	if !srv.Await(wait, func() bool { return srv.Count("setMyCommands") == 3 }) {
		t.Fatalf("setMyCommands called %d times, want 3", srv.Count("setMyCommands"))
	}
	for lang, want := range map[string]string{"ru": "start ru", "en": "start en", "": "start ru"} {
		got := srv.Commands(lang)
		if len(got) != 2 || got[0].Name != "start" || got[0].Description != want {
			t.Errorf("commands for %q = %+v", lang, got)
		}
	}
	for _, c := range srv.Calls() {
		if c.Method == "setMyCommands" && c.Scope != "default" {
			t.Errorf("scope = %q", c.Scope)
		}
	}
}

func TestStoppedTransportRefusesSend(t *testing.T) {
	e := newEnv(t)
	tr := e.transport(t, telegram.Options{})
	run(t, tr, &echo{})()
	if err := tr.Send(context.Background(), bot.Reply{ChatID: 1, Text: "late"}); !errors.Is(err, telegram.ErrClosed) {
		t.Errorf("Send after stop: %v", err)
	}
	if err := tr.Run(context.Background(), &echo{}); err == nil {
		t.Error("a second Run was accepted")
	}
}

// BenchmarkEcho pushes b.N text updates from 50 chats through the fake server and the
// transport with the limits off, and waits for every reply.
func BenchmarkEcho(b *testing.B) {
	srv := tgtest.New(b)
	tr, err := telegram.New(tgtest.Token, telegram.Options{
		APIURL: srv.URL(), PollTimeout: time.Second, GlobalRate: rate.Inf, PerChatRate: rate.Inf,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx, &echo{}) }()
	defer func() { cancel(); <-done }()
	b.ResetTimer()
	for i := range b.N {
		srv.SendText(int64(i%50+1), "ping")
	}
	if !srv.Await(time.Minute, func() bool { return srv.Count("sendMessage") >= b.N }) {
		b.Fatalf("%d of %d replies", srv.Count("sendMessage"), b.N)
	}
}

// Dial tells a token Telegram refuses from a Bot API that cannot be reached, and
// connects once the API is back.
func TestDialTellsAWrongTokenFromAnUnreachableAPI(t *testing.T) {
	e := newEnv(t)
	opts := telegram.Options{APIURL: e.srv.URL(), Logger: slog.New(slog.NewTextHandler(e.log, nil))}
	ctx := context.Background()

	e.srv.Unavailable(http.StatusBadGateway)
	if _, err := telegram.Dial(ctx, tgtest.Token, opts); err == nil || errors.Is(err, telegram.ErrTokenRejected) ||
		!strings.Contains(err.Error(), "cannot reach the Bot API") {
		t.Errorf("Bot API answering 502: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := telegram.Dial(ctx, tgtest.Token, telegram.Options{APIURL: closed.URL}); err == nil || errors.Is(err, telegram.ErrTokenRejected) {
		t.Errorf("nothing listening: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := telegram.Dial(cancelled, tgtest.Token, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	e.srv.Recover()
	e.srv.RequireToken(tgtest.Token)
	if _, err := telegram.Dial(ctx, "123456:WRONG", opts); !errors.Is(err, telegram.ErrTokenRejected) {
		t.Errorf("a wrong token: %v", err)
	}
	tr, err := telegram.Dial(ctx, tgtest.Token, opts)
	if err != nil || tr.Username() != tgtest.BotUsername {
		t.Fatalf("after the API came back: %v", err)
	}
}
