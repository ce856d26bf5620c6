// Package procmem sets this process's soft memory limit, and reads its memory as the
// kernel counts it (Linux) for the benchmarks' peak-memory figures (elsewhere 0).
package procmem

import (
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
)

// ResetPeak starts the kernel's peak count (VmHWM) afresh, so that a benchmark's
// setup does not count in the peak of what it measures (Linux 4.0+).
func ResetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// Settle returns the memory the setup freed to the system and starts the peak count
// afresh: without it, the heap a seeding left behind stays resident and counts in the
// next peak. It returns the resident memory at rest, in MB.
func Settle() float64 {
	debug.FreeOSMemory()
	ResetPeak()
	return statusMB("VmRSS:")
}

// PeakMB is the peak resident memory since the start or the last ResetPeak, in MB.
func PeakMB() float64 { return statusMB("VmHWM:") }

func statusMB(field string) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(field)); ok {
			kb, _ := strconv.ParseFloat(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 64)
			return kb / 1024
		}
	}
	return 0
}
