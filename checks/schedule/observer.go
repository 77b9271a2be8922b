package schedule

import "time"

// Observer is told about every run; the daemon turns the calls into
// metrics. Calls come from the runs' goroutines, concurrently, and must
// not block. Embed NopObserver to implement only some methods.
type Observer interface {
	// Started is called when a run got its slot and is about to start;
	// lag is started - (tick + the job's Offset), computed here so that an
	// observer needs no call back into the scheduler on every run.
	Started(id string, tick, started time.Time, lag time.Duration)
	// Finished follows every Started, also after a panic.
	Finished(id string, tick time.Time, d time.Duration)
	// Skipped is called when a tick came while the job's previous run was
	// still going, so this tick did not run.
	Skipped(id string, tick time.Time)
	// Panicked is called when the job panicked; v is the panic value. It
	// may hold anything, a secret too: count it, never log or export it
	// (the scheduler logs the panic's type and the stack itself).
	Panicked(id string, tick time.Time, v any, stack []byte)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) Started(string, time.Time, time.Time, time.Duration) {}
func (NopObserver) Finished(string, time.Time, time.Duration)           {}
func (NopObserver) Skipped(string, time.Time)                           {}
func (NopObserver) Panicked(string, time.Time, any, []byte)             {}

var _ Observer = NopObserver{}
