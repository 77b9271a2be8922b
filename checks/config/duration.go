package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that also accepts days: "14d", "1d12h".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats days back as "Nd" where exact.
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// ParseDuration parses Go duration syntax plus a leading "Nd" days term.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 48h, 14d)", orig)
		}
		days = n
		s = s[i+1:]
		if s == "" {
			return Duration(time.Duration(days) * 24 * time.Hour), nil
		}
	}
	td, err := time.ParseDuration(s)
	if err != nil || td < 0 {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 48h, 14d)", orig)
	}
	return Duration(time.Duration(days)*24*time.Hour + td), nil
}
