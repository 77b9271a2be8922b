package config

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// anyValue decodes free-form YAML (expect.json) into JSON-like values.
func (d *decoder) anyValue(n *yaml.Node, path string) (any, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, kv := range d.pairs(n, path) {
			if a, ok := d.anyValue(kv[1], join(path, kv[0].Value)); ok {
				m[kv[0].Value] = a
			}
		}
		return m, true
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			if item = d.resolve(item); item == nil {
				return nil, false
			}
			if a, ok := d.anyValue(item, fmt.Sprintf("%s[%d]", path, i)); ok {
				l = append(l, a)
			}
		}
		return l, true
	case yaml.ScalarNode:
		s, ok := d.scalar(n, path)
		if !ok {
			return nil, false
		}
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return s, true
		}
		return resolvePlain(s), true
	}
	d.errorf(d.pos(n), path, ErrInvalid, "unsupported value")
	return nil, false
}

// resolvePlain types an unquoted scalar the way JSON would see it, after
// interpolation (so ok: ${OK:-true} is a boolean).
func resolvePlain(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	}
	if b, ok := parseBool(s); ok {
		return b
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}
