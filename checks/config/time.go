package config

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime parses a config date (2006-01-02, midnight UTC) or an RFC 3339
// timestamp.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return Time{t}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return Time{t}, nil
	}
	return Time{}, fmt.Errorf("invalid date %q (use 2006-01-02 or RFC 3339, e.g. 2006-01-02T15:04:05Z)", s)
}

// RotatedAuto is the rotated_at value that asks credmon to detect rotations
// by fingerprint instead of trusting a date.
const RotatedAuto = "auto"

// RotatedTime returns the configured rotation date; false when rotated_at
// is unset or "auto".
func (r *Rotation) RotatedTime() (time.Time, bool) {
	if r == nil || r.RotatedAt == "" || r.RotatedAt == RotatedAuto {
		return time.Time{}, false
	}
	t, err := ParseTime(r.RotatedAt)
	if err != nil {
		return time.Time{}, false
	}
	return t.Time, true
}
