package procmem

import (
	"runtime/debug"
	"strings"
)

// DefaultLimit is the Go runtime's soft memory limit when GOMEMLIMIT is not set: 140
// MiB. Go's collector otherwise lets the heap grow to twice what is live before it
// collects, and a report at 100,000 clients allocates a gigabyte of short-lived
// garbage (the embedded engine copies every value it reads several times), so the
// process peaked at 260–280 MB; with the limit it stays under 200 MB for a few tenths
// of a second more (docs/BENCHMARKS.md). The limit is soft: a base whose live data
// outgrows it is collected more often, never refused memory; set GOMEMLIMIT higher
// for one.
const DefaultLimit = 140 << 20

// LimitByDefault applies DefaultLimit unless GOMEMLIMIT is set (the runtime has then
// applied that) and returns the limit in force.
func LimitByDefault(getenv func(string) string) int64 {
	if strings.TrimSpace(getenv("GOMEMLIMIT")) != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(DefaultLimit)
	return DefaultLimit
}
