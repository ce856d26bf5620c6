package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A manager signs in with the bot's link, opens a client's card and a letter in it,
// edits the client's city in the form and sees the card with it saved; a bad INN is
// shown at its field first.
func TestBrowserEditACard(t *testing.T) {
	s, base := liveSite(t)
	cs := withCardClients(t, s)
	c := cs.c
	link, err := s.h.SignInLink(context.Background(), cs.anna.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browse(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("client-filters")),
		chromedp.Navigate(base+"/app/clients/"+c.ID),
		chromedp.WaitVisible(chromedp.ID("client-name")),
	)
	if err != nil {
		t.Fatalf("sign in and open the card: %v", err)
	}
	shot(t, ctx, "card-full")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[text()="Read the letter" or text()="Читать письмо"]`)),
		chromedp.WaitVisible(chromedp.ID("letter-html")),
	)
	if err != nil {
		t.Fatalf("open the letter: %v", err)
	}
	shot(t, ctx, "letter")
	// The letter's script did not run: its frame has no scripts and no origin.
	if ran, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.title.includes("pwned")`)); err != nil || ran {
		t.Fatalf("the letter's script ran: %v %v", ran, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/app/clients/"+c.ID),
		chromedp.Click(chromedp.ID("edit-client")),
		chromedp.WaitVisible(chromedp.ID("edit-form")),
		chromedp.SetValue(chromedp.ID("f-inn"), "1234"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("p-inn")),
	)
	if err != nil {
		t.Fatalf("a bad INN: %v", err)
	}
	shot(t, ctx, "card-edit-bad")
	problem, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("p-inn")))
	if err != nil || !strings.Contains(problem, "INN") && !strings.Contains(problem, "ИНН") {
		t.Fatalf("the INN's problem says %q (%v)", problem, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("f-inn"), "7707083893"),
		chromedp.SetValue(chromedp.ID("f-city"), "Казань"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	)
	if err != nil {
		t.Fatalf("save the city: %v", err)
	}
	shot(t, ctx, "card-saved")
	city, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("city")))
	if err != nil || city != "Казань" {
		t.Fatalf("the card's city: %q %v", city, err)
	}
	stored, err := s.st.Client(context.Background(), c.ID)
	if err != nil || stored.City != "Казань" || stored.Legal.INN != "7707083893" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
}
