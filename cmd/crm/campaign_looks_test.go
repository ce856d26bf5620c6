package main

import (
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
