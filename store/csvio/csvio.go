// Package csvio imports clients from CSV files and exports them to CSV, in the form
// Excel reads and writes (UTF-8 with a byte order mark, ';' between values as in the
// Russian locale, quoted values that may span lines), and as Excel workbooks with the
// same columns (xlsx.go), which keep requisites as text.
//
// # Columns
//
// The first line names the columns, in any order and case; English names and Russian
// aliases are accepted (docs/CSV.md lists every alias). Only name is required.
//
//	name                    client's name (required)
//	kind                    company | person (компания / физлицо); default company
//	inn                     taxpayer number, 10 or 12 digits with valid control digits
//	kpp, ogrn               legal details, kept as written
//	address                 legal address
//	bank, bik, account, corr_account   bank details
//	city, region, industry, segment, type
//	stage                   white, grey, green, yellow, green_gold, gold, platinum,
//	                        red_green, red_gold, red_platinum (or белый, серый, ...);
//	                        default white; a red stage needs refusal_reason
//	refusal_reason          why the client refused or left
//	lead_source             where the client came from
//	tags                    separated by ',', '|' or ';' inside the cell
//	manager                 the responsible manager: ID, name or e-mail
//	website
//	company_phone           the company's own lines, several separated by ','
//	company_email           the company's general addresses, several separated by ','
//	greetings_off           yes/no: no birthday greetings for this client
//	contact_name            contact person; when empty but other contact columns are
//	                        filled, the client's name is used
//	contact_position
//	contact_decision_maker  yes/no
//	contact_phone           several separated by ','; any format (8 (916) 123-45-67)
//	contact_email           several separated by ','
//	contact_birthday        DD.MM.YYYY, DD.MM or YYYY-MM-DD
//	contact_language        e.g. ru, en
//	contact_timezone        e.g. Europe/Moscow
//	consent                 yes/no/да/нет/1/0: agreed to receive mailings
//	notes
//	custom:<field>          any column starting with "custom:" or "доп:" is kept as
//	                        the custom field <field>
//
// Any other column is an error reported before anything is imported. Yes/no columns
// accept yes/no, да/нет, 1/0, true/false and +/-.
//
// Several consecutive rows whose client columns (every column but the contact ones)
// are identical make one client with several contact persons: this is how Export
// writes a client with more than one contact, so an exported file imports back into
// the same clients.
//
// # Matching
//
// A row whose INN, phone or e-mail already belongs to a client (or to a client of an
// earlier row of the same file) is "already present": it is counted and skipped, so
// importing a file twice creates nothing the second time. A row with none of these
// has nothing to be recognised by and is created again on a second import; the report
// counts such clients (NoKey).
package csvio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/crm-team/crm/store"
)

// Defaults of ImportOptions.
const (
	DefaultBatchSize = 500
	DefaultMaxErrors = 1000
	// maxContacts bounds the contact persons one client may get from a file.
	maxContacts = 1000
	// maxRecordBytes bounds one row: an unclosed quote would otherwise read the rest
	// of the file into one value.
	maxRecordBytes = 1 << 20
)

// utf8BOM starts the files Excel saves as "CSV UTF-8".
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ImportOptions tune Import; the zero value detects everything.
type ImportOptions struct {
	// Comma forces the separator; 0 detects ',', ';' or tab from the header line.
	Comma rune
	// Charset forces the encoding: "utf-8", "utf-16" or "windows-1251" (also
	// "cp1251"). Empty detects it: a byte order mark says UTF-8 or UTF-16; text that
	// is not valid UTF-8 is read as windows-1251, which Excel uses for "CSV" in the
	// Russian locale.
	Charset string
	// BatchSize is how many clients are saved per call to the store (default 500).
	BatchSize int
	// MaxErrors caps the errors kept in the report (default 1000); Failed counts all.
	MaxErrors int
	// Now is the clock used for consent dates and birthday checks (default time.Now).
	Now func() time.Time
	// Progress, when set, is called after every batch with the counts so far.
	Progress func(ImportReport)
}

// RowError is a row that was not imported.
type RowError struct {
	Line    int // the row's first line in the file; the header is line 1
	Message string
}

func (e RowError) String() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// ImportReport says what Import did. Counts are of data rows: Read = Created +
// Existing + Failed once Import returns without error.
type ImportReport struct {
	Read     int // data rows read (blank rows are skipped and not counted)
	Created  int // rows saved as new clients or their contact persons
	Existing int // rows skipped because the client is already present
	Failed   int // rows not imported because of errors
	Clients  int // clients created (several rows may make one client)
	NoKey    int // clients created with no INN, phone or e-mail to recognise them by
	Letters  int // letters from the unsorted queue moved into the new clients' histories
	Errors   []RowError
	// Comma and Charset are what the file was read with.
	Comma   rune
	Charset string
}

// Summary is one line for a person: what was read, created, skipped and refused.
func (r ImportReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows read: %d imported (%d new clients), %d already present, %d with errors",
		r.Read, r.Created, r.Clients, r.Existing, r.Failed)
	if r.NoKey > 0 {
		fmt.Fprintf(&b, "; %d new clients have no INN, phone or e-mail and would be created again by another import of the same file", r.NoKey)
	}
	if r.Letters > 0 {
		fmt.Fprintf(&b, "; %d letters waiting in the unsorted queue moved into the new clients' histories", r.Letters)
	}
	return b.String()
}

// String is the summary followed by one line per error.
func (r ImportReport) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, e := range r.Errors {
		b.WriteString("\n")
		b.WriteString(e.String())
	}
	if r.Failed > len(r.Errors) {
		fmt.Fprintf(&b, "\n... and %d more rows with errors", r.Failed-len(r.Errors))
	}
	return b.String()
}

// Import reads clients from CSV and saves them in batches. Bad rows are reported with
// their line numbers and skipped; rows already present are counted and skipped. A bad
// header (an unknown column, no name column) is an error and imports nothing. Other
// errors (the database, the reader) stop the import; the report then says what was
// saved before. Memory use does not grow with the file.
func Import(ctx context.Context, s *store.Store, actor string, r io.Reader, opts ImportOptions) (ImportReport, error) {
	im := newImporter(s, actor, opts)
	return im.report(im.run(ctx, r))
}

func newImporter(s *store.Store, actor string, opts ImportOptions) *importer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &importer{s: s, actor: actor, opts: opts, phones: s.Phones(), tzs: map[string]error{}}
}

// report is the import's report, its errors in line order, with the import's error.
func (im *importer) report(err error) (ImportReport, error) {
	sortErrors(im.rep.Errors)
	return im.rep, err
}

// sortErrors puts row errors in line order.
func sortErrors(errs []RowError) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
}

type importer struct {
	s      *store.Store
	actor  string
	opts   ImportOptions
	phones store.Phones
	h      *header
	rep    ImportReport

	managers map[string]string // ID, folded name or e-mail -> ID; loaded on first use
	tzs      map[string]error  // time zones checked

	group *group   // the client being read (its rows may continue)
	batch []*group // closed clients waiting to be saved

	waiting *store.WaitingSenders // who letters wait from, read at the first client saved
}

// group is one client and the rows it was read from.
type group struct {
	key      string // the client columns as read, to recognise continuation rows
	c        *store.Client
	lines    []int
	errs     []RowError // row errors: the whole client is refused
	dupLines int        // rows that repeat a contact of this client
	contacts map[string]bool
	keys     map[string]int // phone/e-mail of a contact -> line, to catch a repeat
}

func (im *importer) run(ctx context.Context, r io.Reader) error {
	next, err := openCSV(r, im.opts.Comma, im.opts.Charset, &im.rep.Comma, &im.rep.Charset)
	if err != nil {
		return err
	}
	return im.rows(ctx, next)
}

// rowFunc gives a file's rows one at a time with the line each starts on: io.EOF
// after the last, a badRow for a row it could not read, any other error to stop.
type rowFunc func() (line int, rec []string, err error)

// openCSV reads a CSV file's rows (see decode for the character set and separator,
// which it stores in comma and charset). rec is reused between rows.
func openCSV(r io.Reader, forceComma rune, forceCharset string, comma *rune, charset *string) (rowFunc, error) {
	src, err := decode(r, forceComma, forceCharset, comma, charset)
	if err != nil {
		return nil, err
	}
	guard := &limitReader{r: src}
	cr := csv.NewReader(guard)
	cr.Comma = *comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = true // ООО "Ромашка" written without quoting the value

	lastLine := 0
	return func() (int, []string, error) {
		guard.n = 0
		rec, err := cr.Read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return 0, nil, io.EOF
		case errors.As(err, &pe) && !errors.Is(err, errRecordTooLong):
			return pe.StartLine, nil, badRow{line: pe.StartLine, msg: "cannot read the row: " + pe.Err.Error(), err: err}
		case err != nil:
			line := recordLine(cr)
			if line <= lastLine {
				line = lastLine + 1 // the record had not started: it is after the last one
			}
			return line, nil, readErr(err, line)
		}
		lastLine, _ = cr.FieldPos(0)
		return lastLine, rec, nil
	}, nil
}

// badRow is a row its file could not give: it is counted and refused, and the import
// goes on; err is what the reader said.
type badRow struct {
	line int
	msg  string
	err  error
}

func (b badRow) Error() string { return b.msg }

// rows imports the rows next gives: the header first, then the clients' rows, each
// with its line in the file. next returns io.EOF after the last row, a badRow for a
// row it could not read, and any other error to stop the import, which then saves
// what was read well before it.
func (im *importer) rows(ctx context.Context, next rowFunc) error {
	_, rec, err := next()
	var bad badRow
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: the file is empty; the first line must name the columns", store.ErrInvalid)
	case errors.As(err, &bad):
		return readErr(bad.err, 1)
	case err != nil:
		return err
	}
	if im.h, err = parseHeader(rec); err != nil {
		return err
	}

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &bad) {
			im.closeGroup()
			im.rep.Read++
			im.fail(RowError{Line: bad.line, Message: bad.msg})
			continue
		}
		if err != nil {
			im.closeGroup()
			if ferr := im.flush(ctx); ferr != nil {
				return ferr
			}
			return err
		}
		if blank(rec) {
			continue
		}
		im.rep.Read++
		im.row(ctx, line, rec)
		if len(im.batch) >= im.opts.BatchSize {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
	im.closeGroup()
	return im.flush(ctx)
}

func readErr(err error, line int) error {
	if errors.Is(err, errRecordTooLong) {
		return fmt.Errorf("%w: line %d: a row is longer than %d MB, probably because of a quote (\") that is never closed; fix that row and import the file again (rows before it are saved)",
			store.ErrInvalid, line, maxRecordBytes>>20)
	}
	return fmt.Errorf("read the file at line %d: %w", line, err)
}

// decode strips a byte order mark, picks the character set and the separator (those
// forced, or detected) and stores them in comma and charsetUsed.
func decode(r io.Reader, forceComma rune, forceCharset string, comma *rune, charsetUsed *string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read the file: %w", err)
	}
	charset := strings.ToLower(strings.ReplaceAll(forceCharset, "_", "-"))
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		_, _ = br.Discard(3)
		charset = "utf-8"
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || charset == "utf-16":
		// Excel's "Unicode text" is UTF-16 with a byte order mark, separated by tabs.
		src = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Reader(br)
		charset = "utf-16"
	case charset == "":
		sample, _ := br.Peek(br.Size())
		if utf8.Valid(trimPartialRune(sample)) {
			charset = "utf-8"
		} else {
			charset = "windows-1251"
		}
	}
	switch charset {
	case "utf-8", "utf8":
		charset = "utf-8"
	case "utf-16":
	case "windows-1251", "cp1251", "win1251":
		src = charmap.Windows1251.NewDecoder().Reader(br)
		charset = "windows-1251"
	default:
		return nil, fmt.Errorf("%w: unknown character set %q (use utf-8 or windows-1251)", store.ErrInvalid, forceCharset)
	}
	*charsetUsed = charset

	dr := bufio.NewReaderSize(src, 64<<10)
	c := forceComma
	if c == 0 {
		sample, _ := dr.Peek(dr.Size())
		c = detectComma(sample)
	}
	if c == '"' || c == '\r' || c == '\n' || c == utf8.RuneError || !utf8.ValidRune(c) {
		return nil, fmt.Errorf("%w: %q cannot separate values", store.ErrInvalid, c)
	}
	*comma = c
	return dr, nil
}

// detectComma counts ',', ';' and tabs outside quotes on the first line.
func detectComma(sample []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, b := range sample {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if b == '\n' {
			break
		}
		if b == ',' || b == ';' || b == '\t' {
			counts[b]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// trimPartialRune drops a character cut in half at the end of a sample.
func trimPartialRune(p []byte) []byte {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return p[:i]
			}
			break
		}
	}
	return p
}

var errRecordTooLong = errors.New("row too long")

// recordLine is the line the last record read started on (0 when unknown).
func recordLine(cr *csv.Reader) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	line, _ = cr.FieldPos(0)
	return line
}

// limitReader fails when one row reads more than maxRecordBytes.
type limitReader struct {
	r io.Reader
	n int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > maxRecordBytes {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// cell cleans a value: spaces trimmed, Excel's ="..." text wrapper and the apostrophe
// of Guard removed (what follows it is kept as written).
func cell(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 3 && strings.HasPrefix(v, `="`) && strings.HasSuffix(v, `"`) {
		v = v[2 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '\'' && strings.IndexByte(guarded, v[1]) >= 0 {
		v = v[1:]
	}
	return v
}

func (h *header) get(rec []string, f field) string {
	if p := h.pos[f]; p >= 0 && p < len(rec) {
		return cell(rec[p])
	}
	return ""
}

// fail records a refused row.
func (im *importer) fail(e RowError) {
	im.rep.Failed++
	if len(im.rep.Errors) < im.opts.MaxErrors {
		im.rep.Errors = append(im.rep.Errors, e)
	}
}

// row reads one data row into the current client or starts a new one.
func (im *importer) row(ctx context.Context, line int, rec []string) {
	h := im.h
	n := len(h.cells)
	if len(rec) != n {
		extra := len(rec) > n && blank(rec[n:])
		if !extra {
			im.closeGroup()
			msg := fmt.Sprintf("the row has %d values but the header has %d columns; check the separators (%q) and quotes in this row", len(rec), n, im.rep.Comma)
			if im.rep.Comma == 0 { // a workbook
				msg = fmt.Sprintf("the row has a value in column %d, which has no header; name the column or clear it", len(rec))
			}
			im.fail(RowError{Line: line, Message: msg})
			return
		}
		rec = rec[:n]
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			im.closeGroup()
			im.fail(RowError{Line: line, Message: fmt.Sprintf("column %d is not UTF-8 text; save the file as \"CSV UTF-8\"", i+1)})
			return
		}
	}

	key := clientKey(h, rec)
	g := im.group
	if g == nil || g.key != key {
		im.closeGroup()
		g = &group{key: key, c: &store.Client{Contacts: map[string]store.Contact{}}, lines: []int{line},
			contacts: map[string]bool{}, keys: map[string]int{}}
		im.group = g
	} else {
		g.lines = append(g.lines, line)
	}
	var errs []string
	for _, p := range h.unnamed {
		if strings.TrimSpace(rec[p]) != "" {
			errs = append(errs, fmt.Sprintf("column %d has a value but no name in the header", p+1))
		}
	}
	if line == g.lines[0] {
		errs = append(errs, im.parseClient(ctx, g.c, rec)...)
	}
	errs = append(errs, im.addContact(g, line, rec)...)
	if len(errs) > 0 {
		g.errs = append(g.errs, RowError{Line: line, Message: strings.Join(errs, "; ")})
	}
}

// clientKey joins the client columns: rows with the same key are one client.
func clientKey(h *header, rec []string) string {
	var b strings.Builder
	for f, d := range columnDefs {
		if !d.contact {
			b.WriteString(h.get(rec, field(f)))
			b.WriteByte(0)
		}
	}
	for _, c := range h.custom {
		b.WriteString(cell(rec[c.pos]))
		b.WriteByte(0)
	}
	return b.String()
}

// parseClient fills the client columns; it returns what is wrong, naming the columns.
func (im *importer) parseClient(ctx context.Context, c *store.Client, rec []string) []string {
	h := im.h
	var errs []string
	bad := func(f field, format string, args ...any) {
		errs = append(errs, h.label(f)+": "+fmt.Sprintf(format, args...))
	}
	get := func(f field) string { return h.get(rec, f) }

	c.Name = get(fName)
	if c.Name == "" {
		bad(fName, "empty; every row needs the client's name")
	}
	var err error
	if c.Kind, err = parseKind(get(fKind)); err != nil {
		bad(fKind, "%v", err)
	}
	if inn := get(fINN); inn != "" {
		if c.Legal.INN, err = normalizeINN(inn); err != nil {
			bad(fINN, "%s", err)
		}
	}
	c.Legal.KPP, c.Legal.OGRN, c.Legal.Address = get(fKPP), get(fOGRN), get(fAddress)
	c.Legal.Bank, c.Legal.BIK, c.Legal.Account, c.Legal.CorrAccount = get(fBank), get(fBIK), get(fAccount), get(fCorrAccount)
	for _, f := range []field{fKPP, fOGRN, fBIK, fAccount, fCorrAccount} {
		if v := get(f); excelNumber(v) {
			bad(f, "%q looks like a number Excel shortened; format the column as Text and enter the value again", v)
		}
	}
	c.City, c.Region, c.Industry, c.Segment, c.Type = get(fCity), get(fRegion), get(fIndustry), get(fSegment), get(fType)
	if c.Stage, err = parseStage(get(fStage)); err != nil {
		bad(fStage, "%v", err)
	}
	c.RefusalReason = get(fRefusalReason)
	if c.Stage.Red() && c.RefusalReason == "" {
		bad(fStage, "stage %s needs the reason in the %s column", c.Stage, h.label(fRefusalReason))
	}
	c.LeadSource = get(fLeadSource)
	c.Tags = splitList(get(fTags), ",|;")
	if m := get(fManager); m != "" {
		if c.ManagerID, err = im.manager(ctx, m); err != nil {
			bad(fManager, "%v", err)
		}
	}
	c.Website = get(fWebsite)
	if c.Phones, err = im.normPhones(get(fCompanyPhone)); err != nil {
		bad(fCompanyPhone, "%s", err)
	}
	if c.Emails, err = normEmails(get(fCompanyEmail)); err != nil {
		bad(fCompanyEmail, "%s", err)
	}
	if c.GreetingsOff, err = parseBool(get(fGreetingsOff)); err != nil {
		bad(fGreetingsOff, "%v", err)
	}
	c.Notes = get(fNotes)
	for _, cc := range h.custom {
		if v := cell(rec[cc.pos]); v != "" {
			if c.Custom == nil {
				c.Custom = map[string]string{}
			}
			c.Custom[cc.name] = v
		}
	}
	return errs
}

// addContact reads the contact columns of a row into the client.
func (im *importer) addContact(g *group, line int, rec []string) []string {
	h := im.h
	var errs []string
	bad := func(f field, format string, args ...any) {
		errs = append(errs, h.label(f)+": "+fmt.Sprintf(format, args...))
	}
	get := func(f field) string { return h.get(rec, f) }

	var ck strings.Builder
	hasContact := false
	for f, d := range columnDefs {
		if d.contact {
			v := get(field(f))
			ck.WriteString(v)
			ck.WriteByte(0)
			if v != "" {
				hasContact = true
			}
		}
	}
	if !hasContact || g.contacts[ck.String()] {
		// Nothing to add: a repeat of a row above (or of a client without contacts).
		if len(g.lines) > 1 {
			g.dupLines++
		}
		return nil
	}
	g.contacts[ck.String()] = true
	if len(g.c.Contacts) >= maxContacts {
		return []string{fmt.Sprintf("more than %d contact persons for one client", maxContacts)}
	}

	p := store.Contact{Name: get(fContactName), Position: get(fContactPosition), Language: get(fContactLanguage)}
	if p.Name == "" {
		p.Name = g.c.Name
	}
	var err error
	if p.DecisionMaker, err = parseBool(get(fContactDecisionMaker)); err != nil {
		bad(fContactDecisionMaker, "%v", err)
	}
	if p.Phones, err = im.normPhones(get(fContactPhone)); err != nil {
		bad(fContactPhone, "%s", err)
	}
	if p.Emails, err = normEmails(get(fContactEmail)); err != nil {
		bad(fContactEmail, "%s", err)
	}
	if b := get(fContactBirthday); b != "" {
		if p.Birthday, err = store.ParseBirthday(b, im.opts.Now()); err != nil {
			bad(fContactBirthday, "%s", message(err))
		}
	}
	if tz := get(fContactTimeZone); tz != "" {
		if err := im.checkTZ(tz); err != nil {
			bad(fContactTimeZone, "%v", err)
		}
		p.TimeZone = tz
	}
	consent, err := parseBool(get(fConsent))
	if err != nil {
		bad(fConsent, "%v", err)
	}
	if consent {
		at := im.opts.Now().UTC().Truncate(time.Millisecond)
		p.Consent = store.Consent{Given: true, At: &at, Method: "import"}
	}

	// A phone or e-mail belongs to one contact; the company's own lists give way.
	for _, k := range contactKeys(&p) {
		if prev, ok := g.keys[k]; ok {
			errs = append(errs, fmt.Sprintf("%s is already given for another contact person of this client on line %d", k, prev))
			continue
		}
		g.keys[k] = line
	}
	g.c.Phones = without(g.c.Phones, p.Phones)
	g.c.Emails = without(g.c.Emails, p.Emails)

	// IDs are unique across clients (campaign deliveries are keyed by contact ID), and
	// creation times keep the file's order of contacts.
	p.ID = primitive.NewObjectID().Hex()
	p.CreatedAt = im.opts.Now().UTC().Truncate(time.Millisecond).Add(time.Duration(len(g.c.Contacts)) * time.Millisecond)
	g.c.Contacts[p.ID] = p
	return errs
}

func contactKeys(p *store.Contact) []string {
	keys := make([]string, 0, len(p.Phones)+len(p.Emails))
	keys = append(keys, p.Phones...)
	return append(keys, p.Emails...)
}

// without returns list minus the values in drop.
func without(list, drop []string) []string {
	if len(list) == 0 || len(drop) == 0 {
		return list
	}
	out := list[:0:0]
	for _, v := range list {
		found := false
		for _, d := range drop {
			if v == d {
				found = true
				break
			}
		}
		if !found {
			out = append(out, v)
		}
	}
	return out
}

// closeGroup ends the current client: refused with its row errors, or queued.
func (im *importer) closeGroup() {
	g := im.group
	im.group = nil
	if g == nil {
		return
	}
	if len(g.errs) > 0 {
		im.refuse(g, nil)
		return
	}
	im.batch = append(im.batch, g)
}

// refuse reports every row of a client that is not imported: rows with their own
// errors, the others as refused together with them. extra is an error of the client
// as a whole (from the store), reported on its first line.
func (im *importer) refuse(g *group, extra error) {
	own := map[int]bool{}
	for _, e := range g.errs {
		own[e.Line] = true
		im.fail(e)
	}
	first := g.lines[0]
	if extra != nil && !own[first] {
		own[first] = true
		msg := message(extra)
		if len(g.lines) > 1 {
			msg += fmt.Sprintf(" (client of lines %s)", joinLines(g.lines))
		}
		im.fail(RowError{Line: first, Message: msg})
	}
	bad := first
	if len(g.errs) > 0 {
		bad = g.errs[0].Line
	}
	for _, l := range g.lines {
		if !own[l] {
			own[l] = true
			im.fail(RowError{Line: l, Message: fmt.Sprintf("not imported: same client as line %d, which has an error", bad)})
		}
	}
}

func joinLines(lines []int) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = strconv.Itoa(l)
	}
	return strings.Join(parts, ", ")
}

// message is a store error without the generic "invalid input: " prefix.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")
}

// flush saves the queued clients. (A row that lost a key to another row of the same
// batch which was then refused gets its key back: the store retries it.)
func (im *importer) flush(ctx context.Context) error {
	batch := im.batch
	im.batch = im.batch[:0]
	if len(batch) == 0 {
		return nil
	}
	clients := make([]*store.Client, len(batch))
	for i, g := range batch {
		clients[i] = g.c
	}
	errs := im.s.CreateClients(ctx, im.actor, clients)
	if err := ctx.Err(); err != nil {
		return err
	}
	var unknown error
	unknownCount, created := 0, 0
	for i, err := range errs {
		g := batch[i]
		var taken *store.KeyTakenError
		switch {
		case err == nil:
			created++
			im.rep.Created += len(g.lines) - g.dupLines
			im.rep.Existing += g.dupLines
			im.rep.Clients++
			if noKey(g.c) {
				im.rep.NoKey++
			}
			if err := im.claimLetters(ctx, g.c); err != nil {
				return err
			}
		case errors.As(err, &taken):
			im.rep.Existing += len(g.lines)
		case errors.Is(err, store.ErrInvalid):
			im.refuse(g, err)
		default:
			unknownCount++
			if unknown == nil {
				unknown = err
			}
			im.refuse(g, fmt.Errorf("could not be saved: %w", err))
		}
	}
	if unknownCount > 0 && created == 0 && unknownCount == len(errs) {
		return fmt.Errorf("save clients of lines %d-%d: %w", batch[0].lines[0], batch[len(batch)-1].lines[0], unknown)
	}
	if im.opts.Progress != nil {
		im.opts.Progress(im.rep)
	}
	return nil
}

// claimLetters moves the letters waiting in the unsorted queue from a new client's
// addresses (and company domain) into its history. The queue's senders are read once
// per import (a scan of their index), and a client only they name is claimed for.
func (im *importer) claimLetters(ctx context.Context, c *store.Client) error {
	if im.waiting == nil {
		w, err := im.s.WaitingSenders(ctx)
		if err != nil {
			return err
		}
		im.waiting = w
	}
	if !im.waiting.Any(c) {
		return nil
	}
	moved, err := im.s.ClaimWaitingLetters(ctx, im.actor, c)
	if err != nil {
		return fmt.Errorf("client %s: move its waiting letters: %w", c.Name, err)
	}
	im.rep.Letters += len(moved)
	return nil
}

func noKey(c *store.Client) bool {
	if c.Legal.INN != "" || len(c.Phones) > 0 || len(c.Emails) > 0 {
		return false
	}
	for _, p := range c.Contacts {
		if len(p.Phones) > 0 || len(p.Emails) > 0 {
			return false
		}
	}
	return true
}

// manager resolves a manager given by ID, name or e-mail.
func (im *importer) manager(ctx context.Context, v string) (string, error) {
	if im.managers == nil {
		list, err := im.s.Managers(ctx)
		if err != nil {
			return "", fmt.Errorf("cannot read the team: %v", err)
		}
		im.managers = map[string]string{}
		names := map[string]int{}
		for _, m := range list {
			names[headerKey(m.Name)]++
		}
		for _, m := range list {
			im.managers[m.ID] = m.ID
			if names[headerKey(m.Name)] == 1 {
				im.managers[headerKey(m.Name)] = m.ID
			}
			if m.Email != "" {
				im.managers[strings.ToLower(m.Email)] = m.ID
			}
		}
	}
	for _, k := range []string{v, headerKey(v), strings.ToLower(v)} {
		if id, ok := im.managers[k]; ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("%q is not on the team (give the manager's ID, full name or e-mail as in the team list)", v)
}

func (im *importer) checkTZ(tz string) error {
	err, ok := im.tzs[tz]
	if !ok {
		if _, e := time.LoadLocation(tz); e != nil {
			err = fmt.Errorf("unknown time zone %q (expected e.g. Europe/Moscow)", tz)
		}
		if len(im.tzs) < 1000 {
			im.tzs[tz] = err
		}
	}
	return err
}

// splitList splits a cell on any of seps, dropping empty parts.
func splitList(v, seps string) []string {
	if v == "" {
		return nil
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (im *importer) normPhones(v string) ([]string, error) {
	var out []string
	for _, p := range splitList(v, ",;") {
		if excelNumber(p) {
			return nil, fmt.Errorf("%q looks like a number Excel shortened; format the column as Text and enter the phone again", p)
		}
		n, err := im.phones.Normalize(p)
		if err != nil {
			return nil, errors.New(message(err))
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func normEmails(v string) ([]string, error) {
	var out []string
	for _, e := range splitList(v, ",; \t") {
		n, err := store.NormalizeEmail(e)
		if err != nil {
			return nil, errors.New(message(err))
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// normalizeINN checks an INN; a number Excel stripped of its leading zero (9 or 11
// digits) is accepted when the zero makes it valid.
func normalizeINN(v string) (string, error) {
	if excelNumber(v) {
		return "", fmt.Errorf("%q looks like a number Excel shortened; format the column as Text and enter the INN again", v)
	}
	inn, err := store.NormalizeINN(v)
	if err == nil {
		return inn, nil
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
	if len(digits) == 9 || len(digits) == 11 {
		if inn, err2 := store.NormalizeINN("0" + digits); err2 == nil {
			return inn, nil
		}
	}
	return "", errors.New(message(err))
}

// excelNumber tells a value Excel wrote in scientific notation (7,70708E+09).
func excelNumber(v string) bool {
	i := strings.IndexAny(v, "eE")
	if i < 2 || i+2 > len(v) || (v[i+1] != '+' && v[i+1] != '-') {
		return false
	}
	mant, exp := v[:i], v[i+2:]
	if exp == "" || strings.Trim(exp, "0123456789") != "" {
		return false
	}
	return strings.Trim(mant, "0123456789.,") == "" && strings.ContainsAny(mant, ".,")
}
