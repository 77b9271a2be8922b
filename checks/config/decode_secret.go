package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

const secretShapeMsg = "invalid secret: use {env: NAME}, {file: PATH} or a string"

// secret decodes {env: NAME}, {file: PATH} or a literal string. Its
// messages never include a literal value.
func (d *decoder) secret(n *yaml.Node, v reflect.Value, path string) {
	at := d.pos(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			v.Set(reflect.ValueOf(Secret{}))
			return
		}
		text, err := interpolate(n.Value, d.lookup)
		if err != nil {
			d.errs = append(d.errs, &Error{Pos: at, Path: path, Msg: err.msg, Err: err.sentinel})
			return
		}
		if text == "" {
			d.errorf(at, path, ErrInvalid, "secret is empty")
			return
		}
		s := Literal(text)
		s.Pos = at
		v.Set(reflect.ValueOf(s))
		// A value interpolated from the environment was not written in
		// the config text, which is what the warning is about.
		if !strings.Contains(n.Value, "${") {
			d.cfg.Warnings = append(d.cfg.Warnings, &Error{Pos: at, Path: path, Err: ErrHygiene,
				Msg: "literal secret in config; use {env: NAME} or {file: PATH}"})
		}
	case yaml.MappingNode:
		pairs := d.pairs(n, path)
		if len(pairs) != 1 {
			d.errorf(at, path, ErrInvalid, "%s", secretShapeMsg)
			return
		}
		k, val := pairs[0][0], pairs[0][1]
		if k.Value != "env" && k.Value != "file" {
			msg := fmt.Sprintf("%s; unknown key %q", secretShapeMsg, k.Value)
			if s := suggest(k.Value, []string{"env", "file"}); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(d.pos(k), path, ErrInvalid, "%s", msg)
			return
		}
		if val.Kind != yaml.ScalarNode || isNull(val) {
			d.errorf(d.pos(val), join(path, k.Value), ErrInvalid, "expected a %s, got %s", map[string]string{"env": "variable name", "file": "path"}[k.Value], kindName(val))
			return
		}
		ref, ok := d.scalar(val, join(path, k.Value))
		if !ok {
			return
		}
		var s Secret
		switch k.Value {
		case "env":
			if !envNameRE.MatchString(ref) {
				d.errorf(d.pos(val), join(path, k.Value), ErrInvalid, "invalid environment variable name %q", ref)
				return
			}
			s = FromEnv(ref)
			s.lookupEnv = d.lookup
		case "file":
			if ref == "" {
				d.errorf(d.pos(val), join(path, k.Value), ErrInvalid, "empty file path")
				return
			}
			s = FromFile(relativeTo(d.file, ref))
		}
		s.Pos = at
		v.Set(reflect.ValueOf(s))
	default:
		d.errorf(at, path, ErrInvalid, "%s", secretShapeMsg)
	}
}

// relativeTo makes a relative path relative to the config file's directory,
// so a config works the same whatever directory credmon starts in.
func relativeTo(file, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}
