package procmem

import (
	"runtime/debug"
	"testing"
)

func TestLimitByDefault(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })

	debug.SetMemoryLimit(1 << 40)
	env := map[string]string{"GOMEMLIMIT": "1TiB"}
	if got := LimitByDefault(func(k string) string { return env[k] }); got != 1<<40 {
		t.Errorf("with GOMEMLIMIT set: limit %d, want the runtime's own, %d", got, int64(1<<40))
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("with GOMEMLIMIT set the limit was changed to %d", got)
	}

	delete(env, "GOMEMLIMIT")
	if got := LimitByDefault(func(k string) string { return env[k] }); got != DefaultLimit {
		t.Errorf("without GOMEMLIMIT: limit %d, want %d", got, DefaultLimit)
	}
	if got := debug.SetMemoryLimit(-1); got != DefaultLimit {
		t.Errorf("without GOMEMLIMIT the runtime's limit is %d, want %d", got, DefaultLimit)
	}
}
