package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/credmon/credmon/checks"
)

// pageFilter is what the query string asks the page to show:
// ?env=prod&status=fail&cause=invalid_token&check=payments&limit=all.
// Repeated or comma-separated values of one key are alternatives; the
// keys narrow each other.
type pageFilter struct {
	Envs, Statuses, Causes []string
	Check                  string // substring of the check or credential name
	Limit                  int    // rows shown; 0 is all
	check                  string // Check in lower case
}

func parseFilter(q url.Values) pageFilter {
	f := pageFilter{
		Envs:     filterValues(q["env"], false),
		Statuses: filterValues(q["status"], true),
		Causes:   filterValues(q["cause"], true),
		Check:    strings.TrimSpace(q.Get("check")),
		Limit:    pageLimit,
	}
	f.check = strings.ToLower(f.Check)
	switch l := strings.TrimSpace(q.Get("limit")); l {
	case "":
	case "all", "0":
		f.Limit = 0
	default:
		if n, err := strconv.Atoi(l); err == nil && n > 0 {
			f.Limit = n
		}
	}
	return f
}

// filterValues splits repeated and comma-separated values, without blanks
// or repeats. Environment names keep their case: they are config keys.
func filterValues(in []string, lower bool) []string {
	var out []string
	for _, v := range in {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if lower {
				part = strings.ToLower(part)
			}
			if part != "" && !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out
}

// Active says whether the filter narrows the checks at all.
func (f pageFilter) Active() bool {
	return len(f.Envs)+len(f.Statuses)+len(f.Causes) > 0 || f.Check != ""
}

func (f pageFilter) wantsEnv(env string) bool {
	return len(f.Envs) == 0 || slices.Contains(f.Envs, env)
}

// matches is the check-level test; the environment is a column and is
// tested by wantsEnv.
func (f pageFilter) matches(c *CheckStatus, status string) bool {
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, status) {
		return false
	}
	if len(f.Causes) > 0 {
		found := false
		for _, cause := range f.Causes {
			if hasCause(c, checks.Cause(cause)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if f.check != "" {
		if !strings.Contains(strings.ToLower(c.Name), f.check) && !strings.Contains(strings.ToLower(c.Credential), f.check) {
			return false
		}
	}
	return true
}

// query is the filter as a query string with one key replaced (val ""
// drops it), for links that change one thing and keep the rest.
func (f pageFilter) query(key, val string) string {
	q := url.Values{}
	if len(f.Envs) > 0 {
		q.Set("env", strings.Join(f.Envs, ","))
	}
	if len(f.Statuses) > 0 {
		q.Set("status", strings.Join(f.Statuses, ","))
	}
	if len(f.Causes) > 0 {
		q.Set("cause", strings.Join(f.Causes, ","))
	}
	if f.Check != "" {
		q.Set("check", f.Check)
	}
	if l := f.limitParam(); l != "" {
		q.Set("limit", l)
	}
	if val == "" {
		q.Del(key)
	} else {
		q.Set(key, val)
	}
	if len(q) == 0 {
		return "./"
	}
	return "?" + q.Encode()
}

// hasCause says whether the check's last result has cause as its main
// cause or as a finding.
func hasCause(c *CheckStatus, cause checks.Cause) bool {
	if c.Last == nil {
		return false
	}
	if c.Last.Cause == cause {
		return true
	}
	for _, fd := range c.Last.Findings {
		if fd.Cause == cause {
			return true
		}
	}
	return false
}

// option is one choice of a filter's select.
type option struct {
	Value    string
	Selected bool
}

type filterOptionSet struct{ Envs, Statuses, Causes []option }

// filterOptions are the form's choices: what the fleet has, and whatever
// the query asked for even if nothing has it, so the form shows it.
func filterOptions(f pageFilter, envs []string, causes []causeSummary) filterOptionSet {
	set := func(have, selected []string) []option {
		out := make([]option, 0, len(have))
		for _, h := range have {
			out = append(out, option{Value: h, Selected: slices.Contains(selected, h)})
		}
		for _, sel := range selected {
			if !slices.Contains(have, sel) {
				out = append(out, option{Value: sel, Selected: true})
			}
		}
		return out
	}
	causeNames := make([]string, 0, len(causes))
	for _, c := range causes {
		causeNames = append(causeNames, string(c.Cause))
	}
	return filterOptionSet{
		Envs:     set(envs, f.Envs),
		Statuses: set([]string{"fail", "error", "warn", "pending", "ok"}, f.Statuses),
		Causes:   set(causeNames, f.Causes),
	}
}

// causeSummary is how many checks have a cause, as main cause or finding.
type causeSummary struct {
	Cause  checks.Cause
	Status string // the worst status of a check with it, for the colour
	N      int
	PerEnv []envCount
	rank   int
}

// limitParam is ?limit='s value for f, "" for the default.
func (f pageFilter) limitParam() string {
	switch {
	case f.Limit == 0:
		return "all"
	case f.Limit != pageLimit:
		return strconv.Itoa(f.Limit)
	}
	return ""
}

// inEnv is f narrowed to one environment with any status: the link from
// an environment's folded ok rows to their list.
func (f pageFilter) inEnv(env string) pageFilter {
	g := f
	g.Envs, g.Statuses = []string{env}, nil
	return g
}
