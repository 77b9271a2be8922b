package duration

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "15m": 15 * time.Minute, "48h": 48 * time.Hour, "100ms": 100 * time.Millisecond,
		"14d": 14 * Day, "1d12h": 36 * time.Hour, "0d": 0, "0": 0, " 2s ": 2 * time.Second,
		"100000d": 100000 * Day,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"ten seconds", "10", "-5s", "1d-5h", "-1d", "1.5d", "d", "xd", "100001d", "100000d2562047h"} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
		} else if !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("Parse(%q) error does not quote the input: %v", in, err)
		}
	}
	for _, in := range []string{"", "  "} {
		if _, err := Parse(in); !errors.Is(err, ErrEmpty) {
			t.Errorf("Parse(%q) = %v, want ErrEmpty", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14 * Day: "14d", 36 * time.Hour: "36h0m0s", 0: "0s", 90 * time.Second: "1m30s", -Day: "-24h0m0s",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if d >= 0 {
			if back, err := Parse(Format(d)); err != nil || back != d {
				t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
			}
		}
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                 "0s",
		400 * time.Millisecond:            "0s",
		600 * time.Millisecond:            "1s",
		1999 * time.Millisecond:           "2s",
		time.Hour - 500*time.Millisecond:  "1h",
		time.Hour - 1500*time.Millisecond: "59m",
		45 * time.Second:                  "45s",
		-45 * time.Second:                 "45s",
		5*time.Minute + 10*time.Second:    "5m",
		90 * time.Minute:                  "1h 30m",
		3 * time.Hour:                     "3h",
		3*time.Hour + 20*time.Second:      "3h",
		52 * time.Hour:                    "2d 4h",
		7 * Day:                           "7d",
		400*Day + 5*time.Minute:           "400d",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		50 * time.Hour:    "in 2d 2h",
		-3 * time.Hour:    "3h ago",
		-30 * time.Second: "30s ago",
		0:                 "0s ago",
	} {
		if got := Relative(now, now.Add(d)); got != want {
			t.Errorf("Relative(now, now%+v) = %q, want %q", d, got, want)
		}
	}
}
