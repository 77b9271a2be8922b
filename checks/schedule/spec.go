package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/duration"
	"github.com/robfig/cron/v3"
)

// MinInterval is the shortest "@every" interval Parse accepts, and so the
// shortest that `credmon validate` accepts. Intervals below cron's one
// second are allowed because aligned ticks are computed here, not by cron;
// they make demos and tests fast. Below 10ms the run loop would do little
// but wake up. Below one second, ticks no longer have distinct Unix
// seconds: a claim key must then use finer units.
const MinInterval = 10 * time.Millisecond

// maxLookback bounds Tick's backward search; cron itself gives up looking
// for a matching time after five years.
const maxLookback = 1 << 28 * time.Second // about 8.5 years

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse reads a schedule spec: a cron expression with an optional leading
// seconds field, a descriptor such as "@hourly", or "@every D", each with
// an optional CRON_TZ= or TZ= prefix. It is the only schedule parser:
// config validation calls it too, so a schedule that validates is one the
// Scheduler runs. "@every D" (config duration syntax, e.g. "@every 90s",
// "@every 1d") ticks at multiples of D since the Unix epoch, so every
// replica agrees on the ticks however late it started; cron's own "@every"
// counts from when the entry was added. Cron expressions without a TZ=
// prefix are read in the location of the times they are given (the
// Scheduler's Location). Errors do not repeat the spec; callers say where
// it came from.
func Parse(spec string) (s cron.Schedule, err error) {
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return nil, errors.New("empty schedule")
	}
	rest := fields
	if strings.HasPrefix(rest[0], "TZ=") || strings.HasPrefix(rest[0], "CRON_TZ=") {
		// cron's parser slices up to the first space and panics without one.
		if len(rest) == 1 {
			return nil, errors.New("time zone without a schedule")
		}
		zone := rest[0][strings.IndexByte(rest[0], '=')+1:]
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, err
		}
		rest = rest[1:]
	}
	if rest[0] == "@every" {
		// Aligned ticks are the same instants in every zone, so a TZ=
		// prefix changes nothing and is accepted.
		if len(rest) != 2 {
			return nil, errors.New(`want "@every DURATION"`)
		}
		d, err := duration.Parse(rest[1])
		if err != nil {
			return nil, err
		}
		if d < MinInterval {
			return nil, fmt.Errorf("interval %v is below the minimum of %v", d, MinInterval)
		}
		return AlignedEvery{Interval: d}, nil
	}
	defer func() {
		// The schedule comes from config files; a parser bug must come back
		// as a config error, not take the daemon down.
		if v := recover(); v != nil {
			s, err = nil, errors.New("cannot parse")
		}
	}()
	return parser.Parse(strings.Join(fields, " "))
}

// AlignedEvery ticks at every multiple of Interval since the Unix epoch.
type AlignedEvery struct {
	Interval time.Duration
}

// Next returns the first tick strictly after t, in t's location.
func (a AlignedEvery) Next(t time.Time) time.Time {
	return a.at(a.index(t)+1, t.Location())
}

// Prev returns the last tick at or before t, in t's location.
func (a AlignedEvery) Prev(t time.Time) time.Time {
	return a.at(a.index(t), t.Location())
}

// index is floor(t / Interval), counted from the epoch, correct before
// 1970 too.
func (a AlignedEvery) index(t time.Time) int64 {
	ns, d := t.UnixNano(), int64(a.Interval)
	k := ns / d
	if ns%d < 0 {
		k--
	}
	return k
}

func (a AlignedEvery) at(k int64, loc *time.Location) time.Time {
	return time.Unix(0, k*int64(a.Interval)).In(loc)
}

// Tick returns the latest time at or before now that s activates at, or the
// zero time if s has none within about eight years. The result is an exact
// schedule time, so replicas that compute it for the same schedule agree.
func Tick(s cron.Schedule, now time.Time) time.Time {
	switch s := s.(type) {
	case AlignedEvery:
		return s.Prev(now)
	case *jittered:
		t := Tick(s.base, now.Add(-s.offset))
		if t.IsZero() {
			return t
		}
		return t.Add(s.offset)
	}
	// A cron.Schedule only answers "what comes after t", so step back in
	// doubling windows until one holds a tick, then bisect. Invariant:
	// s.Next(hi) is after now.
	hi := now
	for w := time.Second; w <= maxLookback; w *= 2 {
		lo := now.Add(-w)
		n := s.Next(lo)
		if n.IsZero() {
			return n
		}
		if !n.After(now) {
			return lastBefore(s, lo, hi, now)
		}
		hi = lo
	}
	return time.Time{}
}

// lastBefore bisects [lo, hi) for the last tick at or before now, given
// s.Next(lo) <= now < s.Next(hi).
func lastBefore(s cron.Schedule, lo, hi, now time.Time) time.Time {
	for {
		n := s.Next(lo)
		if m := s.Next(n); m.IsZero() || m.After(now) || hi.Sub(lo) <= 1 {
			return n
		}
		mid := lo.Add(hi.Sub(lo) / 2)
		if s.Next(mid).After(now) {
			hi = mid
		} else {
			lo = mid
		}
	}
}
