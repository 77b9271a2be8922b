package daemon

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// A soft memory limit sized from the check count keeps the heap near what
// the checks need instead of letting it grow to twice the live heap
// (GOGC=100) before each collection: the collector works harder only as
// the limit nears. It is soft — the runtime exceeds it rather than fail,
// and caps collection at about half the CPU — so a wrong estimate costs CPU,
// never a crash. GOMEMLIMIT set in the environment wins, as Go documents.
const (
	// The runtime, fixed buffers (result writer, incident queue) and a
	// scrape's garbage.
	memLimitBase = 64 << 20
	// A check's live heap measured about 4 KiB at 10,000 checks (config,
	// its redaction set, scheduler entry, context, series), and the whole
	// Go memory of a 10,000-check daemon peaked near 150 MiB without a
	// limit. A limit of 48 MiB + 6 KiB a check (108 MiB) made one run in
	// three stall on a loaded machine, so the limit sits at the unlimited
	// peak: it trims growth beyond it, not the steady state.
	memLimitPerCheck = 12 << 10
)

// memoryLimit is the default limit for n checks.
func memoryLimit(n int) int64 { return memLimitBase + int64(n)*memLimitPerCheck }

// applyMemoryLimit sets the default limit for n checks unless GOMEMLIMIT
// is set.
func applyMemoryLimit(n int, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := memoryLimit(n)
	if prev := debug.SetMemoryLimit(limit); prev != limit {
		log.Debug("soft memory limit set from the check count", "checks", n, "limit_mib", limit>>20)
	}
}
