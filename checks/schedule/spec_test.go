package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestParse(t *testing.T) {
	valid := []string{
		"*/5 * * * *",
		"30 */5 * * * *", // with seconds
		"@hourly",
		"@every 1m",
		"@every 100ms",
		"@every 1d",
		"@every 1d12h",
		"  @every   90s ",
		"CRON_TZ=Europe/Berlin 0 3 * * *",
		"TZ=UTC @every 1h",
	}
	for _, spec := range valid {
		if _, err := Parse(spec); err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
		}
	}
	invalid := []string{
		"",
		"   ",
		"* * *",
		"61 * * * *",
		"@every",
		"@every 1m 2m",
		"@every 1ms",
		"@every -1s",
		"@every 0s",
		"@every soon",
		"@every xd",
		"@yearlyish",
		"TZ=UTC",
		"TZ=Nowhere/Atlantis * * * * *",
		"TZ=Nowhere/Atlantis @every 1h",
	}
	for _, spec := range invalid {
		if s, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) = %#v, want an error", spec, s)
		}
	}
}

func TestParseEveryIsAligned(t *testing.T) {
	s, err := Parse("@every 1d")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	want := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	if got := s.Next(now); !got.Equal(want) {
		t.Fatalf("Next(%v) = %v, want %v (UTC midnight)", now, got, want)
	}
}

func TestAlignedEvery(t *testing.T) {
	a := AlignedEvery{Interval: 10 * time.Second}
	cases := []struct {
		at, prev, next time.Time
	}{
		{time.Unix(1_700_000_003, 5), time.Unix(1_700_000_000, 0), time.Unix(1_700_000_010, 0)},
		{time.Unix(1_700_000_000, 0), time.Unix(1_700_000_000, 0), time.Unix(1_700_000_010, 0)},
		{time.Unix(1_700_000_009, 999_999_999), time.Unix(1_700_000_000, 0), time.Unix(1_700_000_010, 0)},
		// Before the epoch the floor must still round down.
		{time.Unix(-3, 0), time.Unix(-10, 0), time.Unix(0, 0)},
	}
	for _, c := range cases {
		if got := a.Prev(c.at); !got.Equal(c.prev) {
			t.Errorf("Prev(%v) = %v, want %v", c.at, got, c.prev)
		}
		if got := a.Next(c.at); !got.Equal(c.next) {
			t.Errorf("Next(%v) = %v, want %v", c.at, got, c.next)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	if got := a.Next(time.Unix(1_700_000_003, 0).In(paris)); got.Location() != paris {
		t.Errorf("Next lost the location: %v", got.Location())
	}
}

// bruteTick walks forward from far enough back; the reference for Tick.
func bruteTick(s cron.Schedule, now time.Time, from time.Time) time.Time {
	var last time.Time
	for n := s.Next(from); !n.IsZero() && !n.After(now); n = s.Next(n) {
		last = n
	}
	return last
}

func TestTickMatchesBruteForce(t *testing.T) {
	const day = 24 * time.Hour
	specs := []struct {
		spec string
		back time.Duration // longer than the schedule's longest gap
	}{
		{"*/5 * * * *", time.Hour},
		{"*/7 * * * * *", 2 * time.Minute},
		{"0 3 * * *", 2 * day},
		{"15 9 * * 1-5", 4 * day},
		{"0 0 1 * *", 32 * day},
		{"* 0-5 * * *", 2 * day}, // dense at night, silent by day
		{"CRON_TZ=America/New_York 30 2 * * *", 3 * day},
	}
	base := time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC) // a US DST change
	for _, c := range specs {
		spec := c.spec
		s, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			now := base.Add(time.Duration(i) * 97 * time.Minute).Add(time.Duration(i) * 123457 * time.Microsecond)
			want := bruteTick(s, now, now.Add(-c.back))
			if got := Tick(s, now); !got.Equal(want) {
				t.Errorf("%s: Tick(%v) = %v, want %v", spec, now, got, want)
			}
		}
	}
}

func TestTickAtExactActivation(t *testing.T) {
	s, _ := Parse("*/5 * * * *")
	at := time.Date(2025, 1, 1, 10, 5, 0, 0, time.UTC)
	if got := Tick(s, at); !got.Equal(at) {
		t.Fatalf("Tick at an activation = %v, want the activation %v", got, at)
	}
	if got := Tick(s, at.Add(-time.Nanosecond)); !got.Equal(at.Add(-5 * time.Minute)) {
		t.Fatalf("Tick just before an activation = %v, want the one before", got)
	}
}

func TestTickNeverFires(t *testing.T) {
	s, err := Parse("0 0 30 2 *") // February 30th
	if err != nil {
		t.Fatal(err)
	}
	if got := Tick(s, time.Now()); !got.IsZero() {
		t.Fatalf("Tick of an impossible schedule = %v, want zero", got)
	}
}

func TestTickJittered(t *testing.T) {
	j := &jittered{base: AlignedEvery{Interval: 10 * time.Second}, offset: 3 * time.Second}
	now := time.Unix(1_700_000_012, 0) // tick ...010 starts at ...013: not yet
	if got, want := Tick(j, now), time.Unix(1_700_000_003, 0); !got.Equal(want) {
		t.Fatalf("Tick(jittered) = %v, want %v", got, want)
	}
	if got, want := j.Next(now), time.Unix(1_700_000_013, 0); !got.Equal(want) {
		t.Fatalf("Next(jittered) = %v, want %v", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "@every 1m", "TZ=UTC", "CRON_TZ=UTC\t@daily", "@every 1d1d", "0 0 30 2 *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			if s != nil {
				t.Fatal("schedule returned with an error")
			}
			return
		}
		if strings.TrimSpace(spec) == "" {
			t.Fatal("empty spec accepted")
		}
		now := time.Unix(1_700_000_000, 0).UTC()
		if n := s.Next(now); !n.IsZero() && !n.After(now) {
			t.Fatalf("Next(%v) = %v, not after", now, n)
		}
	})
}
