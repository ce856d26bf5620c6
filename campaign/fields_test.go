package campaign_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A field the data does not have is named with the fields that exist, in the
// template's words, not Go's type names.
func TestTemplateErrorsListTheFields(t *testing.T) {
	data := campaign.NewMailData(&store.Client{Name: "Ромашка"}, store.Contact{Name: "Анна"}, nil, "a@b.ru", "Север")
	for _, c := range []struct{ subject, text, html, want string }{
		{"S", "Здравствуйте!\n{{.Contact.Nmae}}", "", `the text part: text:2:10: {{.Contact.Nmae}}: no field Nmae; fields: Name, FirstName, Position, Email`},
		{"{{.Nmae}}", "T", "", `the subject: subject:1:2: {{.Nmae}}: no field Nmae; fields: Contact, Client, Manager, UnsubscribeURL`},
		{"S", "T", "<p>{{.Manager.Phone}}</p>", `the HTML part: html:1:13: {{.Manager.Phone}}: no field Phone; fields: Name, Email, Signature`},
		{"S", "{{.Client.Custom.car}}", "", `this client has no custom field "car"; {{index .Client.Custom "car"}} is empty`},
		{"S", "{{.Contact.Name.X}}", "", `{{.Contact.Name.X}}: no field X: what comes before it has no fields`},
	} {
		tpl, err := campaign.ParseTemplate(c.subject, c.text, c.html)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tpl.Execute(data)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "campaign.") || strings.Contains(err.Error(), "executing") {
			t.Errorf("%q %q %q: %v\nwant %s", c.subject, c.text, c.html, err, c.want)
		}
	}
}

// Review counts the letters in which a printed field comes out empty; a field only
// tested, or printed where a test made sure it is there, does not count.
func TestReviewCountsEmptyFields(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	olga := storetest.Manager(t, st, store.Manager{Name: "Ольга", Email: "olga@crm.test"})
	full := storetest.Client(t, st, "Ромашка", olga.ID, storetest.Person("Иванова Анна Сергеевна", "anna@romashka.ru", 1, 1, true))
	if _, err := st.UpdateClient(ctx, "test", full.ID, store.ClientPatch{City: ptr("Казань"), Custom: map[string]*string{"car": ptr("Лада")}}); err != nil {
		t.Fatal(err)
	}
	storetest.Client(t, st, "Лютик", "", storetest.Person("Пётр", "petr@lutik.ru", 1, 1, true))
	cs := campaign.NewCampaigns(st, nil, "news@crm.test", nil)
	c := &store.Campaign{Name: "Осень", Subject: "{{.Contact.FirstName}}, осень в {{.Client.City}}",
		Text: `{{if .Client.Industry}}{{.Client.Industry}}{{end}} {{index .Client.Custom "car"}} {{.Manager.Email}} {{.Manager.Signature}} {{.UnsubscribeURL}}`}
	rv, err := cs.Review(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rv.Empty {
		got = append(got, f.Field+" "+strings.Repeat("×", f.N)+" "+f.Example)
	}
	want := []string{`{{.Client.City}} × Пётр <petr@lutik.ru>, Лютик`, `{{index .Client.Custom "car"}} × Пётр <petr@lutik.ru>, Лютик`,
		`{{.Manager.Email}} × Пётр <petr@lutik.ru>, Лютик`}
	if rv.Recipients != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d recipients, empty:\n%s\nwant\n%s", rv.Recipients, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The editor offers every field a template can print, and each one renders.
func TestTemplateFieldsRender(t *testing.T) {
	fields := campaign.TemplateFields()
	if len(fields) < 10 || !slices.Contains(fields, "{{.Contact.FirstName}}") || !slices.Contains(fields, `{{index .Client.Custom "key"}}`) {
		t.Fatalf("fields: %q", fields)
	}
	tpl, err := campaign.ParseTemplate(strings.Join(fields, " "), strings.Join(fields, "\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Execute(campaign.MailData{Client: campaign.ClientData{Custom: map[string]string{"key": "v"}}}); err != nil {
		t.Fatal(err)
	}
}
