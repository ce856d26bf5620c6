package campaign_test

import (
	"testing"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// {{.Contact.FirstName}} is the given name and patronymic however a Russian name is
// written; what cannot be told apart stays whole.
func TestFirstNameForEveryWayNamesAreWritten(t *testing.T) {
	for full, want := range map[string]string{
		"Иванова Анна Сергеевна":        "Анна Сергеевна",
		"Игорь Васильевич Кравцов":      "Игорь Васильевич",
		"Анна Петрова":                  "Анна",
		"Петрова Анна":                  "Анна",
		"ИП Ковалёва Анна Сергеевна":    "Анна Сергеевна",
		"г-н Кравцов Игорь Васильевич":  "Игорь Васильевич",
		"Кравцов Игорь":                 "Игорь",
		"Шостакович Дмитрий Дмитриевич": "Дмитрий Дмитриевич",
		"Дмитрий Дмитриевич Шостакович": "Дмитрий Дмитриевич",
		"Анна Абрамович":                "Анна",
		"Мамедов Эльдар Гусейн оглы":    "Эльдар Гусейн оглы",
		"Алиева Лейла Ахмед кызы":       "Лейла Ахмед кызы",
		"Ульянова Мария Ильинична":      "Мария Ильинична",
		"Захарчук Евстафий":             "Евстафий",
		"Евстафий Захарчук":             "Евстафий",
		"Евстафий Онуфриевич Захарчук":  "Евстафий Онуфриевич",
		"Иванов И. И.":                  "Иванов И. И.",
		"г-н Кравцов":                   "г-н Кравцов",
		"Pavel":                         "Pavel",
		"John Smith":                    "John",
		"Smith, John":                   "John",
		"Гарри Поттер":                  "Гарри Поттер",
		"  Петрова   Анна ":             "Анна",
		"Анна-Мария Петрова":            "Анна-Мария",
	} {
		c := &store.Client{Name: "Ромашка"}
		got := campaign.NewMailData(c, store.Contact{Name: full}, nil, "a@b.ru", "Ромашка").Contact.FirstName
		if got != want {
			t.Errorf("%q: FirstName %q, want %q", full, got, want)
		}
	}
}
