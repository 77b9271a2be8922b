package clock_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/beevik/ntp"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/clock"
)

// A silent server costs the whole timeout; keep it short.
const testTimeout = 300 * time.Millisecond

func check(t *testing.T, maxOffset time.Duration, servers ...string) (checks.Result, clock.Offset) {
	t.Helper()
	c := clock.New(servers, maxOffset, clock.Options{Timeout: testTimeout})
	return c.Check(context.Background())
}

func near(got, want time.Duration) bool {
	d := got - want
	return d > -10*time.Millisecond && d < 10*time.Millisecond
}

func wantCause(t *testing.T, r checks.Result, c checks.Cause) {
	t.Helper()
	if r.Cause != c || r.Status != c.Status() || r.Check != "clock" || r.Env != "" || r.Detail == "" {
		t.Fatalf("result = %s/%s check %q env %q (%s), want %s from check clock", r.Cause, r.Status, r.Check, r.Env, r.Detail, c)
	}
	if c != checks.CauseOK && r.Hint == "" {
		t.Fatalf("%s without a hint", c)
	}
}

func TestClockBehindBeyondMaxOffset(t *testing.T) {
	r, off := check(t, 2*time.Second, startNTP(t, 3*time.Second, answer))
	wantCause(t, r, checks.CauseClockSkew)
	if !off.Known || !near(off.Median, 3*time.Second) {
		t.Fatalf("median = %v (known %v), want 3s ±10ms", off.Median, off.Known)
	}
	if !strings.Contains(r.Detail, "behind NTP") || !strings.Contains(r.Detail, "max_offset 2s") {
		t.Fatalf("detail %q", r.Detail)
	}
}

func TestClockAheadWithinMaxOffset(t *testing.T) {
	r, off := check(t, 2*time.Second, startNTP(t, -250*time.Millisecond, answer))
	wantCause(t, r, checks.CauseOK)
	if !near(off.Median, -250*time.Millisecond) {
		t.Fatalf("median = %v, want -250ms ±10ms", off.Median)
	}
	if !strings.Contains(r.Detail, "ahead of NTP") {
		t.Fatalf("detail %q", r.Detail)
	}
	// The same offset alerts once max_offset is tighter than it.
	r, _ = check(t, 100*time.Millisecond, startNTP(t, -250*time.Millisecond, answer))
	wantCause(t, r, checks.CauseClockSkew)
}

func TestClockMedianIgnoresOneWrongServer(t *testing.T) {
	r, off := check(t, time.Second,
		startNTP(t, -250*time.Millisecond, answer),
		startNTP(t, 5*time.Second, answer),
		startNTP(t, -230*time.Millisecond, answer))
	wantCause(t, r, checks.CauseOK)
	if !near(off.Median, -230*time.Millisecond) || len(off.Servers) != 3 {
		t.Fatalf("median = %v over %d servers, want -230ms", off.Median, len(off.Servers))
	}
	if !strings.Contains(r.Detail, "median of 3 servers") {
		t.Fatalf("detail %q", r.Detail)
	}
}

func TestClockDropsInvalidAndSilentServers(t *testing.T) {
	good := startNTP(t, 3*time.Second, answer)
	kod := startNTP(t, 0, kissOfDeath)
	quiet := startNTP(t, 0, silent)
	unsync := startNTP(t, 0, unsynced)
	r, off := check(t, 2*time.Second, kod, good, quiet, unsync)

	// Only the good server counts; the others would have said "in step".
	wantCause(t, r, checks.CauseClockSkew)
	if !near(off.Median, 3*time.Second) || !strings.Contains(r.Detail, "median of 1 server)") {
		t.Fatalf("median %v, detail %q", off.Median, r.Detail)
	}
	want := map[string]string{
		kod:    "kiss-of-death RATE",
		good:   "",
		quiet:  "no answer within 300ms",
		unsync: "invalid answer: invalid leap second",
	}
	for i, s := range off.Servers {
		if s.Host != []string{kod, good, quiet, unsync}[i] {
			t.Fatalf("servers out of order: %+v", off.Servers)
		}
		if w := want[s.Host]; (w == "") != (s.Problem == "") || !strings.HasPrefix(s.Problem, w) {
			t.Errorf("%s: problem %q, want %q", s.Host, s.Problem, w)
		}
		if w := want[s.Host]; w != "" && !strings.Contains(r.Detail, s.Host+" ("+w) {
			t.Errorf("detail %q does not list %s as not used", r.Detail, s.Host)
		}
	}
}

func TestClockNoUsableServer(t *testing.T) {
	r, off := check(t, 2*time.Second, startNTP(t, 0, silent), startNTP(t, 0, kissOfDeath))
	wantCause(t, r, checks.CauseUnreachable)
	if off.Known || !strings.Contains(r.Detail, "no answer within") || !strings.Contains(r.Detail, "kiss-of-death RATE") {
		t.Fatalf("known %v, detail %q", off.Known, r.Detail)
	}
	r, _ = check(t, 2*time.Second)
	wantCause(t, r, checks.CauseUnreachable)
}

func TestClockUsesTheGivenQueryAndBoundsItByContext(t *testing.T) {
	var gotTimeout time.Duration
	q := func(host string, opt ntp.QueryOptions) (*ntp.Response, error) {
		gotTimeout = opt.Timeout
		return ntp.QueryWithOptions(host, opt)
	}
	c := clock.New([]string{startNTP(t, time.Second, answer)}, 2*time.Second, clock.Options{Timeout: time.Minute, Query: q})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, off := c.Check(ctx)
	wantCause(t, r, checks.CauseOK)
	if !near(off.Median, time.Second) {
		t.Fatalf("median %v", off.Median)
	}
	if gotTimeout <= 0 || gotTimeout > 2*time.Second {
		t.Fatalf("query timeout %v: not bounded by the context's deadline", gotTimeout)
	}

	cancelled, stop := context.WithCancel(context.Background())
	stop()
	r, _ = c.Check(cancelled)
	wantCause(t, r, checks.CauseUnreachable)
}
