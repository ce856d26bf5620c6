package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

// A backup holds what a crash at its moment would leave (here an order change half
// carried out); restored and repaired as at a start, the base agrees with itself.
func TestBackupOfAChangeHalfDoneRestoresWhole(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	c := storetest.Client(t, s, "Ромашка", "", storetest.Person("Анна", "anna@romashka.ru", 5, 1, true))
	crash := errors.New("crash")
	s.SetCrash(func(p string) error {
		if p == "orders.written" {
			return crash
		}
		return nil
	})
	if err := s.CreateOrder(ctx, "m", &store.Order{ClientID: c.ID, Amount: 500_00, State: store.OrderPaid}); !errors.Is(err, crash) {
		t.Fatalf("the crash: %v", err)
	}
	s.SetCrash(nil)
	var buf bytes.Buffer
	rep, err := s.Backup(ctx, &buf, store.BackupOptions{})
	if err != nil || rep.Documents == 0 {
		t.Fatalf("backup: %+v %v", rep, err)
	}

	r := storetest.New(t)
	back, err := r.Restore(ctx, bytes.NewReader(buf.Bytes()))
	if err != nil || back != rep {
		t.Fatalf("restore: %+v %v (backed up %+v)", back, err, rep)
	}
	if n, err := r.RepairOrders(ctx); err != nil || n != 1 {
		t.Fatalf("repair: %d %v", n, err)
	}
	got, err := r.Client(ctx, c.ID)
	if err != nil || got.OrdersCount != 1 || got.Stage != store.StageGold {
		t.Fatalf("restored client: %+v %v", got, err)
	}
	if hit, err := r.FindByEmail(ctx, "anna@romashka.ru"); err != nil || hit == nil || hit.Client.ID != c.ID {
		t.Fatalf("by e-mail: %+v %v", hit, err)
	}
	// Into a base in use: refused, nothing changed.
	if _, err := r.Restore(ctx, bytes.NewReader(buf.Bytes())); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("restore into a base in use: %v", err)
	}
}
