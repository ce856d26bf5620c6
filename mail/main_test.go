package mail_test

import (
	"testing"

	"github.com/crm-team/crm/mail/imaptest"
	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) {
	imaptest.ServeChildIfAsked() // the benchmarks' IMAP server runs as this binary
	storetest.Main(m)
}
