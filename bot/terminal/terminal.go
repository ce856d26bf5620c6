// Package terminal runs the bot's conversation in a terminal: text in, text and
// numbered buttons out. A newcomer tries the bot without Telegram; tests drive it.
package terminal

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/store"
)

// Handler is the conversation core as the terminal uses it.
type Handler interface {
	HandleAs(ctx context.Context, m *store.Manager, u bot.Update) []bot.Reply
}

// chatID stands for the one chat of the terminal.
const chatID = 1

// Run reads lines from in until it ends or ctx is done. A line that is a number picks
// the button with that number from the last answer; anything else is typed text.
func Run(ctx context.Context, h Handler, m *store.Manager, in io.Reader, out io.Writer) error {
	fmt.Fprintf(out, "Chatting as %s (%s). Type /help; a number taps a button; Ctrl-D quits.\n", m.Name, m.Role)
	lines := make(chan string)
	errs := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errs <- sc.Err()
		close(lines)
	}()
	var buttons []bot.Button
	message := 0
	for {
		fmt.Fprint(out, "> ")
		var line string
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(out)
				return <-errs
			}
			line = strings.TrimSpace(l)
		}
		if line == "" {
			continue
		}
		u := bot.Update{ChatID: chatID, User: bot.User{FirstName: m.Name, LanguageCode: m.Language}, Text: line}
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(buttons) {
			b := buttons[n-1]
			if b.URL != "" {
				fmt.Fprintln(out, "open:", b.URL)
				continue
			}
			u.Text, u.Callback = "", &bot.Callback{ID: "tap", Data: b.Data, MessageID: message}
		}
		replies := h.HandleAs(ctx, m, u)
		if shown := Print(out, replies); shown != nil {
			buttons = shown
			message++
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// Plain turns the bot's HTML into terminal text.
func Plain(s string) string { return html.UnescapeString(tags.ReplaceAllString(s, "")) }

// Print writes replies and numbers their buttons; it returns the buttons in number
// order, or nil when the replies have none (the previous ones stay usable).
func Print(out io.Writer, replies []bot.Reply) []bot.Button {
	var buttons []bot.Button
	for _, r := range replies {
		if r.Notice != "" {
			fmt.Fprintf(out, "  (%s)\n", r.Notice)
		}
		if r.Text != "" {
			fmt.Fprintln(out, Plain(r.Text))
		}
		if r.Photo != nil {
			fmt.Fprintf(out, "  [picture %s, %d KB]\n", r.Photo.Name, (len(r.Photo.PNG)+1023)/1024)
		}
		if r.Document != nil {
			fmt.Fprintf(out, "  [file: %s]\n", r.Document.Name)
		}
		for _, line := range r.Buttons {
			var cells []string
			for _, b := range line {
				buttons = append(buttons, b)
				cells = append(cells, fmt.Sprintf("[%d] %s", len(buttons), b.Text))
			}
			fmt.Fprintln(out, "  "+strings.Join(cells, "  "))
		}
	}
	return buttons
}
