package config

import (
	"fmt"
	"slices"

	"github.com/credmon/credmon/checks/schedule"
)

// maintenance checks the configured windows: a known environment, check
// or credential to match, and either a schedule start with a duration or
// two timestamps.
func (v *validator) maintenance() {
	for i, m := range v.c.Maintenance {
		p := fmt.Sprintf("maintenance[%d]", i)
		if m == nil {
			v.errorf(p, ErrRequired, "empty window (give match, start and duration or end)")
			continue
		}
		v.silenceMatch(p+".match", m.Match)
		switch {
		case m.Start == "":
			v.errorf(p+".start", ErrRequired, "required: a schedule like \"0 22 * * 5\" (with duration) or a timestamp (with end)")
		case m.End != "":
			start, err := ParseTime(m.Start)
			if err != nil {
				v.errorf(p+".start", ErrInvalid, "with end, start is a timestamp: %v", err)
			}
			end, err2 := ParseTime(m.End)
			if err2 != nil {
				v.errorf(p+".end", ErrInvalid, "%v", err2)
			}
			if err == nil && err2 == nil && !end.After(start.Time) {
				v.errorf(p+".end", ErrInvalid, "end %s is not after start %s", m.End, m.Start)
			}
			if m.Duration != 0 {
				v.errorf(p+".duration", ErrInvalid, "give either end (with a timestamp start) or duration (with a schedule start), not both")
			}
		default:
			if _, err := schedule.Parse(m.Start); err != nil {
				v.errorf(p+".start", ErrInvalid, "invalid schedule %q: %v (use a cron expression like \"0 22 * * 5\", with duration; or a timestamp, with end)", m.Start, err)
			}
			if m.Duration <= 0 {
				v.errorf(p+".duration", ErrRequired, "a window with a schedule start needs a duration greater than 0, e.g. 60h")
			}
		}
	}
}

// silenceMatch checks that a matcher names what the configuration holds.
func (v *validator) silenceMatch(p string, m SilenceMatch) {
	if m.Env == "" {
		if m.Check != "" || m.Credential != "" {
			v.errorf(p+".env", ErrRequired, "name the environment of the check or credential")
		}
		return
	}
	env, ok := v.c.Environments[m.Env]
	if !ok {
		v.errorf(p+".env", ErrReference, "unknown environment %q%s", m.Env, didYouMean(m.Env, v.envNames()))
		return
	}
	if m.Check != "" && m.Credential != "" {
		v.errorf(p+".credential", ErrInvalid, "match a check or a credential, not both")
	}
	if m.Check != "" && env != nil {
		var names []string
		for _, ch := range env.Checks {
			if ch != nil {
				names = append(names, ch.Name)
			}
		}
		if !slices.Contains(names, m.Check) {
			v.errorf(p+".check", ErrReference, "environment %s has no check %q%s", m.Env, m.Check, didYouMean(m.Check, names))
		}
	}
	if m.Credential != "" && env != nil {
		if _, ok := env.Credentials[m.Credential]; !ok {
			var names []string
			for n := range env.Credentials {
				names = append(names, n)
			}
			slices.Sort(names)
			v.errorf(p+".credential", ErrReference, "environment %s has no credential %q%s", m.Env, m.Credential, didYouMean(m.Credential, names))
		}
	}
}
