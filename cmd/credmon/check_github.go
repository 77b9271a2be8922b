package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/credmon/credmon/checks"
)

// writeGitHub writes results as GitHub Actions workflow commands: an
// ::error annotation per failing check, a ::warning per warn, then one
// plain summary line. Every value is escaped as the runner parses
// commands, so server text can neither end the command early nor start a
// new one on a line of its own. locate, if not nil, says where a result's
// check is configured: the annotation then points at that line.
func writeGitHub(w io.Writer, results []checks.Result, locate func(checks.Result) (file string, line int)) error {
	var failed, warned int
	for _, r := range results {
		level := ""
		switch r.Status {
		case checks.StatusFail, checks.StatusError:
			level = "error"
			failed++
		case checks.StatusWarn:
			level = "warning"
			warned++
		default:
			continue
		}
		cause := string(r.Cause)
		if r.Cause == checks.CauseOK && len(r.Findings) > 0 {
			cause = string(r.Findings[0].Cause)
		}
		props := ""
		if locate != nil {
			if file, line := locate(r); file != "" && line > 0 {
				props = fmt.Sprintf("file=%s,line=%d,", ghProperty(inert(file)), line)
			}
		}
		title := fmt.Sprintf("credmon %s: %s", r.Key(), cause)
		msg := githubMessage(r)
		if _, err := fmt.Fprintf(w, "::%s %stitle=%s::%s\n", level, props, ghProperty(inert(title)), ghData(msg)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "credmon: %d checks, %d failed, %d warned\n", len(results), failed, warned)
	return err
}

// githubMessage is the annotation's text: the detail, then the fix and
// the findings on lines of their own (the runner shows %0A as a newline).
func githubMessage(r checks.Result) string {
	lines := []string{inert(r.Detail)}
	if r.HTTPStatus != 0 {
		lines[0] += fmt.Sprintf(" (HTTP %d)", r.HTTPStatus)
	}
	if r.Hint != "" {
		lines = append(lines, "fix: "+inert(r.Hint))
	}
	for _, f := range r.Findings {
		lines = append(lines, "also "+string(f.Cause)+": "+inert(f.Detail))
		if f.Hint != "" {
			lines = append(lines, "fix: "+inert(f.Hint))
		}
	}
	return strings.Join(lines, "\n")
}

// ghData escapes a workflow command's message as @actions/core does.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value: the message
// escapes plus the separators of the property list.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
