package config

import (
	"sort"
)

// Pos returns where a field path (environments.prod.checks[2].url) was
// written. Check indices count across files, in load order, as in
// Environment.Checks. A path that was never written gives the position of
// its nearest written parent, so "required" errors point at the block that
// lacks the field.
func (c *Config) Pos(path string) Pos {
	for {
		if p, ok := c.positions[path]; ok {
			return p
		}
		i := lastSep(path)
		if i < 0 {
			break
		}
		path = path[:i]
	}
	if p, ok := c.positions[""]; ok {
		return p
	}
	if len(c.Files) > 0 {
		return Pos{File: c.Files[0]}
	}
	return Pos{}
}

// DropPositions releases the field positions kept for errors and
// warnings, about 460 bytes a check; Pos then answers with the first file
// only. For a long-lived holder of a loaded, validated Config (the
// daemon's current generation): Load reads a new Config for every reload,
// so its errors still name line and column.
func (c *Config) DropPositions() { c.positions = nil }

// lastSep finds the last "." or "[" that starts a path element.
func lastSep(path string) int {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return i
		}
	}
	return -1
}

// isSet reports whether a path was written in a file (rather than left to
// its default).
func (c *Config) isSet(path string) bool {
	_, ok := c.positions[path]
	return ok
}

// CheckList returns every check, sorted by environment, then name.
func (c *Config) CheckList() []*Check {
	var out []*Check
	for _, env := range c.Environments {
		for _, ch := range env.Checks {
			if ch != nil {
				out = append(out, ch)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Env != out[j].Env {
			return out[i].Env < out[j].Env
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Check returns the named check of an environment, or nil.
func (c *Config) Check(env, name string) *Check {
	e := c.Environments[env]
	if e == nil {
		return nil
	}
	for _, ch := range e.Checks {
		if ch != nil && ch.Name == name {
			return ch
		}
	}
	return nil
}

// Credential returns the named credential, or nil.
func (e *Environment) Credential(name string) *Credential {
	if e == nil {
		return nil
	}
	return e.Credentials[name]
}

// CheckPos is where check name of environment env is defined, for reports
// that point at the configuration (GitHub annotations); zero if unknown.
func (c *Config) CheckPos(env, name string) Pos {
	e := c.Environments[env]
	if e == nil {
		return Pos{}
	}
	for i, ch := range e.Checks {
		if ch != nil && ch.Name == name {
			if p, ok := c.positions[checkPath(env, i)]; ok {
				return p
			}
		}
	}
	return Pos{}
}
