package scheduler

import (
	"context"
	"errors"
	"time"
)

// backupHour is the company's local hour the nightly backup is taken after, with the
// night's marks (marksHour) and before the morning.
const backupHour = 2

// Backup takes the night's backup (Options.Backup) once a company day after
// backupHour, on the instance that holds the job's lease; a failed one is tried again
// at the next look. It says whether it took one.
func (s *Scheduler) Backup(ctx context.Context) (bool, error) {
	if s.opts.Backup == nil {
		return false, nil
	}
	if ok, err := s.hold(ctx, "backup"); !ok {
		return false, err
	}
	now := s.now()
	local := now.In(s.opts.Location)
	if local.Hour() < backupHour {
		return false, nil
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.opts.Location)
	claim := "backup/" + day.Format(time.DateOnly)
	if won, err := s.st.Claim(ctx, claim); err != nil || !won {
		return false, err
	}
	if err := s.opts.Backup(ctx, day); err != nil {
		return false, errors.Join(err, s.st.Unclaim(context.WithoutCancel(ctx), claim))
	}
	return true, nil
}
