package campaign

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/crm-team/crm/store"
)

// Template is a letter's subject, text and HTML parts, parsed once and executed per
// recipient. The HTML part escapes what it puts in (html/template); missing fields are
// errors, so a typo is found before anyone gets "Dear <no value>".
type Template struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// ParseTemplate parses the parts; html may be empty. An error names the part and the
// line.
func ParseTemplate(subject, text, html string) (*Template, error) {
	t := &Template{}
	var err error
	if t.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(subject); err != nil {
		return nil, fmt.Errorf("the subject: %w", err)
	}
	if t.text, err = texttemplate.New("text").Option("missingkey=error").Parse(text); err != nil {
		return nil, fmt.Errorf("the text part: %w", err)
	}
	if strings.TrimSpace(html) != "" {
		if t.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(html); err != nil {
			return nil, fmt.Errorf("the HTML part: %w", err)
		}
	}
	return t, nil
}

// Rendered is a letter for one recipient, and its unsubscribe link (the template's
// {{.UnsubscribeURL}}), which the letter's List-Unsubscribe carries too.
type Rendered struct {
	Subject, Text, HTML string
	Unsubscribe         string
}

// Execute renders the parts for one recipient; an error names the part, the line and
// the field.
func (t *Template) Execute(data MailData) (Rendered, error) {
	r := Rendered{Unsubscribe: data.UnsubscribeURL}
	var b bytes.Buffer
	if err := t.subject.Execute(&b, data); err != nil {
		return r, fmt.Errorf("the subject: %w", explain(err))
	}
	r.Subject = strings.Join(strings.Fields(b.String()), " ") // a header is one line
	b.Reset()
	if err := t.text.Execute(&b, data); err != nil {
		return r, fmt.Errorf("the text part: %w", explain(err))
	}
	r.Text = b.String()
	if t.html != nil {
		b.Reset()
		if err := t.html.Execute(&b, data); err != nil {
			return r, fmt.Errorf("the HTML part: %w", explain(err))
		}
		r.HTML = b.String()
	}
	return r, nil
}

// MailData is what a template sees: {{.Contact.FirstName}}, {{.Client.Name}},
// {{.Manager.Signature}}, {{index .Client.Custom "car"}}, {{.UnsubscribeURL}}.
type MailData struct {
	Contact        ContactData
	Client         ClientData
	Manager        ManagerData
	UnsubscribeURL string
}

// ContactData is the recipient.
type ContactData struct {
	Name      string // as stored: "Иванов Иван Петрович"
	FirstName string // how a letter addresses them: "Иван Петрович"
	Position  string
	Email     string
}

// ClientData is the recipient's company.
type ClientData struct {
	Name, City, Industry string
	Custom               map[string]string
}

// ManagerData is the client's responsible manager, on whose behalf letters go out;
// for a client without one, the company (its sender name, and no address).
type ManagerData struct {
	Name, Email string
	Signature   string // the name, and the address when known
}

// NewMailData gathers a contact's fields for a template (a birthday greeting's);
// company signs for a client without a manager.
func NewMailData(c *store.Client, p store.Contact, m *store.Manager, email, company string) MailData {
	d := MailData{
		Contact: ContactData{Name: p.Name, FirstName: addressName(p.Name), Position: p.Position, Email: email},
		Client:  ClientData{Name: c.Name, City: c.City, Industry: c.Industry, Custom: c.Custom},
	}
	if d.Client.Custom == nil {
		d.Client.Custom = map[string]string{}
	}
	d.Manager = managerData(m, company)
	return d
}

// managerData signs a letter with the manager's name, or the company's, never with
// nothing: "С уважением," over a blank line reads as a mistake.
func managerData(m *store.Manager, company string) ManagerData {
	if m == nil || strings.TrimSpace(m.Name) == "" {
		return ManagerData{Name: company, Signature: company}
	}
	d := ManagerData{Name: m.Name, Email: m.Email, Signature: m.Name}
	if m.Email != "" {
		d.Signature += "\n" + m.Email
	}
	return d
}

// DefaultSenderName is the company's name in letters when none is configured: the
// display name of its address ("Ромашка <hello@romashka.ru>"), else the domain.
func DefaultSenderName(from string) string {
	a, err := mail.ParseAddress(from)
	switch {
	case err != nil:
		return ""
	case strings.TrimSpace(a.Name) != "":
		return strings.TrimSpace(a.Name)
	}
	return domainOf(a.Address)
}

// ParseTemplateFile reads a template file that defines "subject", "text" and,
// optionally, "html".
func ParseTemplateFile(name, src string) (*Template, error) {
	tt, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	ht, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	t := &Template{subject: tt.Lookup("subject"), text: tt.Lookup("text"), html: ht.Lookup("html")}
	if t.subject == nil || t.text == nil {
		return nil, fmt.Errorf("template %s must define \"subject\" and \"text\"", name)
	}
	return t, nil
}
