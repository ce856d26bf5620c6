package scheduler_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/scheduler"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/templates"
)

// A greeting carries the signed one-click List-Unsubscribe a mailing does, and one
// to a client without a manager comes from and is signed by the company.
func TestGreetingsCarryUnsubscribeAndSignAsTheCompany(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2027, 2, 28, 7, 5, 0, 0, time.UTC)) // 10:05 in Moscow
	st := storetest.OnClock(t, c)
	srv := smtptest.Start(t)
	var links *campaign.Unsubscriber
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { links.ServeHTTP(w, r) }))
	defer web.Close()
	links, err := campaign.NewUnsubscriber(st, "0123456789abcdef-secret", web.URL)
	if err != nil {
		t.Fatal(err)
	}
	cl := storetest.Client(t, st, "Ковалёва", "", storetest.Person("ИП Ковалёва Анна Сергеевна", "anna@kovaleva.ru", 2, 28, true))
	g, err := scheduler.NewGreeter(st, templates.FS, scheduler.GreeterOptions{From: "hello@crm.test", SenderName: "ООО «Север»", Links: links})
	if err != nil {
		t.Fatal(err)
	}
	moscow, _ := time.LoadLocation("Europe/Moscow")
	s := scheduler.New(st, &inbox{}, scheduler.Options{Now: c.Now, Owner: "one", Location: moscow, GreetingHour: 10, Greeter: g,
		Sender: smtptest.Sender{Port: srv.Port()}})
	if n := run(t, s.Greetings); n != 1 {
		t.Fatalf("%d greetings sent, want 1", n)
	}
	got := srv.To("anna@kovaleva.ru")[0]
	from, _ := mail.ParseAddress(got.Header("From"))
	to, _ := mail.ParseAddress(got.Header("To"))
	if from == nil || from.Name != "ООО «Север»" || to == nil || to.Name != "ИП Ковалёва Анна Сергеевна" {
		t.Fatalf("From %q, To %q", got.Header("From"), got.Header("To"))
	}
	if text := got.Text(); !strings.Contains(text, "С уважением,\r\nООО «Север»\r\n") || !strings.Contains(text, "Отписаться: "+web.URL) {
		t.Fatalf("the greeting's text:\n%s", text)
	}
	link := strings.Trim(got.Header("List-Unsubscribe"), "<>")
	if !strings.HasPrefix(link, web.URL+campaign.UnsubscribePath) || got.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q, List-Unsubscribe-Post %q", link, got.Header("List-Unsubscribe-Post"))
	}

	// The mail program's one-click POST unsubscribes her.
	resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after, err := st.Client(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := after.Contacts["p1"]; resp.StatusCode != http.StatusOK || p.Consent.UnsubscribedAt == nil {
		t.Fatalf("one-click: %d, consent %+v", resp.StatusCode, p.Consent)
	}
	if _, why := store.MailableEmail(after.Contacts["p1"]); why == "" {
		t.Fatal("still mailable after unsubscribing")
	}
}
