package config

import (
	"time"

	"github.com/credmon/credmon/checks/duration"
)

// Duration is a time.Duration that also accepts days: "14d", "1d12h".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats days back as "Nd" where exact.
func (d Duration) String() string { return duration.Format(time.Duration(d)) }

// ParseDuration parses Go duration syntax plus a leading "Nd" days term,
// as every duration field and "@every" schedule does (duration.Parse).
func ParseDuration(s string) (Duration, error) {
	d, err := duration.Parse(s)
	return Duration(d), err
}
