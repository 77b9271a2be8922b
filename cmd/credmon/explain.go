package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credmon/credmon/checks"
)

func init() {
	register("explain", "ENV/CHECK: one verbose probe — request (redacted), response, challenge, token claims, cause and fix", cmdExplain)
}

func cmdExplain(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("explain", env)
	cfgPath := configFlag(fs, env)
	compare := fs.Bool("compare", false, "replay the probe in variants (fresh vs reused connection, HTTP/1.1 vs HTTP/2, with and without proxy_url, the credential as the challenge asks) and say which differs")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	if fs.NArg() != 1 || !strings.Contains(fs.Arg(0), "/") {
		fmt.Fprintln(env.stderr, "usage: credmon explain [-config PATH] [-compare] ENV/CHECK")
		return exitBadConfig
	}
	envName, checkName, _ := strings.Cut(fs.Arg(0), "/")
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	all, err := checks.Build(cfg, checks.Deps{})
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon explain: %v\n", err)
		return exitBadConfig
	}
	sel := selectChecks(all, envName, checkName)
	if len(sel) != 1 {
		fmt.Fprintf(env.stderr, "credmon explain: no check %s/%s (see `credmon check` for the list)\n", envName, checkName)
		return exitBadConfig
	}
	var r checks.Result
	if *compare {
		cmp := sel[0].Compare(ctx)
		r = cmp.Variants[0].Result
		printExplain(env.stdout, r, cmp.Trace, time.Now())
		printComparison(env.stdout, cmp)
	} else {
		var tr *checks.Trace
		r, tr = sel[0].Explain(ctx)
		printExplain(env.stdout, r, tr, time.Now())
	}
	if s := r.Status; s == checks.StatusFail || s == checks.StatusError {
		return exitFailure
	}
	return exitOK
}

func printExplain(w io.Writer, r checks.Result, tr *checks.Trace, now time.Time) {
	fmt.Fprintf(w, "check       %s\n", inert(r.Key()))
	if r.Credential != "" {
		fmt.Fprintf(w, "credential  %s (%s)\n", inert(r.Credential), inert(dash(r.Identity)))
	}
	if tr.Method != "" {
		fmt.Fprintf(w, "\n> %s %s\n", inert(tr.Method), inert(tr.URL))
		printHeaders(w, "> ", tr.RequestHeaders)
		if tr.Retried {
			fmt.Fprintln(w, "  (the first answer was 401: credmon fetched a fresh token and retried once)")
		}
	} else {
		fmt.Fprintln(w, "\n(no request was sent)")
	}
	if tr.Status != "" {
		conn := "new connection"
		if tr.Reused {
			conn = "reused connection"
		}
		fmt.Fprintf(w, "\n< %s  (%s, %s)\n", inert(tr.Status), inert(tr.Proto), conn)
		printHeaders(w, "< ", tr.ResponseHeaders)
		if tr.Body != "" {
			fmt.Fprintf(w, "<\n%s\n", indent(inertBlock(tr.Body), "< "))
		}
	}
	if len(tr.Challenges) > 0 {
		fmt.Fprintln(w, "\nWWW-Authenticate, parsed:")
		for _, c := range tr.Challenges {
			fmt.Fprintf(w, "  scheme=%s", inert(c.Scheme))
			keys := make([]string, 0, len(c.Params))
			for k := range c.Params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, " %s=%q", inert(k), c.Params[k]) // %q escapes what does not print
			}
			if c.Token68 != "" {
				fmt.Fprint(w, " token68=<present>")
			}
			fmt.Fprintln(w)
		}
	}
	if tr.TokenClaims != "" {
		fmt.Fprintln(w, "\ntoken sent (decoded, not trusted):")
		fmt.Fprintln(w, indent(inertBlock(tr.TokenClaims), "  "))
	}
	if r.ServerTimeOffset != 0 {
		fmt.Fprintf(w, "\nserver clock offset  %s (from its Date header)\n", r.ServerTimeOffset)
	}
	fmt.Fprintf(w, "\nstatus  %s\ncause   %s\ndetail  %s\n", r.Status, r.Cause, inert(r.Detail))
	if r.Hint != "" {
		fmt.Fprintf(w, "fix     %s\n", inert(r.Hint))
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "also    %s: %s\n", f.Cause, inert(f.Detail))
		if f.Hint != "" {
			fmt.Fprintf(w, "fix     %s\n", inert(f.Hint))
		}
	}
}

// printComparison shows every variant on one line and the verdict.
func printComparison(w io.Writer, cmp checks.Comparison) {
	fmt.Fprintln(w, "\ncompare (each variant on a connection of its own):")
	for _, v := range cmp.Variants {
		name := v.Name
		if v.Form != "" {
			name += " (" + v.Form + ")"
		}
		if v.Skipped != "" {
			fmt.Fprintf(w, "  %-24s skipped: %s\n", inert(name), inert(v.Skipped))
			continue
		}
		conn := "new"
		if v.Reused {
			conn = "reused"
		}
		code := "-"
		if v.Result.HTTPStatus != 0 {
			code = fmt.Sprint(v.Result.HTTPStatus)
		}
		proto := v.Proto
		if proto == "" {
			proto = "-"
		}
		fmt.Fprintf(w, "  %-24s %-8s %-6s %-3s %s\n", inert(name), proto, conn, code, v.Result.Cause)
	}
	fmt.Fprintf(w, "differs %s\n", inert(cmp.Verdict))
}

func printHeaders(w io.Writer, prefix string, h map[string][]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, inert(k), inert(truncate(v, 300)))
		}
	}
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
