// Package tgtest is a fake Telegram Bot API server for tests and benchmarks: it serves
// the methods the bot uses over HTTP (httptest), lets a test play the users (text,
// button taps, contacts, files), records everything the bot sends, and can answer 429,
// reject a file_id, a token or every call (an unreachable API) on demand. It checks
// what Telegram checks that a test should catch: empty or too long texts, unparsable
// HTML, bad button data, a photo that is not a picture.
package tgtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // photos Telegram takes
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Token is a well-formed token; the server accepts any non-empty token (see
// RequireToken).
const Token = "123456:TEST-token_for-tgtest"

// BotUsername is what getMe answers.
const BotUsername = "crm_test_bot"

// BotID is the bot's user id.
const BotID int64 = 100000

// User is a person writing to the bot; their private chat has the same id.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

// Contact is a phone-book entry shared by a user.
type Contact struct {
	Phone     string
	FirstName string
	LastName  string
	UserID    int64
}

// Button is an inline button the bot sent.
type Button struct {
	Text string
	Data string
	URL  string
}

// Command is a menu entry the bot set.
type Command struct {
	Name        string
	Description string
}

// Call is one successful Bot API call by the bot (getUpdates, getMe and getFile are not
// recorded).
type Call struct {
	Seq       int // order among all recorded calls, from 1
	Method    string
	ChatID    int64
	MessageID int    // the new message (send*), or the edited one
	Text      string // text, caption, or the callback answer's notice
	ParseMode string
	NoPreview bool
	Buttons   [][]Button

	CallbackID string // answerCallbackQuery

	FileID   string // sendDocument, sendPhoto: the id given, or assigned to an upload
	FileName string
	Uploaded bool   // the content came as a multipart upload
	Content  []byte // the uploaded content, or the registered file's for a known file_id

	LanguageCode string // setMyCommands; "" for the default menu
	Scope        string
	Commands     []Command

	URL         string // setWebhook; setChatMenuButton: the Mini App's
	SecretToken string

	Params url.Values // everything as received, file parts aside
}

// Button finds a button by its text.
func (c Call) Button(text string) (Button, bool) {
	for _, row := range c.Buttons {
		for _, b := range row {
			if b.Text == text {
				return b, true
			}
		}
	}
	return Button{}, false
}

// ButtonData is the callback data of the button with this text, "" without one.
func (c Call) ButtonData(text string) string {
	b, _ := c.Button(text)
	return b.Data
}

// ButtonTexts lists the buttons' texts row by row.
func (c Call) ButtonTexts() []string {
	var out []string
	for _, row := range c.Buttons {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// IsMessage tells whether the call put or changed something in a chat (not a callback
// answer, menu or webhook call).
func (c Call) IsMessage() bool {
	switch c.Method {
	case "sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto":
		return true
	}
	return false
}

type update struct {
	id  int
	raw []byte
}

type file struct {
	id, uniqueID, path, name, mime string
	content                        []byte
}

type message struct {
	text    string
	buttons [][]Button
}

type msgKey struct {
	chat int64
	id   int
}

type failure struct {
	code       int
	desc       string
	retryAfter int
}

// Server is the fake Bot API. It is safe for concurrent use.
type Server struct {
	tb  testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change, for waiters
	closed  chan struct{}

	updates  []update // not yet confirmed, in order
	nextUpd  int
	nextMsg  int
	nextFile int
	nextCB   int
	offset   int // the highest offset the bot confirmed

	users    map[int64]User
	files    map[string]*file
	paths    map[string]*file
	messages map[msgKey]*message
	cbChats  map[string]int64

	calls    []Call
	byChat   map[int64][]int // indexes of message calls per chat
	cursor   map[int64]int   // Next's position per chat
	counts   map[string]int
	commands map[string][]Command

	faults     []failure // served to the next send calls, first first
	down       int       // HTTP status every call gets while the API is "unreachable"; 0: up
	token      string    // the only token accepted; "": any
	badFileIDs map[string]bool
	blocked    map[int64]bool
	nFailures  int
	unhang     chan struct{} // not nil: send calls wait for it to close
	hanging    int

	webhookURL, webhookSecret string
}

// New starts a server and stops it when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{
		tb:         tb,
		changed:    make(chan struct{}),
		closed:     make(chan struct{}),
		nextUpd:    1000,
		nextMsg:    1,
		users:      make(map[int64]User),
		files:      make(map[string]*file),
		paths:      make(map[string]*file),
		messages:   make(map[msgKey]*message),
		cbChats:    make(map[string]int64),
		byChat:     make(map[int64][]int),
		cursor:     make(map[int64]int),
		counts:     make(map[string]int),
		commands:   make(map[string][]Command),
		badFileIDs: make(map[string]bool),
		blocked:    make(map[int64]bool),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL, for telegram.Options.APIURL.
func (s *Server) URL() string { return s.srv.URL }

// Close ends pending long polls and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// notify wakes waiters (s.mu held).
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Await waits until cond holds, re-checking after every change; false on timeout.
// cond may call the Server's methods.
func (s *Server) Await(timeout time.Duration, cond func() bool) bool {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-tm.C:
			return cond()
		}
	}
}

// --- the users' side ---

// SetUser sets the profile sent with a user's updates. Without it a user is
// "User<id>" with language "ru".
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

func (s *Server) user(id int64) *tgbotapi.User {
	u, ok := s.users[id]
	if !ok {
		u = User{ID: id, FirstName: fmt.Sprintf("User%d", id), LanguageCode: "ru"}
	}
	return &tgbotapi.User{ID: id, FirstName: u.FirstName, LastName: u.LastName, UserName: u.Username, LanguageCode: u.LanguageCode}
}

func (s *Server) message(chat int64) *tgbotapi.Message {
	id := s.nextMsg
	s.nextMsg++
	return &tgbotapi.Message{
		MessageID: id,
		From:      s.user(chat),
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: chat, Type: "private"},
	}
}

// push queues an update (s.mu held) and returns its id.
func (s *Server) push(u tgbotapi.Update) int {
	u.UpdateID = s.nextUpd
	s.nextUpd++
	raw, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	s.updates = append(s.updates, update{id: u.UpdateID, raw: raw})
	s.notify()
	return u.UpdateID
}

// SendText is a user (chat id = user id) writing text; it returns the message id.
func (s *Server) SendText(chatID int64, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.message(chatID)
	m.Text = text
	if strings.HasPrefix(text, "/") {
		n := strings.IndexByte(text, ' ')
		if n < 0 {
			n = len(text)
		}
		m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: n}}
	}
	s.push(tgbotapi.Update{Message: m})
	return m.MessageID
}

// Tap is a user tapping a button with data under the bot's message; it returns the
// callback query id, for Answer.
func (s *Server) Tap(chatID int64, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextCB++
	id := fmt.Sprintf("cb%d", s.nextCB)
	s.cbChats[id] = chatID
	m := &tgbotapi.Message{
		MessageID: messageID,
		From:      &tgbotapi.User{ID: BotID, IsBot: true, FirstName: "CRM", UserName: BotUsername},
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: chatID, Type: "private"},
	}
	if msg := s.messages[msgKey{chatID, messageID}]; msg != nil {
		m.Text = msg.text
	}
	s.push(tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID: id, From: s.user(chatID), Message: m, ChatInstance: strconv.FormatInt(chatID, 10), Data: data,
	}})
	return id
}

// TapButton taps the button with this text under a message the bot sent; it fails the
// test when there is none.
func (s *Server) TapButton(c Call, text string) string {
	s.tb.Helper()
	b, ok := c.Button(text)
	if !ok || b.Data == "" {
		s.tb.Fatalf("tgtest: no button %q with data in message %d; buttons: %q", text, c.MessageID, c.ButtonTexts())
	}
	return s.Tap(c.ChatID, c.MessageID, b.Data)
}

// ShareContact is a user sharing a phone-book contact; it returns the message id.
func (s *Server) ShareContact(chatID int64, c Contact) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.message(chatID)
	m.Contact = &tgbotapi.Contact{PhoneNumber: c.Phone, FirstName: c.FirstName, LastName: c.LastName, UserID: c.UserID}
	s.push(tgbotapi.Update{Message: m})
	return m.MessageID
}

// AddFile registers content as a file Telegram keeps, so getFile, downloads and
// sending by the returned file_id work.
func (s *Server) AddFile(name, mime string, content []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addFile("documents", name, mime, content).id
}

func (s *Server) addFile(dir, name, mime string, content []byte) *file {
	s.nextFile++
	n := s.nextFile
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = name[i:]
	}
	f := &file{
		id:       fmt.Sprintf("FILE%06d-%s", n, dir),
		uniqueID: fmt.Sprintf("U%06d", n),
		path:     fmt.Sprintf("%s/file_%d%s", dir, n, ext),
		name:     name,
		mime:     mime,
		content:  slices.Clone(content),
	}
	s.files[f.id] = f
	s.paths[f.path] = f
	return f
}

// SendDocument is a user sending a file with an optional caption; it returns the file_id.
func (s *Server) SendDocument(chatID int64, name, mime string, content []byte, caption string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.addFile("documents", name, mime, content)
	m := s.message(chatID)
	m.Caption = caption
	m.Document = &tgbotapi.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: name, MimeType: mime, FileSize: len(content)}
	s.push(tgbotapi.Update{Message: m})
	return f.id
}

// SendPhoto is a user sending a photo (two sizes, content is the larger); it returns
// the larger size's file_id.
func (s *Server) SendPhoto(chatID int64, content []byte, caption string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	small := s.addFile("photos", "thumb.jpg", "image/jpeg", content[:min(len(content), 16)])
	big := s.addFile("photos", "photo.jpg", "image/jpeg", content)
	m := s.message(chatID)
	m.Caption = caption
	m.Photo = []tgbotapi.PhotoSize{
		{FileID: small.id, FileUniqueID: small.uniqueID, Width: 90, Height: 90, FileSize: len(small.content)},
		{FileID: big.id, FileUniqueID: big.uniqueID, Width: 1280, Height: 960, FileSize: len(content)},
	}
	s.push(tgbotapi.Update{Message: m})
	return big.id
}

// SendVoice is a user sending a voice message; it returns the file_id.
func (s *Server) SendVoice(chatID int64, content []byte, seconds int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.addFile("voice", "voice.oga", "audio/ogg", content)
	m := s.message(chatID)
	m.Voice = &tgbotapi.Voice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: seconds, MimeType: "audio/ogg", FileSize: len(content)}
	s.push(tgbotapi.Update{Message: m})
	return f.id
}

// PushRaw queues an update of any kind ("edited_message", "my_chat_member", ...) with
// payload as its body; it returns the update_id. getUpdates ignores allowed_updates, so
// this also tests that unknown kinds are skipped.
func (s *Server) PushRaw(kind string, payload any) int {
	body, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpd
	s.nextUpd++
	raw, _ := json.Marshal(map[string]any{"update_id": id, kind: json.RawMessage(body)})
	s.updates = append(s.updates, update{id: id, raw: raw})
	s.notify()
	return id
}

// --- faults ---

// Fail429 makes the next n send calls (sendMessage, editMessageText, sendDocument,
// sendPhoto, answerCallbackQuery, ...) answer 429 with retry_after seconds.
func (s *Server) Fail429(n, retryAfter int) {
	s.FailNext(n, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), retryAfter)
}

// FailNext makes the next n send calls fail with code and description (and retry_after
// when not 0).
func (s *Server) FailNext(n, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, failure{code: code, desc: description, retryAfter: retryAfter})
	}
}

// Unavailable makes every call, getMe and getUpdates too, answer with an HTTP status
// (502, 503...) and a plain-text body, as a proxy in front of an unreachable Bot API
// does, until Recover.
func (s *Server) Unavailable(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = status
	s.notify()
}

// Recover ends Unavailable.
func (s *Server) Recover() { s.Unavailable(0) }

// RequireToken makes calls with any other token answer 401 Unauthorized, as Telegram
// does for a mistyped or revoked token.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// RejectFileID makes sendDocument and sendPhoto with this file_id answer 400 "wrong
// file identifier", as after a change of bot token.
func (s *Server) RejectFileID(fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badFileIDs[fileID] = true
}

// Block makes messages to the chat fail with 403, as when the user blocked the bot.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// Hang(true) makes send calls (those Fail429 counts) wait without an answer, as a Bot
// API that stopped answering: until the bot gives up on the request, or Hang(false)
// lets the waiting ones through.
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.unhang == nil:
		s.unhang = make(chan struct{})
	case !on && s.unhang != nil:
		close(s.unhang)
		s.unhang = nil
	}
}

// Hanging is how many send calls are waiting for an answer under Hang.
func (s *Server) Hanging() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

// hang holds a send call while Hang is on; false when the bot gave up on it.
func (s *Server) hang(r *http.Request) bool {
	s.mu.Lock()
	unhang := s.unhang
	if unhang == nil {
		s.mu.Unlock()
		return true
	}
	s.hanging++
	s.notify()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.hanging--
		s.notify()
		s.mu.Unlock()
	}()
	select {
	case <-unhang:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// Failures counts the calls answered with an injected fault, while Unavailable or
// with a wrong token.
func (s *Server) Failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nFailures
}

// --- what the bot did ---

// Calls lists all recorded calls in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Sent lists the messages the bot sent or edited in a chat, in order.
func (s *Server) Sent(chatID int64) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.byChat[chatID]))
	for _, i := range s.byChat[chatID] {
		out = append(out, s.calls[i])
	}
	return out
}

// Count is how many successful calls of a method were made.
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method]
}

// Next waits for the chat's next message (sent or edited) after the ones Next already
// returned, and fails the test after timeout. Call it from the test's goroutine.
func (s *Server) Next(chatID int64, timeout time.Duration) Call {
	s.tb.Helper()
	c, ok := s.TryNext(chatID, timeout)
	if !ok {
		s.tb.Fatalf("tgtest: no message to chat %d within %v", chatID, timeout)
	}
	return c
}

// TryNext is Next reporting a timeout as false.
func (s *Server) TryNext(chatID int64, timeout time.Duration) (Call, bool) {
	var c Call
	ok := s.Await(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		pos := s.cursor[chatID]
		if pos >= len(s.byChat[chatID]) {
			return false
		}
		c = s.calls[s.byChat[chatID][pos]]
		s.cursor[chatID] = pos + 1
		return true
	})
	return c, ok
}

// Answer waits for the answer to a callback query (from Tap) and fails the test after
// timeout.
func (s *Server) Answer(callbackID string, timeout time.Duration) Call {
	s.tb.Helper()
	var c Call
	ok := s.Await(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := len(s.calls) - 1; i >= 0; i-- {
			if s.calls[i].Method == "answerCallbackQuery" && s.calls[i].CallbackID == callbackID {
				c = s.calls[i]
				return true
			}
		}
		return false
	})
	if !ok {
		s.tb.Fatalf("tgtest: callback %s not answered within %v", callbackID, timeout)
	}
	return c
}

// Commands is the menu last set for a language ("" for the default one).
func (s *Server) Commands(lang string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[lang])
}

// Webhook is the webhook set, "" when none.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSecret
}

// Offset is the highest offset the bot confirmed with getUpdates.
func (s *Server) Offset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

// Pending counts the queued updates not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Content is a registered file's content (sent by a user or uploaded by the bot).
func (s *Server) Content(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[fileID]
	if !ok {
		return nil, false
	}
	return f.content, true
}

// --- HTTP ---

type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

var sendMethods = map[string]bool{
	"sendMessage": true, "editMessageText": true, "editMessageReplyMarkup": true,
	"sendDocument": true, "sendPhoto": true, "answerCallbackQuery": true,
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	token, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(path, "/file"), "/bot"), "/")
	s.mu.Lock()
	down, wrongToken := s.down, s.token != "" && token != s.token
	if down != 0 || wrongToken {
		s.nFailures++
		s.notify()
	}
	s.mu.Unlock()
	switch {
	case down != 0: // as a proxy in front of an unreachable Bot API answers: not JSON
		http.Error(w, http.StatusText(down), down)
		return
	case wrongToken:
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.download(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || token == "" {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	p, files, err := params(r)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	if method == "getUpdates" {
		s.getUpdates(w, r, p)
		return
	}
	if sendMethods[method] && !s.hang(r) {
		return
	}
	result, aerr := s.call(method, p, files)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeResult(w, result)
}

type upload struct {
	name    string
	content []byte
}

// params reads form, multipart or JSON parameters; tgbotapi sends the first two, with
// reply_markup and commands as JSON inside a form field.
func params(r *http.Request) (url.Values, map[string]upload, error) {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return nil, nil, err
		}
		files := make(map[string]upload)
		for field, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 {
				continue
			}
			content, err := readPart(fhs[0])
			if err != nil {
				return nil, nil, err
			}
			files[field] = upload{name: fhs[0].Filename, content: content}
		}
		return r.PostForm, files, nil
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, nil, err
		}
		v := url.Values{}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				v.Set(k, str)
			} else {
				v.Set(k, string(raw))
			}
		}
		return v, nil, nil
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		return r.Form, nil, nil
	}
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func writeResult(w http.ResponseWriter, result any) {
	raw, err := json.Marshal(result)
	if err != nil {
		writeError(w, &apiError{code: 500, desc: "Internal Server Error: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"result":%s}`, raw)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) download(w http.ResponseWriter, rest string) {
	_, path, ok := strings.Cut(rest, "/") // after the token
	s.mu.Lock()
	f := s.paths[path]
	s.mu.Unlock()
	if !ok || f == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(f.content)
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p.Get("timeout"))
	tm := time.NewTimer(time.Duration(timeout) * time.Second)
	defer tm.Stop()
	for {
		s.mu.Lock()
		if s.webhookURL != "" {
			s.mu.Unlock()
			writeError(w, &apiError{code: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		if offset > s.offset {
			s.offset = offset
			n := 0
			for n < len(s.updates) && s.updates[n].id < offset {
				n++
			}
			if n > 0 {
				s.updates = slices.Delete(s.updates, 0, n)
				s.notify()
			}
		}
		batch := s.updates[:min(limit, len(s.updates))]
		var body []byte
		if len(batch) > 0 {
			body = append(body, `{"ok":true,"result":[`...)
			for i, u := range batch {
				if i > 0 {
					body = append(body, ',')
				}
				body = append(body, u.raw...)
			}
			body = append(body, "]}"...)
		}
		ch := s.changed
		s.mu.Unlock()
		if body != nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
		select {
		case <-ch:
			continue
		case <-tm.C:
		case <-s.closed:
		case <-r.Context().Done():
			return
		}
		writeResult(w, []any{})
		return
	}
}

// call serves every method but getUpdates.
func (s *Server) call(method string, p url.Values, files map[string]upload) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sendMethods[method] && len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.nFailures++
		return nil, &apiError{code: f.code, desc: f.desc, retryAfter: f.retryAfter}
	}
	chat, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	if sendMethods[method] && method != "answerCallbackQuery" {
		if p.Get("chat_id") == "" {
			return nil, badRequest("chat_id is empty")
		}
		if s.blocked[chat] {
			return nil, &apiError{code: http.StatusForbidden, desc: "Forbidden: bot was blocked by the user"}
		}
	}
	c := Call{Method: method, ChatID: chat, ParseMode: p.Get("parse_mode"), Params: p}
	var result any = true
	switch method {
	case "getMe":
		return tgbotapi.User{ID: BotID, IsBot: true, FirstName: "CRM", UserName: BotUsername, CanJoinGroups: true}, nil
	case "getFile":
		f := s.files[p.Get("file_id")]
		if f == nil {
			return nil, badRequest("invalid file_id")
		}
		return tgbotapi.File{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: len(f.content), FilePath: f.path}, nil
	case "sendMessage":
		c.Text = p.Get("text")
		c.NoPreview = p.Get("disable_web_page_preview") == "true"
		if err := checkText(c.Text, c.ParseMode, 4096); err != nil {
			return nil, err
		}
		var err *apiError
		if c.Buttons, err = parseMarkup(p.Get("reply_markup")); err != nil {
			return nil, err
		}
		m := s.sent(&c)
		m.Text = c.Text
		result = m
	case "editMessageText", "editMessageReplyMarkup":
		c.MessageID, _ = strconv.Atoi(p.Get("message_id"))
		msg := s.messages[msgKey{chat, c.MessageID}]
		if msg == nil {
			return nil, badRequest("message to edit not found")
		}
		var err *apiError
		if c.Buttons, err = parseMarkup(p.Get("reply_markup")); err != nil {
			return nil, err
		}
		c.Text = msg.text
		if method == "editMessageText" {
			c.Text = p.Get("text")
			c.NoPreview = p.Get("disable_web_page_preview") == "true"
			if err := checkText(c.Text, c.ParseMode, 4096); err != nil {
				return nil, err
			}
		}
		if c.Text == msg.text && reflect.DeepEqual(c.Buttons, msg.buttons) {
			return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		}
		msg.text, msg.buttons = c.Text, c.Buttons
		result = &tgbotapi.Message{MessageID: c.MessageID, Date: int(time.Now().Unix()), Chat: &tgbotapi.Chat{ID: chat, Type: "private"}, Text: c.Text}
	case "sendDocument", "sendPhoto":
		field := strings.TrimPrefix(strings.ToLower(method), "send")
		c.Text = p.Get("caption")
		if c.Text != "" {
			if err := checkText(c.Text, c.ParseMode, 1024); err != nil {
				return nil, err
			}
		}
		var err *apiError
		if c.Buttons, err = parseMarkup(p.Get("reply_markup")); err != nil {
			return nil, err
		}
		var f *file
		if up, ok := files[field]; ok {
			if len(up.content) == 0 {
				return nil, badRequest("file must be non-empty")
			}
			if field == "photo" {
				if err := checkPhoto(up.content); err != nil {
					return nil, err
				}
			}
			f = s.addFile(field+"s", up.name, "", up.content)
			c.Uploaded = true
		} else {
			id := p.Get(field)
			if id == "" || s.badFileIDs[id] {
				return nil, badRequest("wrong file identifier/HTTP URL specified")
			}
			if f = s.files[id]; f == nil {
				f = &file{id: id, uniqueID: "U" + id}
			}
		}
		c.FileID, c.FileName, c.Content = f.id, f.name, f.content
		m := s.sent(&c)
		m.Caption = c.Text
		if field == "photo" {
			m.Photo = []tgbotapi.PhotoSize{{FileID: f.id, FileUniqueID: f.uniqueID, Width: 1280, Height: 960, FileSize: len(f.content)}}
		} else {
			m.Document = &tgbotapi.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, FileSize: len(f.content)}
		}
		result = m
	case "answerCallbackQuery":
		c.CallbackID = p.Get("callback_query_id")
		c.Text = p.Get("text")
		if c.CallbackID == "" {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		c.ChatID = s.cbChats[c.CallbackID]
	case "setMyCommands":
		var cmds []tgbotapi.BotCommand
		if err := json.Unmarshal([]byte(p.Get("commands")), &cmds); err != nil {
			return nil, badRequest("can't parse commands JSON object")
		}
		var scope tgbotapi.BotCommandScope
		if raw := p.Get("scope"); raw != "" {
			_ = json.Unmarshal([]byte(raw), &scope)
		}
		c.Scope = scope.Type
		c.LanguageCode = p.Get("language_code")
		for _, cmd := range cmds {
			if cmd.Command == "" || cmd.Command != strings.ToLower(cmd.Command) || len(cmd.Command) > 32 || cmd.Description == "" {
				return nil, badRequest("BOT_COMMAND_INVALID")
			}
			c.Commands = append(c.Commands, Command{Name: cmd.Command, Description: cmd.Description})
		}
		s.commands[c.LanguageCode] = c.Commands
	case "setWebhook":
		c.URL, c.SecretToken = p.Get("url"), p.Get("secret_token")
		s.webhookURL, s.webhookSecret = c.URL, c.SecretToken
	case "setChatMenuButton":
		var button struct {
			Type   string `json:"type"`
			Text   string `json:"text"`
			WebApp struct {
				URL string `json:"url"`
			} `json:"web_app"`
		}
		if err := json.Unmarshal([]byte(p.Get("menu_button")), &button); err != nil {
			return nil, badRequest("can't parse menu button JSON object")
		}
		if button.Type == "web_app" && (button.Text == "" || !strings.HasPrefix(button.WebApp.URL, "https://")) {
			return nil, badRequest("BUTTON_URL_INVALID")
		}
		c.URL, c.Text = button.WebApp.URL, button.Text
	case "deleteWebhook":
		s.webhookURL, s.webhookSecret = "", ""
		if p.Get("drop_pending_updates") == "true" {
			s.updates = nil
		}
	case "getMyCommands", "deleteMyCommands", "sendChatAction":
	default:
		return nil, &apiError{code: http.StatusNotFound, desc: "Not Found: method " + method + " is not served by tgtest"}
	}
	s.record(c)
	return result, nil
}

// sent gives a new message its id and keeps it for edits and taps (s.mu held).
func (s *Server) sent(c *Call) *tgbotapi.Message {
	c.MessageID = s.nextMsg
	s.nextMsg++
	s.messages[msgKey{c.ChatID, c.MessageID}] = &message{text: c.Text, buttons: c.Buttons}
	return &tgbotapi.Message{
		MessageID: c.MessageID,
		From:      &tgbotapi.User{ID: BotID, IsBot: true, FirstName: "CRM", UserName: BotUsername},
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: c.ChatID, Type: "private"},
	}
}

func (s *Server) record(c Call) {
	c.Seq = len(s.calls) + 1
	s.calls = append(s.calls, c)
	s.counts[c.Method]++
	if c.IsMessage() {
		s.byChat[c.ChatID] = append(s.byChat[c.ChatID], len(s.calls)-1)
	}
	s.notify()
}

func parseMarkup(raw string) ([][]Button, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var m struct {
		InlineKeyboard [][]struct {
			Text         string  `json:"text"`
			CallbackData *string `json:"callback_data"`
			URL          *string `json:"url"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	var rows [][]Button
	for _, row := range m.InlineKeyboard {
		var out []Button
		for _, b := range row {
			if b.Text == "" {
				return nil, badRequest("BUTTON_TEXT_EMPTY")
			}
			switch {
			case b.URL != nil:
				if !strings.HasPrefix(*b.URL, "http://") && !strings.HasPrefix(*b.URL, "https://") && !strings.HasPrefix(*b.URL, "tg://") {
					return nil, badRequest("BUTTON_URL_INVALID")
				}
				out = append(out, Button{Text: b.Text, URL: *b.URL})
			case b.CallbackData != nil:
				if n := len(*b.CallbackData); n == 0 || n > 64 {
					return nil, badRequest("BUTTON_DATA_INVALID")
				}
				out = append(out, Button{Text: b.Text, Data: *b.CallbackData})
			default:
				return nil, badRequest("BUTTON_TYPE_INVALID")
			}
		}
		if len(out) > 0 {
			rows = append(rows, out)
		}
	}
	return rows, nil
}

// checkPhoto refuses an uploaded photo Telegram would refuse: not a JPEG or PNG
// picture, over 10 MB, or sides over 10,000 pixels together or in a ratio over 20.
func checkPhoto(content []byte) *apiError {
	if len(content) > 10<<20 {
		return badRequest("PHOTO_SAVE_FILE_INVALID")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(content))
	if err != nil {
		return badRequest("IMAGE_PROCESS_FAILED")
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 || w+h > 10000 || w > 20*h || h > 20*w {
		return badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	return nil
}
