package campaign_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/crm-team/crm/mail/smtptest"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A letter is addressed to the contact by name, as preview shows it, greets them by
// given name and patronymic, and a client without a manager gets one signed by the
// company, not by a blank line.
func TestCampaignLettersAreAddressedAndSigned(t *testing.T) {
	ctx := context.Background()
	m := newMailing(t, 1)
	orphan := storetest.Client(t, m.st, "Ковалёва", "", storetest.Person("ИП Ковалёва Анна Сергеевна", "kovaleva@shop.test", 1, 1, true))
	if _, err := m.st.UpdateClient(ctx, "test", orphan.ID, store.ClientPatch{City: ptr("Казань")}); err != nil {
		t.Fatal(err)
	}
	m.want = append(m.want, "kovaleva@shop.test")
	m.cs.SetSenderName("ООО «Север»")
	m.start()
	m.pass(m.runner("one", smtptest.Sender{Port: m.srv.Port()}))
	m.receivedOnce()

	to := func(address string) smtptest.Message {
		t.Helper()
		got := m.srv.To(address)
		if len(got) != 1 {
			t.Fatalf("%s got %d letters", address, len(got))
		}
		a, err := mail.ParseAddress(got[0].Header("To"))
		if err != nil || a.Address != address {
			t.Fatalf("To %q: %v", got[0].Header("To"), err)
		}
		return got[0]
	}
	for address, name := range map[string]string{"r0-1@shop.test": "Иванов Иван Петрович", "kovaleva@shop.test": "ИП Ковалёва Анна Сергеевна"} {
		if a, _ := mail.ParseAddress(to(address).Header("To")); a.Name != name {
			t.Errorf("%s: To names %q, want %q", address, a.Name, name)
		}
	}
	if text := to("r0-1@shop.test").Text(); !strings.HasPrefix(text, "Здравствуйте, Иван Петрович!\r\nОльга Петрова\r\nolga@crm.test\r\n") {
		t.Errorf("a managed client's letter:\n%s", text)
	}
	if text := to("kovaleva@shop.test").Text(); !strings.HasPrefix(text, "Здравствуйте, Анна Сергеевна!\r\nООО «Север»\r\nОтписаться: https://crm.test/unsubscribe/") {
		t.Errorf("a letter to a client without a manager:\n%s", text)
	}
}
