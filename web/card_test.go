package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/crm-team/crm/store"
)

// cardSite is a site with Anna's client Ромашка (a contact, a letter with an HTML
// body and a file, an attached file, an order and a long history), Boris's own client,
// an unassigned client, and a head.
type cardSite struct {
	*site
	anna, boris, head    *store.Manager
	c, borisC, nobody    *store.Client
	letterID             string
	fileID, letterFileID string
}

func newCardSite(t *testing.T) *cardSite { t.Helper(); return withCardClients(t, newSite(t)) }

func withCardClients(t *testing.T, s *site) *cardSite {
	t.Helper()
	cs := &cardSite{site: s}
	cs.anna = s.manager("Anna", store.RoleManager, 0)
	cs.boris = s.manager("Boris", store.RoleManager, 0)
	cs.head = s.manager("Helen", store.RoleHead, 0)
	cs.c = s.client(&store.Client{Name: "Ромашка", ManagerID: cs.anna.ID, City: "Москва", Industry: "Цветы",
		Legal: store.Legal{INN: "7707083893"}, Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: "Иван Петров",
			Position: "директор", Phones: []string{"+79161234567"}, Emails: []string{"ivan@romashka.ru"}}}})
	cs.borisC = s.client(&store.Client{Name: "Лютик", ManagerID: cs.boris.ID, Phones: []string{"+79031112233"}})
	cs.nobody = s.client(&store.Client{Name: "Василёк"})
	ctx := context.Background()
	for i := range 25 {
		if _, err := s.st.AppendInteraction(ctx, cs.c.ID, store.Interaction{Kind: store.InteractionNote, At: testNow,
			AuthorID: cs.anna.ID, Text: fmt.Sprintf("Заметка %02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	cs.letterFileID = "lf1"
	l := &store.Letter{ID: "mid:abc", Subject: "Счёт за ноябрь", From: store.MailAddress{Name: "Иван", Email: "ivan@romashka.ru"},
		To: []store.MailAddress{{Email: "sales@crm.example.com"}}, Date: testNow, Text: "Добрый день, пришлите счёт",
		HTML: `<p onclick="steal()">Добрый <b>день</b></p><script>parent.document.title="pwned"</script>`, Mailbox: "sales", Folder: "INBOX",
		Attachments: []store.LetterAttachment{{Name: "act.pdf", MIME: "application/pdf", Size: 4, FileID: cs.letterFileID}},
		Clients:     []string{cs.c.ID}}
	if err := s.st.SaveFiles(ctx, []*store.File{{ID: cs.letterFileID, LetterID: l.ID, Name: "act.pdf", Data: []byte("%PDF")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.SaveLetters(ctx, []*store.Letter{l}); err != nil {
		t.Fatal(err)
	}
	if err := s.st.LinkLetter(ctx, "mail", l, cs.c.ID); err != nil {
		t.Fatal(err)
	}
	cs.letterID = l.ID
	f := &store.File{ClientID: cs.c.ID, Name: "договор.html", MIME: "text/html", Data: []byte("<script>alert(1)</script>")}
	if err := s.st.AttachFile(ctx, cs.anna.ID, f); err != nil {
		t.Fatal(err)
	}
	cs.fileID = f.ID
	if _, err := s.st.RecordOrder(ctx, store.Viewer{ManagerID: cs.anna.ID, Role: store.RoleManager},
		store.NewOrder{ClientID: cs.c.ID, What: "Букеты", Amount: 1250050}); err != nil {
		t.Fatal(err)
	}
	return cs
}

// client reads a client as stored now.
func (cs *cardSite) stored(id string) *store.Client {
	cs.t.Helper()
	c, err := cs.st.Client(context.Background(), id)
	if err != nil {
		cs.t.Fatal(err)
	}
	return c
}

// formOf reads the form with the given action from a page as a browser would submit
// it: its inputs (checked checkboxes only) and text areas.
func formOf(t *testing.T, page, action string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if a, _ := attr(n, "action"); n.Type == html.ElementNode && n.Data == "form" && a == action {
			form = n
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form to %s in %s", action, page)
	}
	v := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name, _ := attr(n, "name")
			switch n.Data {
			case "input":
				val, _ := attr(n, "value")
				typ, _ := attr(n, "type")
				_, checked := attr(n, "checked")
				if typ != "checkbox" || checked {
					v.Add(name, val)
				}
			case "textarea":
				text := ""
				if n.FirstChild != nil {
					text = n.FirstChild.Data
				}
				v.Add(name, text)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return v
}

func (b *browser) post(path string, form url.Values) answer {
	b.s.t.Helper()
	return b.do(http.MethodPost, path, form)
}

// The card shows the details, contacts, money, files, a letter and a page of history
// with a link to older entries; the letter reads in full with its HTML sandboxed, and
// files download.
func TestCardPages(t *testing.T) {
	cs := newCardSite(t)
	a := cs.signIn(cs.anna)
	card := a.get("/app/clients/" + cs.c.ID)
	if card.code != http.StatusOK {
		t.Fatalf("the card: %d", card.code)
	}
	mustContain(t, "the card", card.body, "Ромашка", "7707083893", "Иван Петров", "директор", "No consent to mailings",
		"Orders and payments", "12\u202f500,50 RUB", "Букеты", "invoiced", `href="/app/files/`+cs.fileID+`"`, "договор.html",
		`href="/app/letters/mid:abc"`, "Счёт за ноябрь", "Заметка 24", `id="older"`, `href="/app/clients/`+cs.c.ID+`/edit"`,
		`/contacts/p1"`, "/contacts/new")
	mustNotContain(t, "Anna's card", card.body, "Заметка 00", `id="reassign"`, `id="take-client"`)
	before, _, _ := strings.Cut(card.body, `" rel="next" id="older"`)
	href := before[strings.LastIndex(before, `href="`)+len(`href="`):]
	href, _, _ = strings.Cut(html.UnescapeString(href), "#") // a browser keeps the fragment
	page := a.get(href)
	mustContain(t, "the older page", page.body, "Заметка 00")
	mustNotContain(t, "the older page", page.body, "Заметка 24")

	l := a.get("/app/letters/" + cs.letterID)
	if l.code != http.StatusOK {
		t.Fatalf("the letter: %d", l.code)
	}
	mustContain(t, "the letter", l.body, "Счёт за ноябрь", "ivan@romashka.ru", "sales@crm.example.com",
		`sandbox referrerpolicy="no-referrer" srcdoc="&lt;p onclick=`, "&lt;script&gt;", `href="/app/files/lf1"`, "act.pdf",
		"Добрый день, пришлите счёт")
	mustNotContain(t, "the letter", l.body, "<script>alert", `onclick="steal`, "allow-scripts", "allow-same-origin")

	f := a.get("/app/files/" + cs.fileID)
	if f.code != http.StatusOK || f.body != "<script>alert(1)</script>" {
		t.Fatalf("the file: %d %q", f.code, f.body)
	}
	if cd := f.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || f.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("an HTML file is not sent as a download: %q %q", cd, f.header.Get("Content-Type"))
	}
	if f := a.get("/app/files/" + cs.letterFileID); f.code != http.StatusOK || f.body != "%PDF" {
		t.Errorf("the letter's file: %d %q", f.code, f.body)
	}

	form := formOf(t, a.get("/app/clients/"+cs.c.ID+"/edit").body, "/app/clients/"+cs.c.ID+"/edit")
	form.Set("city", "Казань")
	if r := a.post("/app/clients/"+cs.c.ID+"/edit", form); r.code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.code, r.body)
	}
	audit := a.get("/app/clients/" + cs.c.ID + "/audit")
	mustContain(t, "the audit", audit.body, "Details changed", "city: Казань", "Anna", "File attached")

	// A head sees the card with the reassigning form; an unassigned client offers a
	// manager to take it.
	mustContain(t, "the head's card", cs.signIn(cs.head).get("/app/clients/"+cs.c.ID).body, `id="reassign"`, ">Boris</option>")
	mustContain(t, "an unassigned card", a.get("/app/clients/"+cs.nobody.ID).body, `id="take-client"`)
	mustNotContain(t, "an unassigned card", a.get("/app/clients/"+cs.nobody.ID).body, `id="edit-client"`)
}

// Forged requests change nothing: a manager against another manager's client (every
// page and action "not found"), a manager giving a client away, a change without or
// with a wrong CSRF token, editing an unassigned client without taking it.
func TestCardForgedRequests(t *testing.T) {
	cs := newCardSite(t)
	a := cs.signIn(cs.anna)
	b := cs.signIn(cs.boris)
	bToken := b.csrf()
	was := cs.stored(cs.c.ID)
	base := "/app/clients/" + cs.c.ID
	for _, path := range []string{base, base + "/edit", base + "/audit", base + "/contacts/new", base + "/contacts/p1",
		"/app/letters/" + cs.letterID, "/app/files/" + cs.fileID, "/app/files/" + cs.letterFileID} {
		r := b.get(path)
		if r.code != http.StatusNotFound {
			t.Errorf("Boris opens %s: %d", path, r.code)
		}
		mustNotContain(t, "Boris's refusal of "+path, r.body, "Ромашка", "Иван", "Счёт за ноябрь", "%PDF", "alert")
	}
	edit := url.Values{"csrf": {bToken}, "name": {"Взлом"}, "city": {"Нигде"}, "position": {"никто"}, "manager": {cs.boris.ID},
		"want": {"1"}, "cameback": {"1"}}
	edit.Set("sure", "1")
	for _, path := range []string{base + "/edit", base + "/contacts/new", base + "/contacts/p1", base + "/contacts/p1/consent",
		base + "/contacts/p1/delete", base + "/manager", base + "/take"} {
		if r := b.post(path, edit); r.code != http.StatusNotFound {
			t.Errorf("Boris posts to %s: %d", path, r.code)
		}
	}
	// Anna may not give her client away, nor change it without the token.
	aToken := a.csrf()
	if r := a.post(base+"/manager", url.Values{"csrf": {aToken}, "manager": {cs.boris.ID}}); r.code != http.StatusForbidden {
		t.Errorf("Anna reassigns: %d", r.code)
	}
	for _, token := range []string{"", "forged", bToken} {
		form := url.Values{"name": {"Взлом"}, "was.name": {"Ромашка"}}
		if token != "" {
			form.Set("csrf", token)
		}
		if r := a.post(base+"/edit", form); r.code != http.StatusForbidden {
			t.Errorf("an edit with CSRF token %q: %d", token, r.code)
		}
	}
	// From another site, even with the token.
	if r := a.do(http.MethodPost, base+"/edit", url.Values{"csrf": {aToken}, "name": {"Взлом"}}, "Origin", "https://evil.example",
		"Sec-Fetch-Site", "cross-site"); r.code != http.StatusForbidden {
		t.Errorf("a cross-site edit: %d", r.code)
	}
	// An unassigned client is taken before it is changed.
	if r := a.post("/app/clients/"+cs.nobody.ID+"/edit", url.Values{"csrf": {aToken}, "city": {"Тула"}}); r.code != http.StatusForbidden {
		t.Errorf("Anna edits a client she has not taken: %d", r.code)
	}
	now := cs.stored(cs.c.ID)
	if now.Version != was.Version || now.Name != "Ромашка" || now.ManagerID != cs.anna.ID || now.Contacts["p1"].Position != "директор" ||
		len(now.Contacts) != 1 || now.Contacts["p1"].Consent.Given {
		t.Errorf("forged requests changed the client: %+v", now)
	}
	if n := cs.stored(cs.nobody.ID); n.City != "" || n.ManagerID != "" {
		t.Errorf("the unassigned client changed: %+v", n)
	}

	// The head gives the client to Boris; Anna takes the unassigned one.
	h := cs.signIn(cs.head)
	if r := h.post(base+"/manager", url.Values{"csrf": {h.csrf()}, "manager": {cs.boris.ID}}); r.code != http.StatusSeeOther {
		t.Fatalf("the head reassigns: %d %s", r.code, r.body)
	}
	if m := cs.stored(cs.c.ID).ManagerID; m != cs.boris.ID {
		t.Errorf("after reassigning the manager is %q", m)
	}
	if r := h.post(base+"/manager", url.Values{"csrf": {h.csrf()}, "manager": {"nobody"}}); r.code != http.StatusUnprocessableEntity {
		t.Errorf("reassigning to nobody: %d", r.code)
	}
	if r := a.post("/app/clients/"+cs.nobody.ID+"/take", url.Values{"csrf": {aToken}}); r.code != http.StatusSeeOther {
		t.Errorf("Anna takes a client: %d", r.code)
	}
	if m := cs.stored(cs.nobody.ID).ManagerID; m != cs.anna.ID {
		t.Errorf("after taking the manager is %q", m)
	}
	if r := a.get(base); r.code != http.StatusNotFound {
		t.Errorf("Anna opens the card she no longer has: %d", r.code)
	}
}

// Bad input is shown in the form with what was typed, and nothing changes: an invalid
// INN, phone or e-mail, an empty name, a phone another client has.
func TestCardEditBadInput(t *testing.T) {
	cs := newCardSite(t)
	a := cs.signIn(cs.anna)
	base := "/app/clients/" + cs.c.ID
	was := cs.stored(cs.c.ID)
	shown := formOf(t, a.get(base+"/edit").body, base+"/edit")
	for _, tc := range []struct{ field, typed, says string }{
		{"inn", "7707083890", "is not a valid INN"},
		{"phones", "+7 916 123-45-67, 12345", "«12345» is not a phone number"},
		{"emails", "info@romashka", "is not an e-mail address"},
		{"name", "", "This field is required"},
		{"phones", "+7 903 111-22-33", "already belongs to the client «Лютик» of Boris"},
	} {
		form := url.Values{}
		for k, v := range shown {
			form[k] = v
		}
		form.Set("city", "Казань")
		form.Set(tc.field, tc.typed)
		r := a.post(base+"/edit", form)
		if r.code != http.StatusUnprocessableEntity {
			t.Errorf("%s %q: %d", tc.field, tc.typed, r.code)
		}
		mustContain(t, "the form after "+tc.typed, r.body, tc.says, `value="Казань"`, `name="was.city" value="Москва"`)
		if tc.typed != "" {
			mustContain(t, "the form after "+tc.typed, r.body, `value="`+strings.ReplaceAll(html.EscapeString(tc.typed), "+", "&#43;")+`"`)
		}
	}
	contact := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1")
	contact.Set("emails", "ivan@")
	if r := a.post(base+"/contacts/p1", contact); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "is not an e-mail address") {
		t.Errorf("a contact's bad e-mail: %d", r.code)
	}
	contact = formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1")
	contact.Set("birthday", "31.02.1980")
	if r := a.post(base+"/contacts/p1", contact); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "«31.02.1980» is not a date") {
		t.Errorf("a contact's bad birthday: %d", r.code)
	}
	added := formOf(t, a.get(base+"/contacts/new").body, base+"/contacts/new")
	added.Set("name", "Мария")
	added.Set("phones", "abc")
	if r := a.post(base+"/contacts/new", added); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="Мария"`) {
		t.Errorf("a new contact's bad phone: %d", r.code)
	}
	if now := cs.stored(cs.c.ID); now.Version != was.Version || now.City != "Москва" || len(now.Contacts) != 1 {
		t.Errorf("bad input changed the client: %+v", now)
	}
}

// Two tabs: each form writes only what was changed in it, so the later one does not
// undo the earlier one's change, in the client and in a contact person; an edit never
// subscribes an unsubscribed person again, and consent comes back only confirmed.
func TestCardEditStaleForms(t *testing.T) {
	cs := newCardSite(t)
	a := cs.signIn(cs.anna)
	base := "/app/clients/" + cs.c.ID
	tab1 := formOf(t, a.get(base+"/edit").body, base+"/edit")
	tab2 := formOf(t, a.get(base+"/edit").body, base+"/edit")
	tab1.Set("city", "Казань")
	tab1.Set("tags", "опт, vip")
	if r := a.post(base+"/edit", tab1); r.code != http.StatusSeeOther {
		t.Fatalf("tab 1: %d %s", r.code, r.body)
	}
	tab2.Set("name", "Ромашка плюс")
	tab2.Set("greetings", "1")
	tab2.Set("inn", "")
	if r := a.post(base+"/edit", tab2); r.code != http.StatusSeeOther {
		t.Fatalf("tab 2: %d %s", r.code, r.body)
	}
	c := cs.stored(cs.c.ID)
	if c.City != "Казань" || c.Name != "Ромашка плюс" || c.Legal.INN != "" || strings.Join(c.Tags, ",") != "опт,vip" || c.Industry != "Цветы" ||
		!c.GreetingsOff {
		t.Errorf("after two tabs: %+v", c)
	}
	mustContain(t, "the card after saving", a.get(base+"?done=saved").body, "Saved.", "Казань", "Ромашка плюс")

	p1 := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1")
	p2 := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1")
	give := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1/consent")
	if r := a.post(base+"/contacts/p1/consent", give); r.code != http.StatusSeeOther {
		t.Fatalf("give consent: %d", r.code)
	}
	if _, err := cs.st.Unsubscribe(context.Background(), cs.c.ID, "p1", "link", "camp1"); err != nil {
		t.Fatal(err)
	}
	p1.Set("position", "владелец")
	if r := a.post(base+"/contacts/p1", p1); r.code != http.StatusSeeOther {
		t.Fatalf("contact tab 1: %d %s", r.code, r.body)
	}
	p2.Set("dm", "1")
	p2.Set("phones", "+79161234567, 8 916 765-43-21")
	p2.Set("birthday", "5/3/1980")
	if r := a.post(base+"/contacts/p1", p2); r.code != http.StatusSeeOther {
		t.Fatalf("contact tab 2: %d %s", r.code, r.body)
	}
	p := cs.stored(cs.c.ID).Contacts["p1"]
	if p.Position != "владелец" || !p.DecisionMaker || len(p.Phones) != 2 || p.Consent.UnsubscribedAt == nil ||
		p.Birthday == nil || *p.Birthday != (store.Birthday{Year: 1980, Month: 3, Day: 5}) {
		t.Errorf("after two contact tabs: %+v", p)
	}
	mustContain(t, "the contact's form", a.get(base+"/contacts/p1").body, `value="05.03.1980"`)
	noDay := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1")
	noDay.Set("birthday", "")
	if r := a.post(base+"/contacts/p1", noDay); r.code != http.StatusSeeOther {
		t.Fatalf("birthday removed: %d %s", r.code, r.body)
	}
	if p := cs.stored(cs.c.ID).Contacts["p1"]; p.Birthday != nil || p.Position != "владелец" {
		t.Errorf("after removing the birthday: %+v", p)
	}
	// The consent form shown before the unsubscribe gives consent again only confirmed.
	r := a.post(base+"/contacts/p1/consent", give)
	if r.code != http.StatusConflict || !strings.Contains(r.body, `id="ask-came-back"`) {
		t.Errorf("consent for an unsubscribed person without confirmation: %d", r.code)
	}
	if p := cs.stored(cs.c.ID).Contacts["p1"]; p.Consent.UnsubscribedAt == nil {
		t.Error("an unconfirmed consent subscribed the person again")
	}
	mustContain(t, "the contact page", a.get(base+"/contacts/p1").body, "Unsubscribed on 03.12.2026 (by the link in a letter)")
	back := formOf(t, r.body, base+"/contacts/p1/consent")
	back.Set("cameback", "1")
	if r := a.post(base+"/contacts/p1/consent", back); r.code != http.StatusSeeOther {
		t.Fatalf("confirmed consent: %d", r.code)
	}
	if p := cs.stored(cs.c.ID).Contacts["p1"]; p.Consent.UnsubscribedAt != nil || !p.Consent.Given {
		t.Errorf("after the confirmed return: %+v", p.Consent)
	}
	off := formOf(t, a.get(base+"/contacts/p1").body, base+"/contacts/p1/consent")
	if r := a.post(base+"/contacts/p1/consent", off); r.code != http.StatusSeeOther || cs.stored(cs.c.ID).Contacts["p1"].Consent.Given {
		t.Errorf("withdraw consent: %d", r.code)
	}

	// A letter from the new person's address waits in /inbox (anyone may read it
	// there); adding the person moves it into the client's history, as in the bot.
	waiting := &store.Letter{ID: store.LetterID("m-1@mail", ""), MessageID: "m-1@mail", Subject: "Вопрос о доставке",
		From: store.MailAddress{Email: "maria@romashka.ru"}, Date: testNow, Text: "Когда привезёте?"}
	if err := cs.st.SetLetterUnsorted(context.Background(), waiting, true); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.st.SaveLetters(context.Background(), []*store.Letter{waiting}); err != nil {
		t.Fatal(err)
	}
	b := cs.signIn(cs.boris)
	if r := b.get("/app/letters/" + waiting.ID); r.code != http.StatusOK {
		t.Errorf("Boris reads a letter in /inbox: %d", r.code)
	}
	added := formOf(t, a.get(base+"/contacts/new").body, base+"/contacts/new")
	added.Set("name", "Мария Соколова")
	added.Set("emails", "Maria@Romashka.ru")
	added.Set("dm", "1")
	r = a.post(base+"/contacts/new", added)
	if r.code != http.StatusSeeOther || !strings.HasSuffix(r.location, "?done=claimed&n=1") {
		t.Fatalf("add a contact: %d %q %s", r.code, r.location, r.body)
	}
	mustContain(t, "the card after adding", a.get(r.location).body, "moved from /inbox into the history: 1", "Вопрос о доставке")
	if r := b.get("/app/letters/" + waiting.ID); r.code != http.StatusNotFound {
		t.Errorf("Boris reads Anna's client's letter: %d", r.code)
	}
	mariaID := ""
	for _, p := range cs.stored(cs.c.ID).Contacts {
		if p.Name == "Мария Соколова" && p.DecisionMaker && p.Emails[0] == "maria@romashka.ru" && !p.Consent.Given {
			mariaID = p.ID
		}
	}
	if mariaID == "" {
		t.Fatal("the new contact person is not saved")
	}
	// Removing a person needs the box ticked.
	remove := formOf(t, a.get(base+"/contacts/"+mariaID).body, base+"/contacts/"+mariaID+"/delete")
	if r := a.post(base+"/contacts/"+mariaID+"/delete", remove); r.code != http.StatusUnprocessableEntity {
		t.Errorf("remove unconfirmed: %d", r.code)
	}
	remove.Set("sure", "1")
	if r := a.post(base+"/contacts/"+mariaID+"/delete", remove); r.code != http.StatusSeeOther {
		t.Errorf("remove: %d", r.code)
	}
	if _, ok := cs.stored(cs.c.ID).Contacts[mariaID]; ok {
		t.Error("the removed person is still there")
	}
}
