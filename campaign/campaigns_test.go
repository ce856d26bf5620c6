package campaign_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

func TestCampaignTemplateChecksPreviewAndHeaders(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	st := storetest.OnClock(t, c)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга", Email: "olga@crm.test"})
	moscow := storetest.Client(t, st, "Ромашка", olga.ID,
		storetest.Person("Иванова Анна Сергеевна", "anna@romashka.ru", 1, 1, true),
		storetest.Person("Без Согласия", "no@romashka.ru", 1, 1, false))
	if _, err := st.UpdateClient(ctx, "test", moscow.ID, store.ClientPatch{City: ptr("Москва")}); err != nil {
		t.Fatal(err)
	}
	kazan := storetest.Client(t, st, "Лютик <b>", "", storetest.Person("Pavel", "pavel@lutik.ru", 1, 1, true))
	if _, err := st.UpdateClient(ctx, "test", kazan.ID, store.ClientPatch{City: ptr("Казань")}); err != nil {
		t.Fatal(err)
	}
	unsub, err := campaign.NewUnsubscriber(st, "0123456789abcdef-secret", "https://crm.test")
	if err != nil {
		t.Fatal(err)
	}
	cs := campaign.NewCampaigns(st, unsub, "news@crm.test", time.UTC)
	camp := &store.Campaign{ID: "c1", Name: "Осень", Segment: store.Segment{Cities: []string{"Москва", "Казань"}},
		Subject: "{{.Contact.FirstName}}, скидки для {{.Client.Name}}",
		Text:    "Здравствуйте, {{.Contact.FirstName}}!\nОтписаться: {{.UnsubscribeURL}}\n{{.Manager.Signature}}",
		HTML:    "<p>{{.Client.Name}}</p>", Sender: "Команда CRM <news@crm.test>"}
	if n, err := cs.Check(ctx, camp); err != nil || n != 2 {
		t.Fatalf("check: %d recipients, %v; want 2 (no consent, no mail)", n, err)
	}

	// A typo in a field and a syntax error are named with the part and the line.
	bad := *camp
	bad.Text = "Здравствуйте!\n{{.Contact.Nmae}}"
	_, err = cs.Check(ctx, &bad)
	if !errors.Is(err, campaign.ErrTemplate) || !strings.Contains(err.Error(), "Nmae") || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("a misspelt field: %v", err)
	}
	bad.Text = "{{if .Contact.Name}}no end"
	if _, err = cs.Check(ctx, &bad); !errors.Is(err, campaign.ErrTemplate) || !strings.Contains(err.Error(), "text part") {
		t.Fatalf("a syntax error: %v", err)
	}
	bad = *camp
	bad.Text = `{{index .Client.Custom "car" | printf "%.1s"}}{{if eq .Client.Name "Ромашка"}}{{.Nope}}{{end}}`
	if _, err = cs.Check(ctx, &bad); err == nil || !strings.Contains(err.Error(), "Ромашка") {
		t.Fatalf("a failure for one recipient does not name them: %v", err)
	}

	r, who, err := cs.Preview(ctx, camp, kazan.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Pavel, скидки для Лютик <b>" || r.HTML != "<p>Лютик &lt;b&gt;</p>" || !strings.Contains(r.Text, "https://crm.test/unsubscribe/") {
		t.Fatalf("preview: %+v", r)
	}

	// The letter carries the one-click unsubscribe headers.
	srv := smtptest.Start(t)
	msg, err := cs.Message(camp, r, campaign.MailData{UnsubscribeURL: unsub.Link(camp.ID, kazan.ID, who.Contact.ID)}, who.Email)
	if err != nil {
		t.Fatal(err)
	}
	if err := (smtptest.Sender{Port: srv.Port()}).Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	got := srv.To("pavel@lutik.ru")
	if len(got) != 1 || !strings.HasPrefix(got[0].Header("List-Unsubscribe"), "<https://crm.test/unsubscribe/") ||
		got[0].Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || got[0].Header("From") != "Команда CRM <news@crm.test>" {
		t.Fatalf("headers: %q %q %q", got[0].Header("List-Unsubscribe"), got[0].Header("List-Unsubscribe-Post"), got[0].Header("From"))
	}
	// Auto-replies are asked to stay away; the Message-ID is in the sender's domain.
	if got[0].Header("Precedence") != "bulk" || got[0].Header("X-Auto-Response-Suppress") != "All" ||
		!strings.HasSuffix(got[0].Header("Message-ID"), "@crm.test>") {
		t.Fatalf("headers: %q %q %q", got[0].Header("Precedence"), got[0].Header("X-Auto-Response-Suppress"), got[0].Header("Message-ID"))
	}
}

func ptr[T any](v T) *T { return &v }
