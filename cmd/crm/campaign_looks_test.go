package main

import (
	"context"
	"strings"
	"testing"
)

// --stage takes the stage names import takes, Russian ones included.
func TestCampaignStageTakesRussianNames(t *testing.T) {
	vars := campaignBase(t, "Ромашка;Москва;Ольга;Анна;anna@romashka.ru;да\n")
	r, _ := createCampaign(t, vars, "--name", "Белые", "--subject", "S", "--text", "T", "--stage", "белый", "--stage", "Зелёно-золотой")
	wantRun(t, "create --stage белый", r, 0, "recipients now: 1")
	r, _ = createCampaign(t, vars, "--name", "Золото", "--subject", "S", "--text", "T", "--stage", "золотой")
	wantRun(t, "create --stage золотой", r, 0, "recipients now: 0")
	r, _ = createCampaign(t, vars, "--name", "X", "--subject", "S", "--text", "T", "--stage", "синий")
	wantRun(t, "create --stage синий", r, 2, `unknown stage "синий"`, "white", "белый")
}

// create warns of fields some letters would have empty, and names a misspelt field
// with the ones that exist.
func TestCampaignCreateWarnsOfEmptyFields(t *testing.T) {
	vars := campaignBase(t, "Ромашка;Москва;Ольга;Иванова Анна Сергеевна;anna@romashka.ru;да\n"+
		"Лютик;;Пётр;Pavel;pavel@lutik.ru;да\n"+
		"Василёк;Казань;;Вера Соколова;vera@vasilek.ru;да\n")
	vars = withSettings(vars, "CRM_SMTP_FROM", "Север <news@company.ru>")
	r, _ := createCampaign(t, vars, "--name", "Осень", "--subject", "Осень в {{.Client.City}}", "--text", "{{.Contact.FirstName}}\n{{.Manager.Signature}}")
	wantRun(t, "create", r, 0, "recipients now: 3", "warning: {{.Client.City}} is empty in 1 of 3 letters, e.g. to Pavel <pavel@lutik.ru>, Лютик")
	if strings.Contains(r.stdout, "{{.Manager.Signature}} is empty") || strings.Contains(r.stdout, "FirstName") {
		t.Fatalf("a client without a manager is signed by the company, and every name has a first name:\n%s", r.stdout)
	}
	r = runCRM(context.Background(), t, vars, "campaign", "preview", campaignSavedID.FindStringSubmatch(r.stdout)[1], "--client", "Василёк")
	wantRun(t, "preview", r, 0, "Вера\nСевер\n")
	r, _ = createCampaign(t, vars, "--name", "Опечатка", "--subject", "S", "--text", "{{.Contact.Nmae}}")
	wantRun(t, "create with a typo", r, 1, "{{.Contact.Nmae}}: no field Nmae; fields: Name, FirstName, Position, Email")
}
