package clock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/ntp"

	"github.com/credmon/credmon/checks"
)

// CheckName is the Check field of the clock's results.
const CheckName = checks.ClockName

// DefaultTimeout bounds the wait for each server.
const DefaultTimeout = 5 * time.Second

// Options tune a Checker; the zero value is usable.
type Options struct {
	// Timeout bounds the wait for each server (default DefaultTimeout, and
	// never beyond the context's deadline).
	Timeout time.Duration
	// Query asks one server (default ntp.QueryWithOptions). host is as
	// configured: "pool.ntp.org" or "host:port".
	Query func(host string, opt ntp.QueryOptions) (*ntp.Response, error)
	// Now stamps the result (default time.Now).
	Now func() time.Time
}

// Checker measures our clock against NTP servers.
type Checker struct {
	servers   []string
	maxOffset time.Duration
	opts      Options
}

// New returns a Checker for servers (clock.ntp_servers) that reports
// clock_skew beyond maxOffset (clock.max_offset).
func New(servers []string, maxOffset time.Duration, opts Options) *Checker {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Query == nil {
		opts.Query = ntp.QueryWithOptions
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Checker{servers: slices.Clone(servers), maxOffset: maxOffset, opts: opts}
}

// Server is what one NTP server answered.
type Server struct {
	Host    string        `json:"host"`
	Offset  time.Duration `json:"offset"` // add to our clock to get the server's
	RTT     time.Duration `json:"rtt"`
	Stratum uint8         `json:"stratum,omitempty"`
	// Problem says why the answer was not used; "" when it was.
	Problem string `json:"problem,omitempty"`
}

// Offset is one measurement of our clock.
type Offset struct {
	// Median is the median offset of the valid answers: what to add to our
	// clock to get NTP time (positive: our clock is behind). Meaningful
	// only when Known.
	Median  time.Duration `json:"median"`
	Known   bool          `json:"known"`
	Servers []Server      `json:"servers"` // in configured order
}

// Check asks every server at once, drops answers that fail validation
// (kiss-of-death, bad stratum, unsynchronised leap indicator) or never
// come, and judges the median offset of the rest: a single wrong server
// cannot raise or hide an alert when there are three.
func (c *Checker) Check(ctx context.Context) (checks.Result, Offset) {
	start := c.opts.Now()
	res := checks.Result{Kind: checks.SubjectClock, Check: CheckName, Tick: start, Started: start}
	timeout := c.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}

	off := Offset{Servers: make([]Server, len(c.servers))}
	var wg sync.WaitGroup
	for i, host := range c.servers {
		wg.Go(func() { off.Servers[i] = c.ask(ctx, host, timeout) })
	}
	wg.Wait()
	res.Latency = c.opts.Now().Sub(start)

	var offsets []time.Duration
	var unused []string
	for _, s := range off.Servers {
		if s.Problem != "" {
			unused = append(unused, s.Host+" ("+s.Problem+")")
			continue
		}
		offsets = append(offsets, s.Offset)
	}
	if len(c.servers) == 0 {
		res.SetCause(checks.CauseUnreachable, "No NTP servers are configured", "Set clock.ntp_servers, or do not schedule the clock check.")
		return res, off
	}
	if len(offsets) == 0 {
		res.SetCause(checks.CauseUnreachable,
			"No NTP server gave a usable answer: "+strings.Join(unused, ", "),
			"Allow outbound UDP port 123 to clock.ntp_servers, or list an NTP server inside the network; until then our clock cannot be judged.")
		return res, off
	}
	off.Median, off.Known = median(offsets), true

	measured := fmt.Sprintf("Our clock is %s NTP (median of %d %s)", describe(off.Median), len(offsets), plural(len(offsets), "server", "servers"))
	tail := ""
	if len(unused) > 0 {
		tail = "; not used: " + strings.Join(unused, ", ")
	}
	if abs(off.Median) > c.maxOffset {
		res.SetCause(checks.CauseClockSkew,
			fmt.Sprintf("%s, beyond max_offset %s%s", measured, c.maxOffset, tail),
			"Fix time sync on this host (chrony or systemd-timesyncd; in a container, the node's clock): token exp, nbf and iat are judged against it, here and by the APIs.")
		return res, off
	}
	res.SetCause(checks.CauseOK, fmt.Sprintf("%s, within max_offset %s%s", measured, c.maxOffset, tail), "")
	return res, off
}

// ask queries one server and validates its answer.
func (c *Checker) ask(ctx context.Context, host string, timeout time.Duration) Server {
	s := Server{Host: host}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		s.Problem = "not asked: the check ran out of time"
		return s
	}
	resp, err := c.opts.Query(host, ntp.QueryOptions{Timeout: timeout})
	switch {
	case err != nil:
		s.Problem = problem(err, timeout)
		return s
	case resp == nil:
		s.Problem = "no answer"
		return s
	}
	s.Offset, s.RTT, s.Stratum = resp.ClockOffset, resp.RTT, resp.Stratum
	if err := resp.Validate(); err != nil {
		s.Problem = "invalid answer: " + err.Error()
		if resp.IsKissOfDeath() {
			// The server tells us to go away (RATE: we ask too often).
			s.Problem = "kiss-of-death " + printable(resp.KissCode)
		}
	}
	return s
}

func problem(err error, timeout time.Duration) string {
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return "DNS lookup failed: " + dns.Err
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + timeout.String()
	}
	return err.Error()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// describe says how our clock stands against NTP, given what to add to it.
func describe(offset time.Duration) string {
	d := abs(offset).Round(time.Millisecond)
	switch {
	case d == 0:
		return "in step with"
	case offset > 0:
		return d.String() + " behind"
	}
	return d.String() + " ahead of"
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// printable keeps a kiss code, read off the wire, to printable ASCII.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}
