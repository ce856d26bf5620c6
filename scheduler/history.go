package scheduler

import "context"

// foldRound is how many clients' pending history lines a round numbers before it
// looks at its lease again.
const foldRound = 200

// History numbers the history lines written in bulk (a campaign's) into their
// clients' timelines, on the instance that holds the job's lease, until none is
// left or ctx ends; it says how many clients' lines it numbered. The cards show the
// lines from their writing on: this only moves them into place.
func (s *Scheduler) History(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		if ok, err := s.hold(ctx, "history"); err != nil || !ok {
			return total, err
		}
		n, err := s.st.FoldPendingLines(ctx, foldRound)
		total += n
		if err != nil || n < foldRound {
			return total, err
		}
	}
	return total, ctx.Err()
}
