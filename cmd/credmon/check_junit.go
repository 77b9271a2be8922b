package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
)

// JUnit XML as Jenkins, GitLab, GitHub test reporters and Azure read it
// (testdata/junit.xsd states the shape): one testsuite per environment,
// one testcase per check. A fail result is a <failure>, an error result
// (the API is down, not the credential) an <error>; warn and ok pass, warn
// saying why in system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes results as a JUnit report. Everything in it comes from
// the results, which are redacted before they leave checks.
func writeJUnit(w io.Writer, results []checks.Result) error {
	report := junitSuites{Name: "credmon"}
	var total time.Duration
	index := map[string]int{}
	var work []time.Duration // per suite
	for _, r := range results {
		i, ok := index[r.Env]
		if !ok {
			i = len(report.Suites)
			index[r.Env] = i
			report.Suites = append(report.Suites, junitSuite{Name: r.Env, Timestamp: started(r).UTC().Format(time.RFC3339)})
			work = append(work, 0)
		}
		s := &report.Suites[i]
		c := junitCase{Name: r.Check, Classname: "credmon." + r.Env, Time: seconds(r.Latency)}
		if r.Check == "" {
			c.Name = r.Subject().Path()
		}
		problem := &junitProblem{
			Message: string(r.Cause) + ": " + r.Detail,
			Type:    string(r.Cause),
			Text:    problemText(r),
		}
		switch r.Status {
		case checks.StatusFail:
			c.Failure = problem
			s.Failures++
		case checks.StatusError:
			c.Error = problem
			s.Errors++
		}
		c.SystemOut = systemOut(r)
		s.Cases = append(s.Cases, c)
		s.Tests++
		// A suite's time is the sum of its cases', as Ant reports it; the
		// checks ran concurrently, so it is work, not wall time.
		work[i] += r.Latency
		total += r.Latency
	}
	for i := range report.Suites {
		s := &report.Suites[i]
		s.Time = seconds(work[i])
		report.Tests += s.Tests
		report.Failures += s.Failures
		report.Errors += s.Errors
	}
	report.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(report); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// problemText is the failure's body: what a reader of the CI report needs
// without opening credmon.
func problemText(r checks.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", r.Key(), r.Cause, r.Detail)
	if r.Credential != "" {
		fmt.Fprintf(&b, "credential: %s", r.Credential)
		if r.Identity != "" {
			fmt.Fprintf(&b, " (%s)", r.Identity)
		}
		b.WriteByte('\n')
	}
	if r.HTTPStatus != 0 {
		fmt.Fprintf(&b, "http status: %d\n", r.HTTPStatus)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "also %s: %s\n", f.Cause, f.Detail)
	}
	return b.String()
}

// systemOut carries the fix, and for a passing warn result the warning.
func systemOut(r checks.Result) string {
	var b strings.Builder
	if r.Status == checks.StatusWarn && r.Cause != checks.CauseOK {
		fmt.Fprintf(&b, "warn %s: %s\n", r.Cause, r.Detail)
	}
	if r.Hint != "" && r.Status != checks.StatusOK {
		fmt.Fprintf(&b, "fix: %s\n", r.Hint)
	}
	for _, f := range r.Findings {
		if r.Status == checks.StatusWarn {
			fmt.Fprintf(&b, "warn %s: %s\n", f.Cause, f.Detail)
		}
		if f.Hint != "" {
			fmt.Fprintf(&b, "fix (%s): %s\n", f.Cause, f.Hint)
		}
	}
	return b.String()
}

func started(r checks.Result) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	if !r.Tick.IsZero() {
		return r.Tick
	}
	return time.Now()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
