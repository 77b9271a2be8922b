package daemon

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOMEMLIMIT", "")
	applyMemoryLimit(10000, log)
	if got, want := debug.SetMemoryLimit(-1), memoryLimit(10000); got != want {
		t.Errorf("limit for 10,000 checks = %d, want %d", got, want)
	}
	if memoryLimit(100000) <= memoryLimit(10000) {
		t.Error("the limit does not grow with the check count")
	}

	// GOMEMLIMIT is the operator's: applyMemoryLimit leaves what is set.
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	applyMemoryLimit(10000, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
}
