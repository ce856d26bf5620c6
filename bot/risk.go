package bot

import (
	"context"
	"strings"

	"github.com/crm-team/crm/notice"
)

// riskButtons is how many clients get a button to their card; the rest are listed.
const riskButtons = 8

// NotifyAtRisk sends the manager the list, with a button to each card.
func (b *Bot) NotifyAtRisk(ctx context.Context, n notice.AtRisk) error {
	m, ok, err := b.recipient(ctx, n.ManagerID)
	if !ok || len(n.Clients) == 0 {
		return err
	}
	tr := func(key string, args ...any) string { return b.texts.get(m.Language, key, args...) }
	var out strings.Builder
	out.WriteString(tr("risk.title", "days", n.Days))
	var kb [][]Button
	for i, c := range n.Clients {
		last := tr("risk.never")
		if !c.LastOrder.IsZero() {
			last = c.LastOrder.Format("02.01.2006")
		}
		out.WriteString("\n" + tr("risk.line", "name", c.Name, "stage", safe(c.Stage.Mark()+" "+tr("stage."+string(c.Stage))), "last", last))
		if i < riskButtons {
			kb = append(kb, row(btn(clip(c.Name, 40), tapCard.data(c.ID))))
		}
	}
	return b.opts.Outbox.Send(ctx, Reply{ChatID: m.TelegramID, Text: out.String(), Buttons: kb})
}
