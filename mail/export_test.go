package mail

// SetCrash makes Store fail at a step, as a crash there would.
func (in *Ingester) SetCrash(f func(step string) error) { in.crash = f }

// LinkDelay is how long stored letters wait for their timeline entries at most while
// a pass goes on.
const LinkDelay = linkDelay
