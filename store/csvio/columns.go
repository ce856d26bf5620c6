package csvio

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crm-team/crm/store"
)

// field is one known column of the CSV format.
type field int

// The known columns, in the order Export writes them.
const (
	fName field = iota
	fKind
	fINN
	fKPP
	fOGRN
	fAddress
	fBank
	fBIK
	fAccount
	fCorrAccount
	fCity
	fRegion
	fIndustry
	fSegment
	fType
	fStage
	fRefusalReason
	fLeadSource
	fTags
	fManager
	fWebsite
	fCompanyPhone
	fCompanyEmail
	fGreetingsOff
	fContactName
	fContactPosition
	fContactDecisionMaker
	fContactPhone
	fContactEmail
	fContactBirthday
	fContactLanguage
	fContactTimeZone
	fConsent
	fNotes
	numFields
)

// columnDef names a column and its aliases. Aliases are written in the folded form
// of headerKey: lower case, ё as е, single spaces.
type columnDef struct {
	name    string
	contact bool // a contact person's column; the others describe the client
	aliases []string
}

var columnDefs = [numFields]columnDef{
	fName:                 {name: "name", aliases: []string{"название", "наименование", "клиент", "имя клиента", "название компании", "client", "company name"}},
	fKind:                 {name: "kind", aliases: []string{"вид", "вид клиента", "тип лица"}},
	fINN:                  {name: "inn", aliases: []string{"инн"}},
	fKPP:                  {name: "kpp", aliases: []string{"кпп"}},
	fOGRN:                 {name: "ogrn", aliases: []string{"огрн", "огрнип"}},
	fAddress:              {name: "address", aliases: []string{"адрес", "юридический адрес", "юр. адрес", "юр.адрес"}},
	fBank:                 {name: "bank", aliases: []string{"банк"}},
	fBIK:                  {name: "bik", aliases: []string{"бик"}},
	fAccount:              {name: "account", aliases: []string{"расчетный счет", "р/с", "р/сч"}},
	fCorrAccount:          {name: "corr_account", aliases: []string{"корреспондентский счет", "корр. счет", "к/с", "к/сч"}},
	fCity:                 {name: "city", aliases: []string{"город"}},
	fRegion:               {name: "region", aliases: []string{"регион", "область"}},
	fIndustry:             {name: "industry", aliases: []string{"отрасль", "сфера", "сфера деятельности"}},
	fSegment:              {name: "segment", aliases: []string{"сегмент"}},
	fType:                 {name: "type", aliases: []string{"тип", "тип клиента"}},
	fStage:                {name: "stage", aliases: []string{"стадия", "этап", "этап воронки", "стадия воронки"}},
	fRefusalReason:        {name: "refusal_reason", aliases: []string{"причина отказа"}},
	fLeadSource:           {name: "lead_source", aliases: []string{"источник", "источник лида", "откуда узнали"}},
	fTags:                 {name: "tags", aliases: []string{"теги", "тэги", "метки"}},
	fManager:              {name: "manager", aliases: []string{"менеджер", "ответственный", "ответственный менеджер"}},
	fWebsite:              {name: "website", aliases: []string{"сайт", "веб-сайт", "site", "web"}},
	fCompanyPhone:         {name: "company_phone", aliases: []string{"телефон компании", "телефон организации", "рабочий телефон"}},
	fCompanyEmail:         {name: "company_email", aliases: []string{"почта компании", "email компании", "e-mail компании", "эл. почта компании"}},
	fGreetingsOff:         {name: "greetings_off", aliases: []string{"без поздравлений", "не поздравлять"}},
	fContactName:          {name: "contact_name", contact: true, aliases: []string{"контакт", "контактное лицо", "фио", "имя контакта", "contact"}},
	fContactPosition:      {name: "contact_position", contact: true, aliases: []string{"должность", "position"}},
	fContactDecisionMaker: {name: "contact_decision_maker", contact: true, aliases: []string{"лпр", "decision_maker"}},
	fContactPhone:         {name: "contact_phone", contact: true, aliases: []string{"телефон", "телефоны", "тел", "тел.", "мобильный", "phone", "phones"}},
	fContactEmail:         {name: "contact_email", contact: true, aliases: []string{"email", "e-mail", "emails", "почта", "эл. почта", "электронная почта"}},
	fContactBirthday:      {name: "contact_birthday", contact: true, aliases: []string{"день рождения", "дата рождения", "birthday"}},
	fContactLanguage:      {name: "contact_language", contact: true, aliases: []string{"язык", "language"}},
	fContactTimeZone:      {name: "contact_timezone", contact: true, aliases: []string{"часовой пояс", "timezone", "time zone"}},
	fConsent:              {name: "consent", contact: true, aliases: []string{"согласие", "согласие на рассылку"}},
	fNotes:                {name: "notes", aliases: []string{"заметки", "примечание", "примечания", "комментарий", "комментарии"}},
}

// Prefixes of columns kept as custom fields (compared in lower case).
var customPrefixes = []string{"custom:", "доп:"}

var columnByKey = func() map[string]field {
	m := map[string]field{}
	for f, d := range columnDefs {
		m[d.name] = field(f)
		for _, a := range d.aliases {
			if _, dup := m[a]; dup {
				panic("csvio: column alias given twice: " + a)
			}
			m[a] = field(f)
		}
	}
	return m
}()

// headerKey folds a header cell: lower case, ё as е, single spaces.
func headerKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"'`)))
	s = strings.ReplaceAll(s, "ё", "е")
	return strings.Join(strings.Fields(s), " ")
}

// lookupColumn finds the known column a header cell names.
func lookupColumn(cell string) (field, bool) {
	k := headerKey(cell)
	if f, ok := columnByKey[k]; ok {
		return f, true
	}
	// "Contact Name", "contact-name" and "contact_name" are one column.
	k = strings.NewReplacer(" ", "_", "-", "_").Replace(k)
	f, ok := columnByKey[k]
	return f, ok
}

// customName returns the custom field a header cell names ("custom:Марка авто").
func customName(cell string) (string, bool) {
	c := strings.TrimSpace(cell)
	low := strings.ToLower(c)
	for _, p := range customPrefixes {
		if strings.HasPrefix(low, p) {
			return strings.TrimSpace(c[len(p):]), true
		}
	}
	return "", false
}

// cleanCustomName makes a custom field name safe as a document key, as
// store.UpdateClient does: dots become underscores, no leading $.
func cleanCustomName(name string) (string, error) {
	name = strings.ReplaceAll(strings.TrimSpace(name), ".", "_")
	if name == "" {
		return "", fmt.Errorf("a custom column needs a name after the prefix (e.g. custom:Марка авто)")
	}
	if strings.HasPrefix(name, "$") {
		return "", fmt.Errorf("custom field name %q may not start with $", name)
	}
	return name, nil
}

// header is the column layout of one file.
type header struct {
	pos     [numFields]int // position of each known column, -1 when absent
	cells   []string       // the header as written, for messages
	custom  []customCol
	unnamed []int // positions with an empty header cell
}

type customCol struct {
	name string
	pos  int
}

// label names a column in messages as the file names it.
func (h *header) label(f field) string {
	if p := h.pos[f]; p >= 0 && strings.TrimSpace(h.cells[p]) != "" {
		return strings.TrimSpace(h.cells[p])
	}
	return columnDefs[f].name
}

// parseHeader maps header cells to columns. Unknown columns, duplicates and a missing
// name column are reported together, so the file can be fixed in one go.
func parseHeader(cells []string) (*header, error) {
	h := &header{cells: append([]string(nil), cells...)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	var unknown, problems []string
	customSeen := map[string]int{}
	for i, cell := range cells {
		label := strings.TrimSpace(cell)
		if label == "" {
			h.unnamed = append(h.unnamed, i)
			continue
		}
		if name, ok := customName(label); ok {
			name, err := cleanCustomName(name)
			if err != nil {
				problems = append(problems, fmt.Sprintf("column %d (%q): %v", i+1, label, err))
				continue
			}
			if prev, dup := customSeen[name]; dup {
				problems = append(problems, fmt.Sprintf("custom field %q is given twice (columns %d and %d)", name, prev+1, i+1))
				continue
			}
			customSeen[name] = i
			h.custom = append(h.custom, customCol{name: name, pos: i})
			continue
		}
		f, ok := lookupColumn(label)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q (column %d)", label, i+1))
			continue
		}
		if prev := h.pos[f]; prev >= 0 {
			problems = append(problems, fmt.Sprintf("columns %d (%q) and %d (%q) both mean %s",
				prev+1, strings.TrimSpace(cells[prev]), i+1, label, columnDefs[f].name))
			continue
		}
		h.pos[f] = i
	}
	if len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("unknown column(s) %s: rename them to one of %s, or prefix them with \"custom:\" to keep them as custom fields",
			strings.Join(unknown, ", "), knownNames()))
	}
	if h.pos[fName] < 0 && len(problems) == 0 {
		problems = append(problems, "the header has no name column (\"name\" or \"Название\"); the first line of the file must name the columns")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: line 1 (header): %s; nothing was imported", store.ErrInvalid, strings.Join(problems, "; "))
	}
	return h, nil
}

func knownNames() string {
	names := make([]string, 0, numFields)
	for _, d := range columnDefs {
		names = append(names, d.name)
	}
	return strings.Join(names, ", ")
}

// parseStage reads a stage as store.ParseStage does; an empty cell is a new client.
func parseStage(s string) (store.Stage, error) {
	if strings.TrimSpace(s) == "" {
		return store.StageWhite, nil
	}
	return store.ParseStage(s)
}

var kindAliases = map[string]store.ClientKind{
	"company": store.KindCompany, "компания": store.KindCompany, "организация": store.KindCompany,
	"юрлицо": store.KindCompany, "юл": store.KindCompany,
	"person": store.KindPerson, "физлицо": store.KindPerson, "фл": store.KindPerson,
	"частноелицо": store.KindPerson, "человек": store.KindPerson,
}

func parseKind(s string) (store.ClientKind, error) {
	if s == "" {
		return store.KindCompany, nil
	}
	k := strings.ToLower(s)
	k = strings.NewReplacer(" ", "", ".", "", "-", "").Replace(k)
	if kind, ok := kindAliases[k]; ok {
		return kind, nil
	}
	return "", fmt.Errorf("%q is neither company nor person", s)
}

// parseBool reads yes/no in English and Russian.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "no", "n", "нет", "н", "0", "false", "-":
		return false, nil
	case "yes", "y", "да", "д", "1", "true", "+":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes or no (use yes/no, да/нет or 1/0)", s)
}

// sortedKeys returns a map's keys in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
