package campaign

import "context"

// PrepareForTest queues a started campaign's run on this instance now, and sends
// nothing: tests look at, or change, what was queued before it goes out.
func (rn *Runner) PrepareForTest(ctx context.Context, id string) error {
	c, err := rn.st.Campaign(ctx, id)
	if err != nil {
		return err
	}
	defer rn.dropLink(c) // the worker reads what the test left in the database
	defer rn.leases.Release(prepareKey(c))
	return rn.prepare(ctx, c, prepareKey(c), rn.link(c))
}
