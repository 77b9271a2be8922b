package duration

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is the unit of the days term. Credentials rotate and expire in days,
// which Go's duration syntax has no unit for.
const Day = 24 * time.Hour

// maxDays keeps every accepted value inside a time.Duration (about 292
// years) with room for the Go-syntax remainder.
const maxDays = 100000

// ErrEmpty is returned by Parse for an empty or all-space string.
var ErrEmpty = errors.New("empty duration")

// Parse reads Go duration syntax plus a leading whole-days term: "90s",
// "15m", "14d", "1d12h". Negative durations are refused. Surrounding space
// is ignored; "0" is zero.
func Parse(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrEmpty
	}
	bad := fmt.Errorf("invalid duration %q (use e.g. 90s, 15m, 48h, 14d)", strings.TrimSpace(orig))
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > maxDays {
			return 0, bad
		}
		days, s = time.Duration(n)*Day, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || days+d < days {
		return 0, bad
	}
	return days + d, nil
}

// Format writes d as Parse reads it, in whole days where exact ("14d"),
// else in Go syntax ("36h0m0s").
func Format(d time.Duration) string {
	if d > 0 && d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	return d.String()
}
