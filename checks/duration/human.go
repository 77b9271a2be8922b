package duration

import (
	"fmt"
	"time"
)

// Human renders the size of d at its two coarsest units that matter to a
// reader: "3d 4h", "2h 5m", "3m", "42s". d is rounded to the second, so a
// timestamp half a second short of an hour reads "1h"; coarser units are
// truncated. The sign is dropped; Relative says which way.
func Human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	switch {
	case d >= Day:
		if h := d % Day / time.Hour; h > 0 {
			return fmt.Sprintf("%dd %dh", d/Day, h)
		}
		return fmt.Sprintf("%dd", d/Day)
	case d >= time.Hour:
		if m := d % time.Hour / time.Minute; m > 0 {
			return fmt.Sprintf("%dh %dm", d/time.Hour, m)
		}
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Relative says when at is, seen from now: "in 6d 4h" or "3m ago".
func Relative(now, at time.Time) string {
	if at.After(now) {
		return "in " + Human(at.Sub(now))
	}
	return Human(now.Sub(at)) + " ago"
}
