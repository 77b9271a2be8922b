package schedule

import (
	"hash/fnv"
	"time"

	"github.com/robfig/cron/v3"
)

// OffsetStep is the resolution of start offsets. Jobs with the same spec
// and offset share one start (a cohort), so coarse offsets keep the starts
// few: a 5s jitter window has at most 500 start times per spec, whatever
// the job count.
const OffsetStep = 10 * time.Millisecond

// Offset returns the job's start offset in [0, jitter): a hash of the ID,
// so every replica computes the same offset and checks sharing a schedule
// spread over the jitter window instead of starting together. Offsets are
// multiples of OffsetStep unless jitter is shorter than one step.
func Offset(id string, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	sum := h.Sum64()
	if steps := uint64(jitter / OffsetStep); steps > 0 {
		// Whole steps only, so the offset stays below jitter.
		return time.Duration(sum%steps) * OffsetStep
	}
	return time.Duration(sum % uint64(jitter))
}

// jittered shifts every activation of base by offset: the starts of a
// cohort. The tick a run belongs to stays the unshifted one.
type jittered struct {
	base   cron.Schedule
	offset time.Duration
}

func (j *jittered) Next(t time.Time) time.Time {
	n := j.base.Next(t.Add(-j.offset))
	if n.IsZero() {
		return n
	}
	return n.Add(j.offset)
}
