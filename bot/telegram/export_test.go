package telegram

// Crash makes the transport stop, when Run's context ends, as a crash would: nothing
// queued is sent any more, and the outbox's lanes are neither renewed nor released.
func Crash(t *Transport) { t.crashed.Store(true) }
