package campaign_test

import (
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// benchLetter is the campaign benchmark's letter (bench/campaign_test.go): a
// personalised subject, a text and an HTML part, a signature and an unsubscribe link.
var benchLetter = struct{ subject, text, html string }{
	subject: "{{.Contact.FirstName}}, winter offers for {{.Client.Name}}",
	text: "Dear {{.Contact.FirstName}},\n\nour winter prices for {{.Client.Name}} in {{.Client.City}} are ready.\n" +
		"Your car: {{index .Client.Custom \"car\"}}.\n\n{{.Manager.Signature}}\n\nUnsubscribe: {{.UnsubscribeURL}}\n",
	html: "<p>Dear {{.Contact.FirstName}},</p><p>our winter prices for <b>{{.Client.Name}}</b> in {{.Client.City}} are ready.</p>" +
		"<p>{{.Manager.Signature}}</p><p><a href=\"{{.UnsubscribeURL}}\">Unsubscribe</a></p>",
}

func benchMailData() campaign.MailData {
	return campaign.MailData{
		Contact:        campaign.ContactData{Name: "Иванов Иван Петрович", FirstName: "Иван Петрович", Email: "ivanov@example.ru"},
		Client:         campaign.ClientData{Name: "Shop 17", City: "Kazan", Custom: map[string]string{"car": "Lada"}},
		Manager:        campaign.ManagerData{Name: "Olga Petrova", Email: "olga@crm.example.com", Signature: "Olga Petrova\nolga@crm.example.com"},
		UnsubscribeURL: "https://crm.example.com/unsubscribe/c1.k2.p3.Zm9vYmFyYmF6",
	}
}

// BenchmarkRenderLetter and BenchmarkBuildLetter measure a campaign's own work for
// each recipient: rendering the three parts when the run is queued, and building the
// go-mail message when it is sent.
//
//	go test -run '^$' -bench 'RenderLetter|BuildLetter' -benchmem ./campaign/
func BenchmarkRenderLetter(b *testing.B) {
	t, err := campaign.ParseTemplate(benchLetter.subject, benchLetter.text, benchLetter.html)
	if err != nil {
		b.Fatal(err)
	}
	data := benchMailData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Execute(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildLetter(b *testing.B) {
	t, err := campaign.ParseTemplate(benchLetter.subject, benchLetter.text, benchLetter.html)
	if err != nil {
		b.Fatal(err)
	}
	data := benchMailData()
	out, err := t.Execute(data)
	if err != nil {
		b.Fatal(err)
	}
	cs := campaign.NewCampaigns(nil, nil, "news@crm.example.com", time.UTC)
	c := &store.Campaign{ID: "c1", Sender: "Shop <news@crm.example.com>"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cs.Message(c, out, data, data.Contact.Email); err != nil {
			b.Fatal(err)
		}
	}
}
