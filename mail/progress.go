package mail

import (
	"context"

	"github.com/crm-team/crm/store"
)

// StoreProgress keeps the pollers' progress in the store, one document per folder.
type StoreProgress struct{ St *store.Store }

// Load returns the folder's UIDVALIDITY and last stored UID (0, 0 when new).
func (p StoreProgress) Load(ctx context.Context, account, folder string) (uint32, uint32, error) {
	st, err := p.St.MailboxState(ctx, account, folder)
	if err != nil {
		return 0, 0, err
	}
	return st.UIDValidity, st.LastUID, nil
}

// Save records progress after a batch is stored.
func (p StoreProgress) Save(ctx context.Context, account, folder string, uidValidity, lastUID uint32) error {
	return p.St.SaveMailboxState(ctx, &store.MailboxState{Mailbox: account, Folder: folder, UIDValidity: uidValidity, LastUID: lastUID})
}
