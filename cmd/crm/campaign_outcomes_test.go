package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crm-team/crm/mail/smtptest"
)

// Campaigns are named by ID or name in every subcommand; a name is unique; an edit
// changes what it is given; only drafts are deleted and only finished campaigns
// archived; the report lists every contact's outcome as a table, a guarded CSV or a
// workbook of text cells, and the list counts them the same way.
func TestCampaignNamesOutcomesAndReport(t *testing.T) {
	ctx := context.Background()
	vars := campaignBase(t, "=1+1 Ромашка;Москва;Ольга;Анна;anna@romashka.ru;да\n"+
		"Лютик;Москва;Пётр;Pavel;pavel@lutik.ru;да\n"+
		"Василёк;Москва;;Вера;vera@vasilek.ru;да\n"+
		"Ландыш;Москва;;Без Согласия;no@landysh.ru;нет\n"+
		"Тюльпан;Казань;Ольга;Тимур;timur@tulpan.ru;да\n")
	srv := smtptest.Start(t)
	srv.Refuse("pavel@lutik.ru", 550)
	srv.Refuse("vera@vasilek.ru", 451)
	vars = withSettings(vars, "CRM_PUBLIC_URL", "https://crm.test", "CRM_UNSUBSCRIBE_SECRET", "0123456789abcdef-secret",
		"CRM_SMTP_HOST", "127.0.0.1", "CRM_SMTP_PORT", strconv.Itoa(srv.Port()), "CRM_SMTP_SECURITY", "none",
		"CRM_SMTP_FROM", "news@company.ru", "CRM_HTTP_ADDR", freeAddr(t))
	crm := func(args ...string) runResult { return runCRM(ctx, t, vars, append([]string{"campaign"}, args...)...) }

	r, autumn := createCampaign(t, vars, "--name", "Осень", "--subject", "Скидки", "--text", "Здравствуйте, {{.Contact.Name}}!", "--city", "Москва")
	wantRun(t, "create", r, 0, "recipients now: 3")
	wantRun(t, "create a second Осень", func() runResult {
		r, _ := createCampaign(t, vars, "--name", " осень ", "--subject", "S", "--text", "T")
		return r
	}(), 1, `a campaign named "осень" exists already`, autumn)

	// An edit by name changes the subject and keeps the text and the segment.
	wantRun(t, "edit", crm("edit", "осень", "--subject", "Для {{.Client.Name}}", "--as", "Ольга"), 0,
		`draft "Осень" changed (subject)`, "recipients now: 3")
	wantRun(t, "preview by name", crm("preview", "ОСЕНЬ", "--client", "Лютик"), 0, "Subject: Для Лютик", "Здравствуйте, Pavel!")
	wantRun(t, "edit nothing", crm("edit", "Осень"), 2, "say what to change")
	wantRun(t, "edit the same", crm("edit", "Осень", "--city", "Москва"), 0, "nothing changed")
	wantRun(t, "rename", crm("edit", "Осень", "--name", "Осень 2026"), 0, `draft "Осень 2026" changed (name)`)
	wantRun(t, "the old name", crm("status", "Осень"), 1, `no campaign "Осень"`)
	wantRun(t, "status by the new name", crm("status", "осень 2026"), 0, "campaign: Осень 2026 ("+autumn+")", "state: draft")

	r, draft := createCampaign(t, vars, "--name", "Черновик", "--subject", "S", "--text", "T")
	wantRun(t, "create a draft", r, 0)
	wantRun(t, "delete a draft by name", crm("delete", "черновик"), 0, `draft "Черновик" deleted`)
	wantRun(t, "the deleted draft", crm("status", draft), 1, "no campaign")
	r, kazan := createCampaign(t, vars, "--name", "Казань", "--subject", "S", "--text", "{{.UnsubscribeURL}}", "--city", "Казань")
	wantRun(t, "create Казань", r, 0, "recipients now: 1")

	wantRun(t, "report of a draft", crm("report", "Осень 2026"), 1, "not been sent yet")
	wantRun(t, "start by name", crm("start", "осень 2026", "--as", "Ольга"), 0, "preparing")
	wantRun(t, "start Казань", crm("start", "КАЗАНЬ"), 0, "preparing")
	wantRun(t, "edit a started campaign", crm("edit", "Осень 2026", "--subject", "S"), 1, "only a draft can be edited")
	wantRun(t, "delete a started campaign", crm("delete", "Осень 2026"), 1, "not deleted", "only a draft can be deleted")
	wantRun(t, "archive a started campaign", crm("archive", "Осень 2026"), 1, "not archived", "only a finished campaign")

	startServe(t, vars)
	waitStatus(t, vars, kazan, "state: done")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = crm("status", autumn)
		if strings.Contains(r.stdout, "deferred (retrying): 1") && strings.Contains(r.stdout, "failed: 1") && strings.Contains(r.stdout, "sent: 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not get its outcomes:\n%s", r.stdout)
		}
	}
	wantRun(t, "status", r, 0, "skipped: 1 (1 got no letter from the start: no consent", "crm campaign report "+autumn)

	// The table: a row a contact, with the server's replies, the next try and why.
	r = crm("report", "Осень 2026")
	wantRun(t, "report", r, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "OUTCOME") {
		t.Fatalf("the report:\n%s", r.stdout)
	}
	for _, want := range []*regexp.Regexp{
		// A letter sent takes its batch's time once the batch is finished: here it waits for the retry.
		regexp.MustCompile(`(?m)^sent +anna@romashka\.ru +=1\+1 Ромашка +Анна$`),
		regexp.MustCompile(`(?m)^failed +2026-\S+ \S+ +pavel@lutik\.ru +Лютик +Pavel +sending SMTP RCPT TO command: 550 5\.1\.1 refused by the test$`),
		regexp.MustCompile(`(?m)^deferred +2026-\S+ \S+ +vera@vasilek\.ru +Василёк +Вера +sending SMTP RCPT TO command: 451 4\.1\.1 refused by the test; next try 2026-\S+ \S+$`),
		regexp.MustCompile(`(?m)^skipped +2026-\S+ \S+ +no@landysh\.ru +Ландыш +Без Согласия +no consent$`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("no line like %s in\n%s", want, r.stdout)
		}
	}

	// CSV for Excel: the header, ';', a name Excel would run as a formula guarded.
	csvFile := filepath.Join(t.TempDir(), "autumn.csv")
	wantRun(t, "report csv", crm("report", autumn, "-o", csvFile), 0, "4 contacts written to "+csvFile)
	data, err := os.ReadFile(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "\uFEFFclient;contact;email;outcome;reply;next_try;reason;time;client_id;contact_id\r\n") ||
		!strings.Contains(text, "'=1+1 Ромашка;Анна;anna@romashka.ru;sent;") ||
		!regexp.MustCompile(`Василёк;Вера;vera@vasilek\.ru;deferred;sending SMTP RCPT TO command: 451 4\.1\.1 refused by the test;2026-\S+ \S+;;`).MatchString(text) {
		t.Fatalf("the CSV:\n%s", text)
	}

	// The workbook: the same rows, every cell text, the formula-like name too.
	wantRun(t, "report xlsx to a terminal", crm("report", autumn, "--format", "xlsx"), 2, "needs a file")
	xlsxFile := filepath.Join(t.TempDir(), "autumn.xlsx")
	wantRun(t, "report xlsx", crm("report", "Осень 2026", "-o", xlsxFile), 0, "4 contacts written")
	f, err := excelize.OpenFile(xlsxFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows) != 5 || !slices.Equal(rows[0][:4], []string{"client", "contact", "email", "outcome"}) {
		t.Fatalf("the workbook's rows: %q, %v", rows, err)
	}
	for i, row := range rows[1:] {
		if row[0] != "=1+1 Ромашка" {
			continue
		}
		ref, _ := excelize.CoordinatesToCellName(1, i+2)
		typ, _ := f.GetCellType(sheet, ref)
		formula, _ := f.GetCellFormula(sheet, ref)
		style, _ := f.GetCellStyle(sheet, ref)
		st, _ := f.GetStyle(style)
		if formula != "" || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) || st == nil || st.NumFmt != 49 {
			t.Fatalf("the name's cell: type %v, formula %q, style %+v", typ, formula, st)
		}
	}

	// The list counts what the report lists; an archived campaign is left out unless asked.
	r = crm("list")
	autumnRow := regexp.MustCompile(`(?m)^` + autumn + `\s+Осень 2026\s+sending\s+now\s+1\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`).FindStringSubmatch(r.stdout)
	if autumnRow == nil || strings.Join(autumnRow[1:], " ") != "1 1 1 0 1 0" {
		t.Fatalf("the list:\n%s", r.stdout)
	}
	wantRun(t, "list", r, 0, "SENT", "FAILED", "DEFERRED", "CUT", "SKIPPED", "WAITING", "Казань")
	wantRun(t, "archive by name", crm("archive", "казань"), 0, `campaign "Казань" archived`)
	wantRun(t, "archive again", crm("archive", "казань"), 1, "archived already")
	if r = crm("list"); strings.Contains(r.stdout, "Казань") || !strings.Contains(r.stdout, "1 archived not shown") {
		t.Fatalf("the list after archiving:\n%s", r.stdout)
	}
	wantRun(t, "list --all", crm("list", "--all"), 0, "Казань", "done, archived")
	wantRun(t, "report of an archived campaign", crm("report", "Казань"), 0, "timur@tulpan.ru")
	wantRun(t, "a run that never was", crm("report", "Казань", "--run", "2"), 1, "no run 2")
}
