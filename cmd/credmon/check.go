package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/credmon/credmon/checks"
)

func init() {
	register("check", "run the selected checks once, now, and print results (exit 1 on any failure)", cmdCheck)
}

func cmdCheck(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("check", env)
	cfgPath := configFlag(fs, env)
	envName := fs.String("env", "", "only this environment")
	checkName := fs.String("check", "", "only this check")
	format := fs.String("format", "table", "table, json, junit (JUnit XML) or github (GitHub Actions annotations)")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	switch *format {
	case "table", "json", "junit", "github":
	default:
		fmt.Fprintf(env.stderr, "credmon check: -format must be table, json, junit or github, not %q\n", *format)
		return exitBadConfig
	}
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	all, err := checks.Build(cfg, checks.Deps{})
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon check: %v\n", err)
		return exitBadConfig
	}
	selected := selectChecks(all, *envName, *checkName)
	if len(selected) == 0 {
		fmt.Fprintf(env.stderr, "credmon check: no check matches -env %q -check %q\n", *envName, *checkName)
		return exitBadConfig
	}
	results := runChecks(ctx, selected, cfg.Scheduler.MaxConcurrency)
	switch *format {
	case "json":
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
		_, _ = env.stdout.Write(inertJSON(buf.Bytes()))
	case "junit":
		if err := writeJUnit(env.stdout, results); err != nil {
			fmt.Fprintf(env.stderr, "credmon check: %v\n", err)
			return exitFailure
		}
	case "github":
		_ = writeGitHub(env.stdout, results, func(r checks.Result) (string, int) {
			p := cfg.CheckPos(r.Env, r.Check)
			return p.File, p.Line
		})
	default:
		printResults(env.stdout, results)
	}
	for _, r := range results {
		if s := r.Status; s == checks.StatusFail || s == checks.StatusError {
			return exitFailure
		}
	}
	return exitOK
}

func selectChecks(all []*checks.Check, env, name string) []*checks.Check {
	var out []*checks.Check
	for _, c := range all {
		if (env == "" || c.Env == env) && (name == "" || c.Name == name) {
			out = append(out, c)
		}
	}
	return out
}

// runChecks runs every check concurrently, at most limit at a time, and
// returns results in the checks' order.
func runChecks(ctx context.Context, cs []*checks.Check, limit int) []checks.Result {
	if limit <= 0 {
		limit = 64
	}
	results := make([]checks.Result, len(cs))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = c.Run(ctx, time.Now())
		}()
	}
	wg.Wait()
	return results
}

// printResults writes the results table: one row per check, the detail and
// the fix for anything not ok.
func printResults(w io.Writer, results []checks.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tCHECK\tCREDENTIAL\tSTATUS\tCAUSE\tHTTP\tLATENCY")
	for _, r := range results {
		httpStatus := "-"
		if r.HTTPStatus != 0 {
			httpStatus = fmt.Sprint(r.HTTPStatus)
		}
		cause := string(r.Cause)
		for _, f := range r.Findings {
			cause += "+" + string(f.Cause)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inert(r.Env), inert(r.Check), inert(dash(r.Credential)), strings.ToUpper(string(r.Status)), inert(cause), httpStatus, r.Latency.Round(time.Millisecond))
	}
	tw.Flush()
	first := true
	for _, r := range results {
		if r.Status == checks.StatusOK {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "%s %s: %s\n", inert(r.Key()), r.Cause, inert(r.Detail))
		if r.Hint != "" {
			fmt.Fprintf(w, "    fix: %s\n", inert(r.Hint))
		}
		for _, f := range r.Findings {
			fmt.Fprintf(w, "    also %s: %s\n", f.Cause, inert(f.Detail))
			if f.Hint != "" {
				fmt.Fprintf(w, "    fix: %s\n", inert(f.Hint))
			}
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
