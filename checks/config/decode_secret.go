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

const secretShapeMsg = "invalid secret: use {env: NAME}, {file: PATH}, a secret store such as {aws_secretsmanager: {id: ...}} or a string"

// secret decodes {env: NAME}, {file: PATH}, {KIND: {...}} for a registered
// secret store, or a literal string; `none` for a credential's previous.
// Its messages never include a literal value.
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
		if text == "none" && n.Value == "none" && strings.HasSuffix(path, ".previous") {
			v.Set(reflect.ValueOf(Secret{Pos: at, none: true}))
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
		if newSpec, ok := storeKind(k.Value); ok {
			d.storeSecret(k, val, v, join(path, k.Value), newSpec, at)
			return
		}
		if k.Value != "env" && k.Value != "file" {
			msg := fmt.Sprintf("%s; unknown key %q", secretShapeMsg, k.Value)
			if s := suggest(k.Value, append([]string{"env", "file"}, StoreKinds()...)); s != "" {
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

// storeSecret decodes a secret store's options strictly into the kind's
// spec and validates them at their positions.
func (d *decoder) storeSecret(k, val *yaml.Node, v reflect.Value, path string, newSpec func() SecretStoreSpec, at Pos) {
	// A store secret with wrong options is still a secret that was set:
	// validation then does not add "required" to the errors below.
	v.Set(reflect.ValueOf(Secret{Source: SourceStore, Ref: k.Value, Pos: at}))
	if val.Kind != yaml.MappingNode {
		d.errorf(d.pos(val), path, ErrInvalid, "expected a mapping of %s options, got %s", k.Value, kindName(val))
		return
	}
	spec := newSpec()
	before := len(d.errs)
	d.decode(val, reflect.ValueOf(spec).Elem(), path)
	if len(d.errs) > before {
		return
	}
	for _, p := range spec.Validate() {
		fp := path
		if p.Field != "" {
			fp = join(path, p.Field)
		}
		pos := d.pos(val)
		if fpos, ok := d.cfg.positions[fp]; ok {
			pos = fpos
		}
		d.errs = append(d.errs, &Error{Pos: pos, Path: fp, Msg: p.Msg, Err: ErrInvalid})
	}
	if len(d.errs) > before {
		return
	}
	s := fromStore(k.Value, spec)
	s.Pos = at
	v.Set(reflect.ValueOf(s))
}

// relativeTo makes a relative path relative to the config file's directory,
// so a config works the same whatever directory credmon starts in.
func relativeTo(file, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}
