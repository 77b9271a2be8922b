package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/credmon/credmon/bench/alerts/fakeslack"
	"github.com/credmon/credmon/notify"
)

// table is a tabwriter with the layout every table here shares.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// answer is what the fake said to one request, as a person reads it.
func answer(r fakeslack.Request) string {
	switch {
	case r.Stalled:
		return "stalled (never answered)"
	case r.Status == http.StatusTooManyRequests:
		return fmt.Sprintf("429 Retry-After: %s", r.RetryAfter)
	case r.Accepted && r.Method == "chat.postMessage":
		s := "200 ok ts=" + r.PostedTS
		if r.ThreadTS != "" {
			s += " thread=" + r.ThreadTS
		}
		return s
	case r.Accepted:
		return "200 ok updated ts=" + r.TS
	case r.Error != "":
		return fmt.Sprintf("%d %s", r.Status, r.Error)
	}
	return fmt.Sprint(r.Status)
}

// printTimeline writes one line per Slack request.
func printTimeline(w io.Writer, reqs []fakeslack.Request, showReplica bool) {
	tw := table(w)
	head := "  t+s\tmethod\tincident\tevent\tanswer"
	if showReplica {
		head = "  t+s\treplica\tmethod\tincident\tevent\tanswer"
	}
	fmt.Fprintln(tw, head)
	for _, r := range reqs {
		if showReplica {
			rep := r.Replica
			if rep == "" {
				rep = "survivor"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", secs(r.At), rep, r.Method, r.Incident, r.Event, answer(r))
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", secs(r.At), r.Method, r.Incident, r.Event, answer(r))
	}
	tw.Flush()
}

func printTotals(w io.Writer, t fakeslack.Totals) {
	tw := table(w)
	fmt.Fprintln(tw, "  requests\t500s\t429s\taccepted\tstalled\tother")
	fmt.Fprintf(tw, "  %d\t%d\t%d\t%d\t%d\t%d\n", t.Requests, t.Status5xx, t.Status429, t.Accepted, t.Stalled, t.Other)
	tw.Flush()
}

// checks collects pass/fail lines and remembers whether all passed.
type checks struct {
	w  io.Writer
	ok bool
}

func newChecks(w io.Writer) *checks { return &checks{w: w, ok: true} }

func (c *checks) add(pass bool, format string, args ...any) {
	mark := "[ok]  "
	if !pass {
		mark = "[FAIL]"
		c.ok = false
	}
	fmt.Fprintf(c.w, "  %s %s\n", mark, fmt.Sprintf(format, args...))
}

// detail prints the lines that explain a failed check, at most a few.
func (c *checks) detail(lines []string) {
	const most = 10
	for i, l := range lines {
		if i == most {
			fmt.Fprintf(c.w, "           … and %d more\n", len(lines)-most)
			break
		}
		fmt.Fprintln(c.w, "           "+l)
	}
}

// verdictChecks reports exactly-once, order and threading.
func verdictChecks(c *checks, msgs []notify.Message, v fakeslack.Verdict) {
	once := 0
	for _, m := range msgs {
		if v.Accepted[m.ID] == 1 {
			once++
		}
	}
	c.add(len(v.Duplicates) == 0 && len(v.Missing) == 0 && len(v.Unknown) == 0,
		"every message accepted exactly once: %d/%d (duplicates %d, missing %d)", once, len(msgs), len(v.Duplicates), len(v.Missing))
	c.detail(append(append(prefixed("duplicate: ", v.Duplicates), prefixed("missing: ", v.Missing)...), v.Unknown...))
	c.add(len(v.Order) == 0, "order per incident preserved (opened < reminder < cause_changed < resolved)")
	c.detail(v.Order)
	c.add(len(v.Threading) == 0, "follow-ups threaded under the opening ts, resolved updates the opening")
	c.detail(v.Threading)
}

func prefixed(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

func violationLines(vs []fakeslack.Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, fmt.Sprintf("t+%s %s %s sent %.2fs after the 429 to %s %s at t+%s (Retry-After %s)",
			secs(v.Request.At), v.Request.Incident, v.Request.Event,
			(v.Request.At-v.Limited.Done).Seconds(), v.Limited.Incident, v.Limited.Event, secs(v.Limited.At), v.Limited.RetryAfter))
	}
	return out
}

func underline(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("=", len([]rune(title))))
}
