package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

func durationMsg(s string) string {
	return fmt.Sprintf("invalid duration %q (use e.g. 90s, 15m, 48h, 14d)", s)
}

func parseBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// scalar returns a scalar node's interpolated value. Anything else is a
// type error at the node.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(d.pos(n), path, ErrInvalid, "expected a single value, got %s", kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	lookup := d.lookup
	if requestField.MatchString(path) {
		lookup = func(name string) (string, bool) {
			v, ok := d.lookup(name)
			if ok && v != "" {
				d.expanded = append(d.expanded, v)
			}
			return v, ok
		}
	}
	s, err := interpolate(n.Value, lookup)
	if err != nil {
		d.errs = append(d.errs, &Error{Pos: d.pos(n), Path: path, Msg: err.msg, Err: err.sentinel})
		return "", false
	}
	return s, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return "a string"
	}
	return "an unknown node"
}
