package web_test

import (
	"testing"

	"github.com/crm-team/crm/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
