package csvio_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func importString(t *testing.T, s *store.Store, data string, opts csvio.ImportOptions) csvio.ImportReport {
	t.Helper()
	rep, err := csvio.Import(context.Background(), s, "m1", strings.NewReader(data), opts)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, rep)
	}
	return rep
}

// clients reads every client, by name.
func clients(t *testing.T, s *store.Store) map[string]*store.Client {
	t.Helper()
	out := map[string]*store.Client{}
	err := s.EachClient(context.Background(), func(c *store.Client) error {
		if _, dup := out[c.Name]; dup {
			t.Errorf("client %q is stored twice", c.Name)
		}
		out[c.Name] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkCounts(t *testing.T, rep csvio.ImportReport, read, created, existing, failed int) {
	t.Helper()
	if rep.Read != read || rep.Created != created || rep.Existing != existing || rep.Failed != failed {
		t.Fatalf("read/created/existing/failed = %d/%d/%d/%d, want %d/%d/%d/%d\n%s",
			rep.Read, rep.Created, rep.Existing, rep.Failed, read, created, existing, failed, rep)
	}
}

func checkErrors(t *testing.T, rep csvio.ImportReport, want map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, e := range rep.Errors {
		got[e.Line] = e.Message
	}
	for line, frag := range want {
		msg, ok := got[line]
		if !ok {
			t.Errorf("no error reported for line %d (want one mentioning %q)\n%s", line, frag, rep)
			continue
		}
		if !strings.Contains(msg, frag) {
			t.Errorf("line %d: %q does not mention %q", line, msg, frag)
		}
	}
	for line, msg := range got {
		if _, ok := want[line]; !ok {
			t.Errorf("unexpected error on line %d: %s", line, msg)
		}
	}
}

func only(t *testing.T, c *store.Client) store.Contact {
	t.Helper()
	if len(c.Contacts) != 1 {
		t.Fatalf("client %q has %d contacts, want 1: %+v", c.Name, len(c.Contacts), c.Contacts)
	}
	return c.ContactList()[0]
}

func TestImportSampleFile(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	f, err := os.Open("../../testdata/clients.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := csvio.Import(ctx, s, "m1", f, csvio.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 10, 10, 0, 0)
	if rep.Clients != 10 || rep.NoKey != 0 || rep.Comma != ';' || rep.Charset != "utf-8" {
		t.Fatalf("report: %+v", rep)
	}

	hit, err := s.FindByPhone(ctx, "+79161234567")
	if err != nil {
		t.Fatal(err)
	}
	c := hit.Client
	if c.Name != `ООО "Ромашка"` || c.Kind != store.KindCompany || c.Legal.INN != "7707083893" || c.Legal.KPP != "773601001" ||
		c.City != "Москва" || c.Stage != store.StageGreen || c.LeadSource != "Выставка" || c.Website != "romashka.ru" {
		t.Fatalf("Ромашка: %+v", c)
	}
	if !reflect.DeepEqual(c.Tags, []string{"опт", "москва"}) || c.Custom["Марка авто"] != "Toyota Camry" {
		t.Fatalf("tags %q, custom %q", c.Tags, c.Custom)
	}
	p := only(t, c)
	if hit.ContactID != p.ID || p.Name != "Анна Петрова" || p.Position != "Коммерческий директор" ||
		!reflect.DeepEqual(p.Emails, []string{"anna.petrova@romashka.ru"}) ||
		*p.Birthday != (store.Birthday{Year: 1985, Month: 3, Day: 15}) || !p.Consent.Given || p.Consent.Method != "import" {
		t.Fatalf("Анна: %+v", p)
	}

	all := clients(t, s)
	if len(all) != 10 {
		t.Fatalf("%d clients stored, want 10", len(all))
	}
	// No contact name: the contact is the client; a birthday without a year.
	sid := all["ИП Сидоров Пётр Иванович"]
	if sid == nil || sid.Kind != store.KindPerson || !reflect.DeepEqual(sid.Tags, []string{"vip", "розница"}) {
		t.Fatalf("Сидоров: %+v", sid)
	}
	if p := only(t, sid); p.Name != sid.Name || !reflect.DeepEqual(p.Phones, []string{"+79161234568"}) ||
		*p.Birthday != (store.Birthday{Month: 11, Day: 2}) || p.Consent.Given {
		t.Fatalf("Сидоров's contact: %+v", p)
	}
	// Two phones in one cell, ISO birthday.
	ural := all[`АО "Уральские станки"`]
	if p := only(t, ural); !reflect.DeepEqual(p.Phones, []string{"+79035551234", "+73433102030"}) ||
		*p.Birthday != (store.Birthday{Year: 1979, Month: 7, Day: 21}) || ural.Stage != store.StageGold {
		t.Fatalf("Уральские станки: %+v %+v", ural, p)
	}
	if c := all[`ООО "Северный ветер"`]; c.Stage != store.StageRedGreen || c.RefusalReason != "Выбрали другого поставщика" {
		t.Fatalf("Северный ветер: %+v", c)
	}
	if c := all[`ООО "Агрохолдинг Кубань"`]; c.Stage != store.StageGreenGold {
		t.Fatalf("Агрохолдинг: stage %q", c.Stage)
	}
	if c := all[`ООО "Волга-Принт"`]; c.Notes != "Звонить утром.\nСекретарь — Марина." {
		t.Fatalf("Волга-Принт notes: %q", c.Notes)
	}
	if p := only(t, all[`ООО "ТехноСнаб"`]); *p.Birthday != (store.Birthday{Month: 2, Day: 29}) {
		t.Fatalf("29.02: %+v", p.Birthday)
	}

	// The same file again creates nothing.
	f2, _ := os.Open("../../testdata/clients.csv")
	defer f2.Close()
	rep, err = csvio.Import(ctx, s, "m1", f2, csvio.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 10, 0, 10, 0)
	if n := len(clients(t, s)); n != 10 {
		t.Fatalf("%d clients after the second import, want 10", n)
	}
}

func TestBadRowsAreReportedAndSkipped(t *testing.T) {
	s := storetest.New(t)
	data := strings.Join([]string{
		"name,inn,stage,contact_name,contact_email,contact_phone,contact_birthday,notes", // 1
		"Альфа,7707083893,white,Анна,anna@alfa.ru,,,",                                    // 2 good
		"Бета,,grey,Борис,boris@@beta,,,",                                                // 3 bad e-mail
		"Гамма,7707083894,,Галина,galina@gamma.ru,,,",                                    // 4 bad INN control digit
		`Дельта,,blue,Денис,denis@delta.ru,,,"многострочная`,                             // 5 unknown stage...
		`заметка"`,                                          // 6 ...its note continues here
		",,,Ева,eva@noname.ru,,,",                           // 7 missing name
		"Жета,,,Жанна,zhanna@zheta.ru,,31.02.1990,",         // 8 bad birthday
		"Зета,,,Зоя,zoya@zeta.ru",                           // 9 wrong column count
		"Эта,,,Эмма,emma@eta.ru,8 (916) 000-00-0x,,",        // 10 bad phone
		"Тета,,,Тимур,timur@teta.ru,+7 916 765-43-21,,",     // 11 good
		"Йота,123,,Ия,iya@iota.ru,,,",                       // 12 INN too short
		"Каппа,,red_green,Ким,kim@kappa.ru,,,",              // 13 red stage without a reason
		"Лямбда,,,Лев,lev@lambda.ru,,1.1.2100,",             // 14 birthday in the future
		`"Мю",,,"Мария","maria@mu.ru","+7 916 111-22-33",,`, // 15 good, quoted
	}, "\n") + "\n"
	rep := importString(t, s, data, csvio.ImportOptions{})
	checkCounts(t, rep, 13, 3, 0, 10)
	checkErrors(t, rep, map[int]string{
		3:  `contact_email: "boris@@beta" is not an e-mail address`,
		4:  "inn: INN \"7707083894\" has a wrong control digit",
		5:  `stage: unknown stage "blue"`,
		7:  "name: empty",
		8:  `contact_birthday: "31.02.1990" is not a date`,
		9:  "the row has 5 values but the header has 8 columns",
		10: "contact_phone:",
		12: "must have 10 digits",
		13: "stage red_green needs the reason",
		14: "not a plausible birthday",
	})
	all := clients(t, s)
	if len(all) != 3 || all["Альфа"] == nil || all["Тета"] == nil || all["Мю"] == nil {
		t.Fatalf("stored: %v", names(all))
	}
	if !strings.Contains(rep.String(), "line 5: stage: unknown stage") || !strings.Contains(rep.Summary(), "13 rows read: 3 imported") {
		t.Fatalf("report text:\n%s", rep)
	}

	// Errors kept in the report are capped; the count is not.
	rep = importString(t, storetest.New(t), data, csvio.ImportOptions{MaxErrors: 2})
	if rep.Failed != 10 || len(rep.Errors) != 2 || !strings.Contains(rep.String(), "and 8 more rows with errors") {
		t.Fatalf("capped report: %d failed, %d errors\n%s", rep.Failed, len(rep.Errors), rep)
	}
}

func names(m map[string]*store.Client) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestSeparatorsBOMAndCharsets(t *testing.T) {
	semi := "Название;ИНН;Город;Телефон;Почта\r\nООО Ромашка;7707083893;Казань;8 (916) 123-45-67;anna@romashka.ru\r\n" +
		"ИП Сидоров;500100732259;\"Москва; центр\";+7 916 7654321;sidorov@mail.ru\r\n"
	comma := "name,inn,city,phone,email\nООО Ромашка,7707083893,Казань,8 (916) 123-45-67,anna@romashka.ru\n" +
		"ИП Сидоров,500100732259,\"Москва; центр\",+7 916 7654321,sidorov@mail.ru\n"
	cp1251, err := charmap.Windows1251.NewEncoder().String(semi)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		opts       csvio.ImportOptions
		comma      rune
		charset    string
	}{
		{"semicolon", semi, csvio.ImportOptions{}, ';', "utf-8"},
		{"semicolon with BOM", "\uFEFF" + semi, csvio.ImportOptions{}, ';', "utf-8"},
		{"comma", comma, csvio.ImportOptions{}, ',', "utf-8"},
		{"comma with BOM", "\uFEFF" + comma, csvio.ImportOptions{}, ',', "utf-8"},
		{"forced semicolon", semi, csvio.ImportOptions{Comma: ';'}, ';', "utf-8"},
		{"windows-1251", cp1251, csvio.ImportOptions{}, ';', "windows-1251"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.New(t)
			rep := importString(t, s, tc.data, tc.opts)
			checkCounts(t, rep, 2, 2, 0, 0)
			if rep.Comma != tc.comma || rep.Charset != tc.charset {
				t.Fatalf("read with %q %s, want %q %s", rep.Comma, rep.Charset, tc.comma, tc.charset)
			}
			all := clients(t, s)
			r, sid := all["ООО Ромашка"], all["ИП Сидоров"]
			if r == nil || sid == nil || r.City != "Казань" || sid.City != "Москва; центр" || sid.Legal.INN != "500100732259" {
				t.Fatalf("stored: %+v", all)
			}
			if p := only(t, r); p.Name != "ООО Ромашка" || p.Phones[0] != "+79161234567" || p.Emails[0] != "anna@romashka.ru" {
				t.Fatalf("contact: %+v", p)
			}
		})
	}

	// Excel's "Unicode text": UTF-16 with a byte order mark, separated by tabs.
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(semi, ";", "\t"))
	if err != nil {
		t.Fatal(err)
	}
	s16 := storetest.New(t)
	rep := importString(t, s16, utf16, csvio.ImportOptions{})
	checkCounts(t, rep, 2, 2, 0, 0)
	if rep.Comma != '\t' || rep.Charset != "utf-16" || clients(t, s16)["ИП Сидоров"] == nil {
		t.Fatalf("UTF-16: %+v %v", rep, names(clients(t, s16)))
	}

	// Text that is not UTF-8 in a file read as UTF-8 refuses the row, not the file.
	s8 := storetest.New(t)
	rep = importString(t, s8, "name;city\nАльфа;Москва\nБета;\xcc\xee\xf1\xea\xe2\xe0\n", csvio.ImportOptions{Charset: "utf-8"})
	checkCounts(t, rep, 2, 1, 0, 1)
	checkErrors(t, rep, map[int]string{3: "not UTF-8"})

	// Forcing the wrong separator reads the header as one unknown column.
	s := storetest.New(t)
	if _, err := csvio.Import(context.Background(), s, "m1", strings.NewReader(semi), csvio.ImportOptions{Comma: ','}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("wrong forced separator: %v", err)
	}
}

func TestUnknownColumnRejectsTheFile(t *testing.T) {
	s := storetest.New(t)
	data := "name;inn;Фамилия;custom:Марка авто;Отчество\nАльфа;7707083893;Иванов;Audi;Иванович\n"
	rep, err := csvio.Import(context.Background(), s, "m1", strings.NewReader(data), csvio.ImportOptions{})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	for _, frag := range []string{`"Фамилия" (column 3)`, `"Отчество" (column 5)`, "custom:", "nothing was imported"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not mention %q", err, frag)
		}
	}
	if rep.Read != 0 || len(clients(t, s)) != 0 {
		t.Fatalf("something was imported: %+v", rep)
	}

	for _, data := range []string{
		"",                              // empty
		"inn;city\n7707083893;Москва\n", // no name column
		"name;Название\nА;Б\n",          // the same column twice
	} {
		if _, err := csvio.Import(context.Background(), s, "m1", strings.NewReader(data), csvio.ImportOptions{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", data, err)
		}
	}
}

func TestUnclosedQuoteStopsWithLineNumber(t *testing.T) {
	s := storetest.New(t)
	data := "name;notes\nАльфа;ok\nБета;\"не закрыто\n" + strings.Repeat("строка без конца;\n", 70000)
	rep, err := csvio.Import(context.Background(), s, "m1", strings.NewReader(data), csvio.ImportOptions{})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "never closed") {
		t.Fatalf("err = %v", err)
	}
	if rep.Created != 1 || len(clients(t, s)) != 1 {
		t.Fatalf("rows before the bad one: %+v", rep)
	}
}

func TestDuplicatesInsideTheFile(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	if err := s.CreateClient(ctx, "m1", &store.Client{Name: "Уже есть", Legal: store.Legal{INN: "6671045120"}}); err != nil {
		t.Fatal(err)
	}
	data := strings.Join([]string{
		"name;inn;phone;email",
		"Альфа;7707083893;;alfa@alfa.ru",      // 2 created
		"Альфа-дубль;7707083893;;",            // 3 same INN as line 2: already present
		"Бета;;+7 916 555-00-01;beta@beta.ru", // 4 created
		"Бета-2;;;BETA@beta.ru",               // 5 same e-mail as line 4: already present
		"Гамма;6671045120;+7 916 555-00-02;",  // 6 INN of a stored client: present
		"Дельта;;8 916 555 00 02;delta@d.ru",  // 7 its phone was only in line 6, which was not saved: created
		"Эпсилон;;;",                          // 8 no keys at all: created
		"Альфа;7707083893;;alfa@alfa.ru",      // 9 line 2 again
	}, "\n")
	for _, batch := range []int{0, 2} {
		s := s
		if batch != 0 {
			s = storetest.New(t)
			_ = s.CreateClient(ctx, "m1", &store.Client{Name: "Уже есть", Legal: store.Legal{INN: "6671045120"}})
		}
		rep := importString(t, s, data, csvio.ImportOptions{BatchSize: batch})
		checkCounts(t, rep, 8, 4, 4, 0)
		if rep.NoKey != 1 || !strings.Contains(rep.Summary(), "1 new clients have no INN") {
			t.Fatalf("batch %d: NoKey %d: %s", batch, rep.NoKey, rep.Summary())
		}
		all := clients(t, s)
		if got := names(all); !reflect.DeepEqual(got, []string{"Альфа", "Бета", "Дельта", "Уже есть", "Эпсилон"}) {
			t.Fatalf("batch %d: stored %q", batch, got)
		}
		hit, err := s.FindByPhone(ctx, "+79165550002")
		if err != nil || hit.Client.Name != "Дельта" {
			t.Fatalf("batch %d: phone of line 7: %v %v", batch, hit, err)
		}
	}
}

func TestRowsOfOneClientMakeSeveralContacts(t *testing.T) {
	s := storetest.New(t)
	data := strings.Join([]string{
		"name;inn;city;contact_name;contact_phone;contact_email;company_phone",
		"Альфа;7707083893;Казань;Анна;+7 916 100-00-01;anna@alfa.ru;+7 843 200-00-00",
		"Альфа;7707083893;Казань;Борис;+7 916 100-00-02;boris@alfa.ru;+7 843 200-00-00",
		"Альфа;7707083893;Казань;Борис;+7 916 100-00-02;boris@alfa.ru;+7 843 200-00-00", // a repeat
		"Альфа;7707083893;Москва;Вера;;vera@alfa.ru;",                                   // another city: another client, same INN
		"Бета;;;Галина;+7 916 100-00-03;;",
		"Бета;;;Дарья;+7 916 100-00-03;;", // the same phone for two contacts
	}, "\n")
	rep := importString(t, s, data, csvio.ImportOptions{})
	checkCounts(t, rep, 6, 2, 2, 2)
	checkErrors(t, rep, map[int]string{
		6: "not imported: same client as line 7",
		7: "already given for another contact person of this client on line 6",
	})
	a := clients(t, s)["Альфа"]
	list := a.ContactList()
	if len(list) != 2 || list[0].Name != "Анна" || list[1].Name != "Борис" || !reflect.DeepEqual(a.Phones, []string{"+78432000000"}) {
		t.Fatalf("Альфа: %+v", a)
	}
	if rep.Clients != 1 {
		t.Fatalf("clients created: %d", rep.Clients)
	}
}

func TestExcelQuotingAndQuirks(t *testing.T) {
	s := storetest.New(t)
	data := "\uFEFFНазвание;ИНН;Заметки;Телефон;Почта\r\n" +
		"\"ООО \"\"Ромашка\"\"\";=\"7707083893\";\"Первая строка\r\nвторая; с точкой с запятой\r\n\"\"третья\"\"\";'+7 916 123-45-67;anna@romashka.ru\r\n" + // lines 2-4
		"ООО \"Бета\";500100732259;без кавычек;;beta@beta.ru\r\n" + // line 5: bare quotes
		"ООО Гамма;274062111;Excel съел ноль;;gamma@g.ru\r\n" + // line 6: INN 0274062111 without its zero
		"ООО Дельта;7,70708E+09;;;delta@d.ru\r\n" + // line 7: INN in scientific notation
		"ООО Эпсилон;;\"=SUM(A1)\";;eps@e.ru\r\n" + // line 8
		";;;;\r\n" + // blank (Excel's trailing rows)
		"\r\n"
	rep := importString(t, s, data, csvio.ImportOptions{})
	checkCounts(t, rep, 5, 4, 0, 1)
	checkErrors(t, rep, map[int]string{7: "looks like a number Excel shortened"})
	all := clients(t, s)
	r := all[`ООО "Ромашка"`]
	if r == nil || r.Legal.INN != "7707083893" || r.Notes != "Первая строка\nвторая; с точкой с запятой\n\"третья\"" {
		t.Fatalf("Ромашка: %+v", r)
	}
	if p := only(t, r); p.Phones[0] != "+79161234567" {
		t.Fatalf("phone: %q", p.Phones)
	}
	if b := all[`ООО "Бета"`]; b == nil || b.Notes != "без кавычек" {
		t.Fatalf("bare quotes: %v", names(all))
	}
	if g := all["ООО Гамма"]; g == nil || g.Legal.INN != "0274062111" {
		t.Fatalf("leading zero: %+v", g)
	}
	if e := all["ООО Эпсилон"]; e == nil || e.Notes != "=SUM(A1)" {
		t.Fatalf("formula-like note: %+v", e)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := storetest.New(t)
	dst := storetest.New(t)
	for _, s := range []*store.Store{src, dst} {
		if err := s.CreateManager(ctx, "admin", &store.Manager{ID: "mgr-olga", Name: "Ольга Иванова", Email: "olga@crm.ru"}); err != nil {
			t.Fatal(err)
		}
	}
	in := []*store.Client{
		{
			Name: `ООО "Ромашка"`, Kind: store.KindCompany, City: "Казань", Region: "Татарстан", Industry: "Опт", Segment: "B2B", Type: "дилер",
			Legal: store.Legal{INN: "7707083893", KPP: "773601001", OGRN: "1027700132195", Address: "г. Казань; ул. Баумана, 7",
				Bank: "ПАО Сбербанк", BIK: "044525225", Account: "40702810900000000001", CorrAccount: "30101810400000000225"},
			Stage: store.StageRedGold, RefusalReason: "Ушли к конкуренту", LeadSource: "Выставка", Tags: []string{"опт", "vip"},
			ManagerID: "mgr-olga", Website: "romashka.ru", Phones: []string{"+78432000000"}, Emails: []string{"info@romashka.ru"},
			Custom: map[string]string{"Марка авто": "Toyota", "Дети": "двое"}, Notes: "=не формула\nвторая строка", GreetingsOff: true,
			Contacts: map[string]store.Contact{
				"x1": {Name: "Анна Петрова", Position: "Директор", DecisionMaker: true, Phones: []string{"+79161234567", "+4930123456"},
					Emails: []string{"anna@romashka.ru", "anna.p@gmail.com"}, Birthday: &store.Birthday{Year: 1985, Month: 3, Day: 15},
					Language: "ru", TimeZone: "Europe/Moscow", Consent: store.Consent{Given: true}},
				"x2": {Name: "Борис", Phones: []string{"+79161234568"}, Birthday: &store.Birthday{Month: 2, Day: 29}},
				"x3": {Name: "Вера", Emails: []string{"vera@romashka.ru"}, Phones: []string{"+4930654321"}},
			},
		},
		{Name: "ИП Сидоров", Kind: store.KindPerson, Legal: store.Legal{INN: "500100732259"}, Notes: "- позвонить"},
		{Name: "'Кавычка", Custom: map[string]string{"Дети": "нет"}, Emails: []string{"q@q.ru"}},
	}
	for _, c := range in {
		if err := src.CreateClient(ctx, "m1", c); err != nil {
			t.Fatal(err)
		}
	}

	var buf bytes.Buffer
	n, err := csvio.Export(ctx, src, &buf, csvio.ExportOptions{})
	if err != nil || n != 3 {
		t.Fatalf("export: %d, %v", n, err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFFname;kind;inn;") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], ";custom:Дети;custom:Марка авто\r") {
		t.Fatalf("header: %q", strings.SplitN(out, "\n", 2)[0])
	}
	if !strings.Contains(out, ";8 (916) 123-45-67, +49 30 123456;") || !strings.Contains(out, ";'+49 30 654321;") || !strings.Contains(out, "'- позвонить") {
		t.Fatalf("phones or guards not as expected:\n%s", out)
	}
	if lines := strings.Count(out, "\r\n"); lines != 1+3+3+2 { // header, 3 contacts (each with a two-line note), 2 clients without contacts
		t.Fatalf("%d lines:\n%s", lines, out)
	}

	rep, err := csvio.Import(ctx, dst, "m1", strings.NewReader(out), csvio.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 5, 5, 0, 0)
	if rep.Clients != 3 {
		t.Fatalf("clients created: %d", rep.Clients)
	}
	compareClients(t, clients(t, src), clients(t, dst))

	// Exporting the copy gives the same file, and a comma-separated export reads back too.
	var again bytes.Buffer
	if _, err := csvio.Export(ctx, dst, &again, csvio.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if sortedLines(again.String()) != sortedLines(out) {
		t.Fatalf("second export differs:\n%s\n---\n%s", out, again.String())
	}
	var comma bytes.Buffer
	if _, err := csvio.Export(ctx, src, &comma, csvio.ExportOptions{Comma: ',', NoBOM: true, CustomFields: []string{"Дети"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(comma.String(), "name,kind,inn,") || strings.Contains(comma.String(), "Марка авто") {
		t.Fatalf("comma export: %q", comma.String()[:80])
	}
	third := storetest.New(t)
	_ = third.CreateManager(ctx, "admin", &store.Manager{ID: "mgr-olga", Name: "Ольга Иванова"})
	rep = importString(t, third, comma.String(), csvio.ImportOptions{})
	checkCounts(t, rep, 5, 5, 0, 0)
	if c := clients(t, third)["ИП Сидоров"]; c == nil || c.Custom != nil || c.Notes != "- позвонить" {
		t.Fatalf("comma round trip: %+v", c)
	}

	// The workbook export imports back into the same clients too.
	var book bytes.Buffer
	if _, err := csvio.ExportXLSX(ctx, src, &book, csvio.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	fourth := storetest.New(t)
	_ = fourth.CreateManager(ctx, "admin", &store.Manager{ID: "mgr-olga", Name: "Ольга Иванова"})
	if rep, err = csvio.ImportXLSX(ctx, fourth, "m1", &book, csvio.ImportOptions{}); err != nil {
		t.Fatalf("xlsx: %v\n%s", err, rep)
	}
	checkCounts(t, rep, 5, 5, 0, 0)
	compareClients(t, clients(t, src), clients(t, fourth))
}

func sortedLines(s string) string {
	l := strings.Split(s, "\r\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}

// compareClients checks what CSV carries: everything but IDs, times, versions and
// consent details.
func compareClients(t *testing.T, want, got map[string]*store.Client) {
	t.Helper()
	if !reflect.DeepEqual(names(want), names(got)) {
		t.Fatalf("clients %q, want %q", names(got), names(want))
	}
	for name, w := range want {
		g := got[name]
		wc, gc := w.ContactList(), g.ContactList()
		w2, g2 := *w, *g
		for _, c := range []*store.Client{&w2, &g2} {
			c.ID, c.Contacts, c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy, c.Version = "", nil, time.Time{}, time.Time{}, "", "", 0
		}
		if !reflect.DeepEqual(w2, g2) {
			t.Errorf("client %q:\n got %+v\nwant %+v", name, g2, w2)
		}
		if len(wc) != len(gc) {
			t.Errorf("client %q: %d contacts, want %d", name, len(gc), len(wc))
			continue
		}
		for i := range wc {
			a, b := wc[i], gc[i]
			for _, p := range []*store.Contact{&a, &b} {
				p.ID, p.CreatedAt, p.Consent.At, p.Consent.Method = "", time.Time{}, nil, ""
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("client %q contact %d:\n got %+v\nwant %+v", name, i, b, a)
			}
		}
	}
}

// Every value that Excel would take for a formula (led by = + - @, a tab or a carriage
// return, as OWASP lists them) is written with a leading apostrophe, and Import reads
// it back as it was. A lone carriage return cannot be written in a CSV of CRLF lines
// (encoding/csv drops it): its value comes back without it, still guarded.
func TestExportGuardsFormulaLeads(t *testing.T) {
	ctx := context.Background()
	src := storetest.New(t)
	leads := []string{"=2+3", "+7 916", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1", "'quoted", "plain"}
	for i, v := range leads {
		c := &store.Client{Name: "Client " + strconv.Itoa(i), LeadSource: v, Notes: v}
		if err := src.CreateClient(ctx, "m1", c); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := csvio.Export(ctx, src, &buf, csvio.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "lead_source")
	got := map[string]bool{}
	for _, r := range rows[1:] {
		got[r[col]] = true
	}
	for _, v := range leads {
		want := "'" + v
		switch v {
		case "plain":
			want = v
		case "\r=1+1":
			want = "'=1+1"
		}
		if !got[want] {
			t.Errorf("lead source %q is not written as %q: %q", v, want, slices.Sorted(maps.Keys(got)))
		}
	}

	dst := storetest.New(t)
	importString(t, dst, buf.String(), csvio.ImportOptions{})
	back := clients(t, dst)
	for i, v := range leads {
		if v == "\r=1+1" {
			v = "=1+1"
		}
		if c := back["Client "+strconv.Itoa(i)]; c == nil || c.LeadSource != v || c.Notes != v {
			t.Errorf("%q came back as %+v", v, c)
		}
	}
}
