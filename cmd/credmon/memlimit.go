package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryLimitRatio is the share of the container's memory limit the Go
// runtime's soft limit is set to, as Prometheus does (-auto-gomemlimit):
// the rest is for what the runtime does not count (the binary's pages,
// bolt's mapping) and for the time the collector needs to catch up.
const memoryLimitRatio = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit to 90% of the
// memory limit of the container (cgroup v2 memory.max, or v1
// memory.limit_in_bytes) credmon runs in, so that the collector works
// harder before the kernel would kill the daemon, rather than after. The
// limit is set once, at start. GOMEMLIMIT, when set, is left as it is;
// AUTOMEMLIMIT=off leaves no limit and AUTOMEMLIMIT=0.8 takes another
// share (see docs/config.md). It says in one log line what it did.
//
// It is no limit derived from the number of checks: what a check costs
// depends on what its API answers, and a limit below the daemon's need
// makes the collector run without pause (BENCHMARKS.md); the container's
// limit is the one the daemon must not cross.
func setMemoryLimit(log *slog.Logger) {
	var container uint64 // the cgroup's limit; 0 when there is none
	fromCgroup := func() (uint64, error) {
		n, err := memlimit.FromCgroup()
		if err == nil {
			container = n
		}
		return n, err
	}
	limit, err := memlimit.Set(memlimit.WithProvider(fromCgroup), memlimit.WithRatio(memoryLimitRatio))
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		log.Info("soft memory limit set by GOMEMLIMIT", "soft_limit", mebibytes(limit))
	case os.Getenv("AUTOMEMLIMIT") == "off":
		log.Info("no soft memory limit: AUTOMEMLIMIT=off")
	case err == nil && container == 0:
		log.Debug("no soft memory limit: the container has no memory limit")
	case err != nil:
		// Unreadable cgroup files, or an AUTOMEMLIMIT that is no ratio.
		log.Warn("no soft memory limit: "+err.Error(), "soft_limit", mebibytes(debug.SetMemoryLimit(-1)))
	default:
		log.Info("soft memory limit set from the container's memory limit",
			"soft_limit", mebibytes(limit), "container_limit", mebibytes(int64(min(container, math.MaxInt64))),
			"ratio", math.Round(float64(limit)/float64(container)*100)/100)
	}
}

// mebibytes formats a memory limit for the log.
func mebibytes(n int64) string {
	if n == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
