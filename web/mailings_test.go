package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/web"
)

// withMailings gives a test site its mailings: package campaign over its store, with
// unsubscribe links, and test letters to srv (nil: no SMTP server); keep, when not
// nil, gets package campaign's side.
func withMailings(t *testing.T, srv *smtptest.Server, keep **campaign.Campaigns) siteOption {
	return func(st *store.Store, o *web.Options) {
		unsub, err := campaign.NewUnsubscriber(st, "a-test-secret-of-32-characters!!", o.PublicURL)
		if err != nil {
			t.Fatal(err)
		}
		o.Campaigns = campaign.NewCampaigns(st, unsub, "Sales <news@company.ru>", time.UTC)
		if srv != nil {
			o.Mailer = smtptest.Sender{Port: srv.Port()}
		}
		if keep != nil {
			*keep = o.Campaigns
		}
	}
}

// mailSite is a site with mailings, a team and clients to mail: three gold clients
// whose contacts consented, and a green one whose contact did not.
type mailSite struct {
	*site
	srv                *smtptest.Server
	cs                 *campaign.Campaigns
	admin, head, anna  *store.Manager
	gold1, gold2, grey *store.Client
}

func newMailSite(t *testing.T) *mailSite {
	m := &mailSite{srv: smtptest.Start(t)}
	m.site = newSite(t, withMailings(t, m.srv, &m.cs))
	m.admin = m.member(store.Manager{Name: "Ada", Role: store.RoleAdmin, Email: "ada@company.ru"})
	m.head = m.member(store.Manager{Name: "Helen", Role: store.RoleHead})
	m.anna = m.member(store.Manager{Name: "Anna", Role: store.RoleManager, Email: "anna@company.ru"})
	consent := store.Consent{Given: true, At: &testNow, Method: "form"}
	m.gold1 = m.client(&store.Client{Name: "Ромашка", ManagerID: m.anna.ID, City: "Москва", Stage: store.StageGold,
		Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Иванов Иван Петрович", Emails: []string{"ivan@romashka.ru"}, Consent: consent}}})
	m.gold2 = m.client(&store.Client{Name: "Лютик", City: "Казань", Stage: store.StageGold,
		Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Ольга Смирнова", Emails: []string{"olga@lutik.ru"}, Consent: consent}}})
	m.client(&store.Client{Name: "Василёк", City: "Москва", Stage: store.StageGold,
		Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Пётр Сидоров", Emails: []string{"petr@vasilek.ru"}, Consent: consent}}})
	m.grey = m.client(&store.Client{Name: "Одуванчик", City: "Москва", Stage: store.StageGreen,
		Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Анна Белова", Emails: []string{"anna@oduvan.ru"}}}})
	if err := m.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *mailSite) member(who store.Manager) *store.Manager {
	m.t.Helper()
	who.Language, who.Active = "en", true
	return storetest.Manager(m.t, m.st, who)
}

// draft saves a campaign through the store, as crm campaign create does.
func (m *mailSite) draft(name string, seg store.Segment) *store.Campaign {
	m.t.Helper()
	c := &store.Campaign{Name: name, Subject: "{{.Contact.FirstName}}, скидки для {{.Client.Name}}",
		Text: "Здравствуйте, {{.Contact.FirstName}}!\n{{.Manager.Signature}}", HTML: "<p>Здравствуйте, <b>{{.Contact.FirstName}}</b>!</p>",
		Segment: seg}
	if err := m.st.SaveCampaign(context.Background(), "test", c); err != nil {
		m.t.Fatal(err)
	}
	return c
}

func (m *mailSite) campaign(id string) *store.Campaign {
	m.t.Helper()
	c, err := m.st.Campaign(context.Background(), id)
	if err != nil {
		m.t.Fatal(err)
	}
	return c
}

func (m *mailSite) campaigns() []store.Campaign {
	m.t.Helper()
	list, err := m.st.Campaigns(context.Background())
	if err != nil {
		m.t.Fatal(err)
	}
	return list
}

var gold = store.Segment{Stages: []store.Stage{store.StageGold}}

// The editor's form for a new campaign.
func campaignForm(name string) url.Values {
	return url.Values{"name": {name}, "subject": {"{{.Contact.FirstName}}, новинки"}, "text": {"Здравствуйте, {{.Contact.FirstName}}!"},
		"html": {"<h1>Новинки</h1><p>{{.Client.Name}}</p>"}, "stage": {"gold"}, "city": {"Москва, Казань"}}
}

// A manager sees no mailings and changes none: the pages are refused, a forged create
// or start changes nothing; a head and an admin run them, as in the bot and the CLI.
func TestMailingsAreRefusedToAManager(t *testing.T) {
	m := newMailSite(t)
	c := m.draft("Осень", gold)
	a := m.signIn(m.anna)
	mustNotContain(t, "a manager's menu", a.get("/app/clients").body, `href="/app/campaigns"`)
	for _, path := range []string{"/app/campaigns", "/app/campaigns/new", "/app/campaigns/" + c.ID, "/app/campaigns/" + c.ID + "/preview",
		"/app/campaigns/count?stage=gold", "/app/campaigns/" + c.ID + "/status", "/app/campaigns/" + c.ID + "/report?format=csv"} {
		if got := a.get(path); got.code != http.StatusForbidden || strings.Contains(got.body, "Осень") {
			t.Errorf("a manager GET %s: %d", path, got.code)
		}
	}
	for _, path := range []string{"/app/campaigns", "/app/campaigns/" + c.ID + "/start", "/app/campaigns/" + c.ID + "/delete",
		"/app/campaigns/" + c.ID + "/edit", "/app/campaigns/" + c.ID + "/test"} {
		if got := a.postCSRF(path, campaignForm("Чужая")); got.code != http.StatusForbidden {
			t.Errorf("a manager POST %s: %d", path, got.code)
		}
	}
	if list := m.campaigns(); len(list) != 1 || list[0].State != store.CampaignDraft || list[0].Name != "Осень" || list[0].Subject != c.Subject {
		t.Errorf("after a manager's requests: %+v", list)
	}
	if m.srv.Count() != 0 {
		t.Error("a manager's test letter went out")
	}
	for _, who := range []*store.Manager{m.head, m.admin} {
		page := m.signIn(who).get("/app/campaigns")
		if page.code != http.StatusOK {
			t.Errorf("%s opens the mailings: %d", who.Name, page.code)
		}
		mustContain(t, who.Name+"'s mailings", page.body, `href="/app/campaigns"`, "Осень", "Draft")
	}
}

// An admin makes a draft in the editor; bad input and forged requests (no CSRF token,
// a wrong one) save nothing.
func TestCreateACampaign(t *testing.T) {
	m := newMailSite(t)
	b := m.signIn(m.admin)
	page := b.get("/app/campaigns/new").body
	mustContain(t, "the editor", page, "{{.Contact.FirstName}}", `{{index .Client.Custom &#34;key&#34;}}`, `name="stage" value="gold"`,
		`value="`+m.anna.ID+`"`, `data-count="/app/campaigns/count"`)

	form := campaignForm("Новинки")
	noCSRF := b.do(http.MethodPost, "/app/campaigns", form)
	form.Set("csrf", "forged")
	forged := b.do(http.MethodPost, "/app/campaigns", form)
	if noCSRF.code != http.StatusForbidden || forged.code != http.StatusForbidden {
		t.Errorf("without CSRF: %d; forged: %d", noCSRF.code, forged.code)
	}
	for field, value := range map[string]string{"subject": " ", "sender": "not an address", "schedule": "someday", "stage": "golden",
		"custom": "no equals sign"} {
		bad := campaignForm("Плохая")
		bad.Set(field, value)
		got := b.postCSRF("/app/campaigns", bad)
		if got.code != http.StatusUnprocessableEntity || !strings.Contains(got.body, `id="problem"`) {
			t.Errorf("%s %q: %d", field, value, got.code)
		}
	}
	bad := campaignForm("Плохая")
	bad.Set("text", "Здравствуйте, {{.Contact.Nmae}")
	if got := b.postCSRF("/app/campaigns", bad); got.code != http.StatusUnprocessableEntity {
		t.Errorf("a template that does not parse: %d", got.code)
	}
	if list := m.campaigns(); len(list) != 0 {
		t.Fatalf("bad input saved %d campaigns", len(list))
	}

	got := b.postCSRF("/app/campaigns", campaignForm("Новинки"))
	list := m.campaigns()
	if got.code != http.StatusSeeOther || len(list) != 1 {
		t.Fatalf("create: %d %q; %d campaigns", got.code, got.body, len(list))
	}
	c := list[0]
	if got.location != "/app/campaigns/"+c.ID+"?done=created" || c.State != store.CampaignDraft || c.Subject != "{{.Contact.FirstName}}, новинки" ||
		fmt.Sprint(c.Segment.Stages, c.Segment.Cities) != "[gold] [Москва Казань]" || c.CreatedBy != m.admin.ID {
		t.Errorf("created %q: %+v", got.location, c)
	}
	page = b.get(got.location).body
	mustContain(t, "the new campaign's page", page, "Новинки", "The draft was saved", `id="act-start"`, `id="act-delete"`, "Not sent yet")
	if got := b.postCSRF("/app/campaigns", campaignForm("новинки ")); got.code != http.StatusUnprocessableEntity ||
		!strings.Contains(got.body, "exists already") {
		t.Errorf("a name taken: %d", got.code)
	}
}

// An edit writes only what the person changed: a text changed meanwhile by someone
// else stays. A campaign no longer a draft is not changed.
func TestEditACampaign(t *testing.T) {
	m := newMailSite(t)
	c := m.draft("Осень", gold)
	b := m.signIn(m.admin)
	page := b.get("/app/campaigns/" + c.ID + "/edit").body
	mustContain(t, "the editor of a draft", page, "Осень", `name="stage" value="gold" checked`, "was.text")
	form := formFromPage(t, page)
	// Someone else changes the text meanwhile.
	if _, _, err := m.st.EditDraft(context.Background(), "other", c.ID, func(x *store.Campaign) error { x.Text = "Новый текст"; return nil }); err != nil {
		t.Fatal(err)
	}
	form.Set("subject", "Скидки до конца года")
	form["stage"] = []string{"gold", "platinum"}
	got := b.postCSRF("/app/campaigns/"+c.ID+"/edit", form)
	if got.code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", got.code, got.body)
	}
	after := m.campaign(c.ID)
	if after.Subject != "Скидки до конца года" || after.Text != "Новый текст" || fmt.Sprint(after.Segment.Stages) != "[gold platinum]" {
		t.Errorf("after the edit: %q %q %v", after.Subject, after.Text, after.Segment.Stages)
	}

	// Started, it is no longer a draft: the editor says so and a save changes nothing.
	if _, _, err := m.cs.Start(context.Background(), m.admin.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "the editor of a started campaign", b.get("/app/campaigns/"+c.ID+"/edit").body, "only a draft can be changed")
	form.Set("subject", "Поздно")
	got = b.postCSRF("/app/campaigns/"+c.ID+"/edit", form)
	if got.code != http.StatusUnprocessableEntity || !strings.Contains(got.body, "only a draft can be edited") {
		t.Errorf("editing a started campaign: %d", got.code)
	}
	if now := m.campaign(c.ID); now.Subject != "Скидки до конца года" || now.State != store.CampaignPreparing {
		t.Errorf("after editing a started campaign: %q %s", now.Subject, now.State)
	}
}

// formFromPage reads the editor's form as a browser would post it.
func formFromPage(t *testing.T, page string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, part := range strings.Split(page, "<")[1:] {
		tag, text, _ := strings.Cut(part, ">")
		attr := func(name string) (string, bool) {
			_, v, ok := strings.Cut(tag, " "+name+`="`)
			v, _, _ = strings.Cut(v, `"`)
			return htmlUnescape(v), ok
		}
		name, ok := attr("name")
		if !ok || name == "csrf" {
			continue
		}
		switch {
		case strings.HasPrefix(tag, "input") && strings.Contains(tag, `type="checkbox"`):
			if strings.Contains(tag, " checked") {
				v, _ := attr("value")
				form.Add(name, v)
			}
		case strings.HasPrefix(tag, "input"):
			v, _ := attr("value")
			form.Set(name, v)
		case strings.HasPrefix(tag, "textarea"):
			form.Set(name, htmlUnescape(text))
		case strings.HasPrefix(tag, "select"):
			form.Set(name, "")
		}
	}
	return form
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+", "&amp;", "&").Replace(s)
}

// The editor's live count: the recipients of the segment as the form describes it.
func TestLiveCount(t *testing.T) {
	m := newMailSite(t)
	b := m.signIn(m.head)
	count := func(q string) (n struct {
		Recipients, Excluded int
		Text, Problem        string
		First                []string
	}) {
		t.Helper()
		got := b.get("/app/campaigns/count?" + q)
		if got.code != http.StatusOK {
			t.Fatalf("count %s: %d", q, got.code)
		}
		if err := json.Unmarshal([]byte(got.body), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("stage=gold"); n.Recipients != 3 || n.Excluded != 0 || len(n.First) != 3 || !strings.Contains(n.Text, "3 recipients") {
		t.Errorf("gold: %+v", n)
	}
	if n := count("stage=gold&city=Москва"); n.Recipients != 2 {
		t.Errorf("gold in Moscow: %+v", n)
	}
	if n := count("manager=" + m.anna.ID); n.Recipients != 1 || n.First[0] != "Иванов Иван Петрович · Ромашка" {
		t.Errorf("Anna's: %+v", n)
	}
	if n := count(""); n.Recipients != 3 || n.Excluded != 1 {
		t.Errorf("everyone: %+v", n)
	}
	alt := m.draft("Варианты", store.Segment{Any: []store.Segment{{Cities: []string{"Казань"}}, {Managers: []string{m.anna.ID}}}})
	if n := count("city=Тверь&id=" + alt.ID); n.Recipients != 2 {
		t.Errorf("Tver or a draft's alternatives (Kazan, Anna's): %+v", n)
	}
	if n := count("stage=golden"); n.Problem == "" {
		t.Errorf("a stage that does not exist: %+v", n)
	}
}

// The preview renders the letter for a recipient chosen from the segment, its HTML in
// a sandboxed frame that runs no script; a template problem names the field and the
// fields there are.
func TestPreview(t *testing.T) {
	m := newMailSite(t)
	c := m.draft("Осень", gold)
	b := m.signIn(m.admin)
	page := b.get("/app/campaigns/" + c.ID + "/preview?to=" + url.QueryEscape(m.gold2.ID+"/p1"))
	if page.code != http.StatusOK {
		t.Fatalf("preview: %d", page.code)
	}
	mustContain(t, "the preview for Olga", page.body, `sandbox=""`, `srcdoc="&lt;p&gt;Здравствуйте, &lt;b&gt;Ольга&lt;/b&gt;!&lt;/p&gt;"`,
		"Ольга, скидки для Лютик", "Ольга Смирнова &lt;olga@lutik.ru&gt; · Лютик", "Sales &lt;news@company.ru&gt;", `value="`+m.gold1.ID+`/p1"`, "ada@company.ru")
	mustNotContain(t, "the sandbox", page.body, "allow-scripts")
	page = b.get("/app/campaigns/" + c.ID + "/preview")
	mustContain(t, "the preview for the first recipient", page.body, "скидки для")

	if _, _, err := m.st.EditDraft(context.Background(), "test", c.ID, func(x *store.Campaign) error {
		x.Text = "Здравствуйте, {{.Contact.Nmae}}!"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	page = b.get("/app/campaigns/" + c.ID + "/preview")
	check := b.get("/app/campaigns/" + c.ID + "?check=1").body
	mustContain(t, "a check of a draft with a problem", check, `id="problem"`, "no field Nmae")
	mustContain(t, "the check of a good draft", b.get("/app/campaigns/"+m.draft("Город", gold).ID+"?check=1").body,
		"Every letter renders: 3 recipients now.")
	empty := &store.Campaign{Name: "Отрасль", Subject: "Новости", Text: "Для отрасли {{.Client.Industry}}", Segment: gold}
	if err := m.st.SaveCampaign(context.Background(), "test", empty); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "the check of a draft printing an empty field", b.get("/app/campaigns/"+empty.ID+"?check=1").body,
		"{{.Client.Industry}} is empty in 3 of 3 letters, e.g. to ")
	mustContain(t, "a template problem", page.body, `id="problem"`, "{{.Contact.Nmae}}: no field Nmae; fields: Name, FirstName, Position, Email")
	if page := b.get("/app/campaigns/" + c.ID + "/preview?to=nobody/p1"); page.code != http.StatusNotFound {
		t.Errorf("a recipient who does not exist: %d", page.code)
	}
}

// A test letter goes to the signed-in person's own address, rendered for the chosen
// recipient; without an address of one's own it says so and sends nothing.
func TestTestLetter(t *testing.T) {
	m := newMailSite(t)
	c := m.draft("Осень", gold)
	b := m.signIn(m.admin)
	got := b.postCSRF("/app/campaigns/"+c.ID+"/test", url.Values{"to": {m.gold2.ID + "/p1"}})
	if got.code != http.StatusSeeOther {
		t.Fatalf("test letter: %d %s", got.code, got.body)
	}
	mustContain(t, "after the test letter", b.get(got.location).body, "The test letter went to ada@company.ru")
	letters := m.srv.To("ada@company.ru")
	if len(letters) != 1 || !strings.Contains(letters[0].Header("Subject"), "test") {
		t.Fatalf("letters to Ada: %d", len(letters))
	}
	if body := string(letters[0].Data); !strings.Contains(body, "olga") && !strings.Contains(body, "Subject:") {
		t.Errorf("the test letter: %s", body)
	}
	h := m.signIn(m.head) // Helen has no address
	got = h.postCSRF("/app/campaigns/"+c.ID+"/test", url.Values{"to": {m.gold2.ID + "/p1"}})
	if got.code != http.StatusUnprocessableEntity || !strings.Contains(got.body, "no e-mail address") {
		t.Errorf("a test letter without an address: %d", got.code)
	}
	if m.srv.Count() != 1 {
		t.Errorf("%d letters arrived", m.srv.Count())
	}
}

// Start, pause, resume, archive and delete go through package campaign with its state
// checks: a wrong state is refused with the reason and changes nothing. A started
// campaign's page follows its progress, and its report lists who got what.
func TestCampaignActionsAndProgress(t *testing.T) {
	m := newMailSite(t)
	c := m.draft("Осень", gold)
	b := m.signIn(m.admin)
	act := func(action string, want int) answer {
		t.Helper()
		got := b.postCSRF("/app/campaigns/"+c.ID+"/"+action, nil)
		if got.code != want {
			t.Fatalf("%s: %d, want %d: %s", action, got.code, want, got.body)
		}
		return got
	}
	for _, a := range []string{"pause", "resume", "archive"} {
		mustContain(t, a+" of a draft", act(a, http.StatusConflict).body, `id="problem"`, "draft")
	}
	if got := m.campaign(c.ID); got.State != store.CampaignDraft || got.IsArchived() {
		t.Fatalf("refusals changed the draft: %s", got.State)
	}
	if got := b.postCSRF("/app/campaigns/"+c.ID+"/explode", nil); got.code != http.StatusNotFound {
		t.Errorf("an unknown action: %d", got.code)
	}
	noCSRF := b.do(http.MethodPost, "/app/campaigns/"+c.ID+"/start", url.Values{})
	forged := b.do(http.MethodPost, "/app/campaigns/"+c.ID+"/start", url.Values{"csrf": {"forged"}})
	if noCSRF.code != http.StatusForbidden || forged.code != http.StatusForbidden || m.campaign(c.ID).State != store.CampaignDraft {
		t.Fatalf("a start without CSRF: %d; forged: %d; %s", noCSRF.code, forged.code, m.campaign(c.ID).State)
	}
	act("start", http.StatusSeeOther)
	if got := m.campaign(c.ID); got.State != store.CampaignPreparing {
		t.Fatalf("started: %s", got.State)
	}
	mustContain(t, "a second start", act("start", http.StatusConflict).body, "only a draft starts")
	mustContain(t, "deleting a started campaign", act("delete", http.StatusConflict).body, "only a draft can be deleted")
	page := b.get("/app/campaigns/" + c.ID).body
	mustContain(t, "the page of a running campaign", page, `data-running="true"`, `data-status="/app/campaigns/`+c.ID+`/status"`, `id="act-pause"`)
	act("pause", http.StatusSeeOther)
	mustContain(t, "a paused campaign's page", b.get("/app/campaigns/"+c.ID).body, "Paused by Ada", `id="act-resume"`)
	act("resume", http.StatusSeeOther)

	// The runner sends it, as crm serve does.
	rn := campaign.NewRunner(m.cs, smtptest.Sender{Port: m.srv.Port()}, campaign.RunnerOptions{Owner: "test", Now: m.clock.Now})
	for i := 0; i < 20 && m.campaign(c.ID).State != store.CampaignDone; i++ {
		if err := rn.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var st struct {
		State                                string
		Running                              bool
		Sent, Failed, Deferred, Cut, Skipped int
		History                              string
	}
	got := b.get("/app/campaigns/" + c.ID + "/status")
	if err := json.Unmarshal([]byte(got.body), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != "done" || st.Running || st.Sent != 3 || st.Failed+st.Deferred+st.Cut+st.Skipped != 0 || st.History != "History lines written: 3 of 3" {
		t.Errorf("status: %+v", st)
	}
	page = b.get("/app/campaigns/" + c.ID).body
	mustContain(t, "a done campaign's page", page, `data-running="false"`, "ivan@romashka.ru", "olga@lutik.ru", "petr@vasilek.ru",
		`id="act-archive"`, "report?format=xlsx")
	csv := b.get("/app/campaigns/" + c.ID + "/report?format=csv")
	if csv.code != http.StatusOK || !strings.Contains(csv.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.body, "client;contact;email;outcome") || strings.Count(csv.body, ";sent;") != 3 {
		t.Errorf("the CSV report: %d %q", csv.code, csv.body)
	}
	xlsx := b.get("/app/campaigns/" + c.ID + "/report?format=xlsx")
	if xlsx.code != http.StatusOK || !strings.HasPrefix(xlsx.body, "PK") {
		t.Errorf("the workbook: %d", xlsx.code)
	}
	act("archive", http.StatusSeeOther)
	if !m.campaign(c.ID).IsArchived() {
		t.Error("not archived")
	}
	list := b.get("/app/campaigns").body
	mustNotContain(t, "the list", list, ">Осень</a>")
	mustContain(t, "the list with the archived", b.get("/app/campaigns?all=1").body, ">Осень</a>", "archived")

	d := m.draft("Черновик", gold)
	if got := b.postCSRF("/app/campaigns/"+d.ID+"/delete", nil); got.code != http.StatusSeeOther {
		t.Fatalf("delete a draft: %d", got.code)
	}
	if _, err := m.st.Campaign(context.Background(), d.ID); err == nil {
		t.Error("the draft is still there")
	}
}

// An admin signs in in Chromium, makes a campaign in the editor and sees its live
// count, looks at its preview and sends the test letter, which the SMTP server gets;
// then starts it, and its page follows the run to its end by itself.
func TestBrowserMakesACampaign(t *testing.T) {
	srv := smtptest.Start(t)
	var cs *campaign.Campaigns
	s, _ := liveSite(t, withMailings(t, srv, &cs))
	m := &mailSite{site: s, srv: srv, cs: cs}
	m.admin = m.member(store.Manager{Name: "Ada", Role: store.RoleAdmin, Email: "ada@company.ru"})
	consent := store.Consent{Given: true, At: &testNow, Method: "form"}
	for i, name := range []string{"Ромашка", "Лютик", "Василёк"} {
		m.client(&store.Client{Name: name, Stage: store.StageGold, Contacts: map[string]store.Contact{"p1": {ID: "p1",
			Name: fmt.Sprintf("Ольга Смирнова %d", i), Emails: []string{fmt.Sprintf("olga%d@example.ru", i)}, Consent: consent}}})
	}
	m.client(&store.Client{Name: "Одуванчик", Stage: store.StageGreen, Contacts: map[string]store.Contact{"p1": {ID: "p1",
		Name: "Анна Белова", Emails: []string{"anna@example.ru"}, Consent: consent}}})
	if err := m.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	link, err := m.h.SignInLink(context.Background(), m.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := strings.Cut(link, "/app/")
	ctx := browse(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("client-filters")),
		chromedp.Navigate(base+"/app/campaigns"),
		chromedp.Click(chromedp.ID("new-campaign")),
		chromedp.WaitVisible(chromedp.ID("campaign-form")),
		// Everyone with consent first, then the gold ones.
		chromedp.WaitVisible(chromedp.Search(`//p[@id="segment-count"][contains(., "4 recipients")]`)),
		chromedp.SendKeys(chromedp.ID("f-name"), "Зимняя распродажа"),
		chromedp.SendKeys(chromedp.ID("f-subject"), "{{.Contact.FirstName}}, скидки"),
		chromedp.SendKeys(chromedp.ID("f-text"), "Здравствуйте, "),
		chromedp.Click(chromedp.Search(`//button[@data-insert="{{.Contact.FirstName}}"]`)),
		chromedp.SendKeys(chromedp.ID("f-html"), "<p>Скидки для <b>{{.Client.Name}}</b></p>"),
		chromedp.Click(chromedp.Search(`//input[@name="stage"][@value="gold"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="segment-count"][contains(., "3 recipients")]`)),
	)
	if err != nil {
		t.Fatalf("the editor: %v", err)
	}
	shot(t, ctx, "campaign-editor")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("done")),
		chromedp.Click(chromedp.ID("preview-link")),
		chromedp.WaitVisible(chromedp.ID("preview-html")),
	)
	if err != nil {
		t.Fatalf("save and preview: %v", err)
	}
	shot(t, ctx, "campaign-preview")
	subject, err1 := chromedp.Run(ctx, chromedp.Text(chromedp.ID("preview-subject")))
	text, err2 := chromedp.Run(ctx, chromedp.Text(chromedp.ID("preview-text")))
	sandbox, err3 := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("preview-html"), "sandbox"))
	if err := errors.Join(err1, err2, err3); err != nil || subject != "Ольга, скидки" || !strings.Contains(text, "Здравствуйте, Ольга") ||
		!sandbox.Exists || sandbox.Value != "" {
		t.Fatalf("the preview: %q %q sandbox %+v (%v)", subject, text, sandbox, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("send-test")),
		chromedp.WaitVisible(chromedp.ID("sent")),
	)
	if err != nil {
		t.Fatalf("the test letter: %v", err)
	}
	letters := srv.To("ada@company.ru")
	if len(letters) != 1 || !strings.Contains(letters[0].Header("Subject"), "test") {
		t.Fatalf("the SMTP server got %d letters for Ada", len(letters))
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/app/campaigns"),
		chromedp.Click(chromedp.Search(`//a[text()="Зимняя распродажа"]`)),
		chromedp.Click(chromedp.ID("act-start")),
		chromedp.WaitVisible(chromedp.Search(`//span[@id="campaign-state"][contains(., "Preparing")]`)),
	)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	// The runner sends it, as crm serve does, while the page polls its status.
	rn := campaign.NewRunner(cs, smtptest.Sender{Port: srv.Port()}, campaign.RunnerOptions{Owner: "test", Now: m.clock.Now})
	list := m.campaigns()
	for i := 0; i < 20 && m.campaign(list[0].ID).State != store.CampaignDone; i++ {
		if err := rn.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.Search(`//span[@id="campaign-state"][contains(., "Done")]`)),
		chromedp.WaitVisible(chromedp.Search(`//b[@data-count="sent"][text()="3"]`)),
		chromedp.WaitVisible(chromedp.ID("report")),
	)
	if err != nil {
		t.Fatalf("the progress: %v", err)
	}
	shot(t, ctx, "campaign-done")
}

// The report is shown 50 contacts a page; a campaign with a schedule is scheduled by
// its start, and pauses and resumes back to its schedule.
func TestReportPagesAndSchedule(t *testing.T) {
	m := newMailSite(t)
	consent := store.Consent{Given: true, At: &testNow, Method: "form"}
	for i := range 52 {
		m.client(&store.Client{Name: fmt.Sprintf("Клиент %02d", i), Stage: store.StagePlatinum, Contacts: map[string]store.Contact{"p1": {ID: "p1",
			Name: fmt.Sprintf("Контакт %02d", i), Emails: []string{fmt.Sprintf("c%02d@example.ru", i)}, Consent: consent}}})
	}
	if err := m.st.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := m.draft("Платина", store.Segment{Stages: []store.Stage{store.StagePlatinum}})
	b := m.signIn(m.admin)
	if got := b.postCSRF("/app/campaigns/"+c.ID+"/start", nil); got.code != http.StatusSeeOther {
		t.Fatalf("start: %d", got.code)
	}
	rn := campaign.NewRunner(m.cs, smtptest.Sender{Port: m.srv.Port()}, campaign.RunnerOptions{Owner: "test", Now: m.clock.Now})
	for i := 0; i < 20 && m.campaign(c.ID).State != store.CampaignDone; i++ {
		if err := rn.Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	first := b.get("/app/campaigns/" + c.ID).body
	second := b.get("/app/campaigns/" + c.ID + "?page=2").body
	if n := strings.Count(first, "outcome-sent"); n != 50 {
		t.Errorf("the first page shows %d contacts", n)
	}
	if n := strings.Count(second, "outcome-sent"); n != 2 {
		t.Errorf("the second page shows %d contacts", n)
	}
	mustContain(t, "the first page", first, `rel="next"`)
	mustContain(t, "the second page", second, `rel="prev"`)
	mustNotContain(t, "the second page", second, `rel="next"`)

	d := m.draft("Потом", gold)
	form := formFromPage(t, b.get("/app/campaigns/"+d.ID+"/edit").body)
	form.Set("schedule", "2026-12-20 10:00")
	if got := b.postCSRF("/app/campaigns/"+d.ID+"/edit", form); got.code != http.StatusSeeOther {
		t.Fatalf("set the schedule: %d %s", got.code, got.body)
	}
	for _, step := range []struct {
		action string
		state  store.CampaignState
	}{{"start", store.CampaignScheduled}, {"pause", store.CampaignPaused}, {"resume", store.CampaignScheduled}} {
		if got := b.postCSRF("/app/campaigns/"+d.ID+"/"+step.action, nil); got.code != http.StatusSeeOther {
			t.Fatalf("%s: %d", step.action, got.code)
		}
		if got := m.campaign(d.ID); got.State != step.state || got.RunAt == nil {
			t.Fatalf("after %s: %s %v", step.action, got.State, got.RunAt)
		}
	}
	mustContain(t, "a scheduled campaign's page", b.get("/app/campaigns/"+d.ID).body, "next run 20.12.2026 10:00", `id="act-pause"`)
}

// Without package campaign the mailings say they are off; without an SMTP server a
// test letter says it needs one, and nothing is sent.
func TestMailingsOffAndNoSMTP(t *testing.T) {
	s := newSite(t)
	admin := s.manager("Ada", store.RoleAdmin, 0)
	if got := s.signIn(admin).get("/app/campaigns"); got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "not set up") {
		t.Errorf("mailings off: %d", got.code)
	}
	m := &mailSite{}
	m.site = newSite(t, withMailings(t, nil, &m.cs))
	m.admin = m.member(store.Manager{Name: "Ada", Role: store.RoleAdmin, Email: "ada@company.ru"})
	c := m.draft("Осень", store.Segment{})
	cl := m.client(&store.Client{Name: "Ромашка", Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Иван", Emails: []string{"i@r.ru"}}}})
	got := m.signIn(m.admin).postCSRF("/app/campaigns/"+c.ID+"/test", url.Values{"to": {cl.ID + "/p1"}})
	if got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "CRM_SMTP_HOST") {
		t.Errorf("a test letter without SMTP: %d", got.code)
	}
}
