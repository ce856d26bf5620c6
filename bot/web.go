package bot

import "context"

// WebLinks makes one-time links that sign a manager in to the web workspace.
type WebLinks interface {
	SignInLink(ctx context.Context, managerID string) (string, error)
}

// webLink answers /web: a link that signs the manager in in a browser, once, for a
// few minutes. Without a public address (CRM_PUBLIC_URL) there is nothing to link to.
func (t *turn) webLink() {
	if t.opts.Web == nil {
		t.say(t.tr("web.off"))
		return
	}
	link, err := t.opts.Web.SignInLink(t.ctx, t.m.ID)
	if err != nil {
		t.fail("make a web sign-in link", err)
		return
	}
	t.say(t.tr("web.link", "link", link))
}
