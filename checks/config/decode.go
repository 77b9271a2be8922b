package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// nodeBudget bounds how many nodes one file may expand to, so an alias bomb
// (or an alias cycle) ends in an error instead of eating memory forever.
const nodeBudget = 1 << 20

// decoder walks a yaml.Node tree into a Config by the structs' yaml tags.
// It is strict (unknown and duplicate keys are errors), records the
// position of every path it decodes, interpolates ${VAR} in scalar values,
// and keeps going after an error so one run reports every problem.
//
// Several files decode into the same Config: environments and credentials
// merge by name and checks append; any other field set by two files is an
// error naming both.
type decoder struct {
	cfg    *Config
	file   string
	lookup func(string) (string, bool)
	errs   []*Error
	// expanded are the values ${VAR} put into what the check being decoded
	// sends (url, headers, query, body): they join its sensitive set.
	expanded []string
	budget   int
	broke    bool // budget exhausted; reported once
}

var (
	durationType   = reflect.TypeOf(Duration(0))
	timeType       = reflect.TypeOf(Time{})
	secretType     = reflect.TypeOf(Secret{})
	envMapType     = reflect.TypeOf(map[string]*Environment(nil))
	credMapType    = reflect.TypeOf(map[string]*Credential(nil))
	checkSliceType = reflect.TypeOf([]*Check(nil))
)

// mergeable reports whether a field of this type may be written by several
// files: its entries merge instead of conflicting.
func mergeable(t reflect.Type) bool {
	return t == envMapType || t == credMapType || t == checkSliceType
}

func (d *decoder) errorf(pos Pos, path string, sentinel error, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...), Err: sentinel})
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) setPos(path string, p Pos) {
	if _, ok := d.cfg.positions[path]; !ok {
		d.cfg.positions[path] = p
	}
}

// resolve follows aliases and charges the node budget. It returns nil when
// the budget is gone.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			n = nil
			break
		}
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 || n == nil {
		if !d.broke {
			d.broke = true
			d.errorf(Pos{File: d.file}, "", ErrSyntax, "document too large or aliases nested too deeply")
		}
		return nil
	}
	return n
}

// expandedSize counts the nodes a tree stands for once aliases are
// expanded, in time linear in the nodes actually written (memoised per
// anchor), and gives up past limit. A cycle counts as too large.
func expandedSize(n *yaml.Node, limit int, memo map[*yaml.Node]int) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		if size, ok := memo[n.Alias]; ok {
			return size
		}
		memo[n.Alias] = limit + 1 // in progress: reaching it again is a cycle
		size := expandedSize(n.Alias, limit, memo)
		memo[n.Alias] = size
		return size
	}
	size := 1
	for _, c := range n.Content {
		size += expandedSize(c, limit, memo)
		if size > limit {
			return limit + 1
		}
	}
	return size
}

// document decodes one parsed file into d.cfg.
func (d *decoder) document(doc *yaml.Node) {
	if expandedSize(doc, d.budget, map[*yaml.Node]int{}) > d.budget {
		d.errorf(Pos{File: d.file}, "", ErrSyntax, "document too large once aliases are expanded (limit %d nodes)", d.budget)
		return
	}
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n = d.resolve(n); n == nil || isNull(n) {
		return
	}
	d.decode(n, reflect.ValueOf(d.cfg).Elem(), "")
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// valuePos is where a path points: the value when it is a scalar or written
// inline, otherwise the key that introduces the block below it.
func (d *decoder) valuePos(key, val *yaml.Node) Pos {
	if val.Kind == yaml.ScalarNode || val.Style&yaml.FlowStyle != 0 || key == nil {
		return d.pos(val)
	}
	return d.pos(key)
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	switch v.Type() {
	case durationType:
		if s, ok := d.scalar(n, path); ok && !isNull(n) {
			dur, err := ParseDuration(s)
			if err != nil {
				d.errorf(d.pos(n), path, ErrInvalid, "%s", durationMsg(s))
				return
			}
			v.Set(reflect.ValueOf(dur))
		}
		return
	case timeType:
		if s, ok := d.scalar(n, path); ok && !isNull(n) {
			t, err := ParseTime(s)
			if err != nil {
				d.errorf(d.pos(n), path, ErrInvalid, "%v", err)
				return
			}
			v.Set(reflect.ValueOf(t))
		}
		return
	case secretType:
		d.secret(n, v, path)
		return
	case paramType:
		d.param(n, v, path)
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			if def, ok := v.Interface().(defaulter); ok {
				def.setDefaults()
			}
		}
		d.decode(n, v.Elem(), path)
		d.stamp(v)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Interface:
		if a, ok := d.anyValue(n, path); ok {
			if a == nil {
				v.Set(reflect.Zero(v.Type()))
			} else {
				v.Set(reflect.ValueOf(a))
			}
		}
	case reflect.String:
		if s, ok := d.scalar(n, path); ok {
			if isNull(n) {
				s = ""
			}
			v.SetString(s)
		}
	case reflect.Int:
		if s, ok := d.scalar(n, path); ok && !isNull(n) {
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, strconv.IntSize)
			if err != nil {
				d.errorf(d.pos(n), path, ErrInvalid, "invalid integer %q", s)
				return
			}
			v.SetInt(i)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path); ok && !isNull(n) {
			b, ok := parseBool(s)
			if !ok {
				d.errorf(d.pos(n), path, ErrInvalid, "invalid boolean %q (use true or false)", s)
				return
			}
			v.SetBool(b)
		}
	default:
		// Only reachable if someone adds a field of a kind the walker does
		// not know; fail loudly in tests rather than decode silently.
		d.errorf(d.pos(n), path, ErrInvalid, "cannot decode into %s", v.Type())
	}
}

// stamp records which file defined a credential or check.
func (d *decoder) stamp(v reflect.Value) {
	switch x := v.Interface().(type) {
	case *Credential:
		if x.File == "" {
			x.File = d.file
		}
	case *Check:
		if x.File == "" {
			x.File = d.file
		}
		x.Sensitive = append(x.Sensitive, requestSecrets(x.URL, d.expanded)...)
		d.expanded = nil
	}
}

// pairs returns a mapping's key/value pairs, reporting duplicate and
// non-string keys. Merge keys (<<: *defaults) contribute the pairs the
// mapping does not set itself; the first merged mapping wins, as YAML says.
func (d *decoder) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	var merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		v := d.resolve(n.Content[i+1])
		if k == nil || v == nil {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(d.pos(k), path, ErrInvalid, "keys must be strings, got %s", kindName(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(d.pos(k), join(path, k.Value), ErrDuplicate, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, [2]*yaml.Node{k, v})
	}
	for _, kv := range merged {
		if _, set := seen[kv[0].Value]; !set {
			seen[kv[0].Value] = kv[0]
			out = append(out, kv)
		}
	}
	return out
}

// mergePairs returns the pairs a merge key brings in: one mapping, or a
// list of them.
func (d *decoder) mergePairs(v *yaml.Node, path string) [][2]*yaml.Node {
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out [][2]*yaml.Node
		for _, item := range v.Content {
			if item = d.resolve(item); item == nil {
				return out
			}
			if item.Kind != yaml.MappingNode {
				d.errorf(d.pos(item), path, ErrInvalid, "<< merges mappings, got %s", kindName(item))
				continue
			}
			out = append(out, d.pairs(item, path)...)
		}
		return out
	}
	d.errorf(d.pos(v), path, ErrInvalid, "<< merges mappings, got %s", kindName(v))
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) expect(n *yaml.Node, kind yaml.Kind, path string) bool {
	if n.Kind == kind {
		return true
	}
	want := "a mapping"
	if kind == yaml.SequenceNode {
		want = "a list"
	}
	if path == "" && n.Kind == yaml.SequenceNode && kind == yaml.MappingNode {
		d.errorf(d.pos(n), path, ErrInvalid, "the document is a list, but a credmon config is a mapping (server:, store:, environments:, …): remove the leading \"- \" and indent what follows two spaces less")
		return false
	}
	d.errorf(d.pos(n), path, ErrInvalid, "expected %s, got %s", want, kindName(n))
	return false
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) || !d.expect(n, yaml.MappingNode, path) {
		return
	}
	fields := fieldsOf(v.Type())
	for _, kv := range d.pairs(n, path) {
		k, val := kv[0], kv[1]
		idx, ok := fields.index[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest(k.Value, fields.names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(d.pos(k), join(path, k.Value), ErrUnknownField, "%s", msg)
			continue
		}
		fpath := join(path, k.Value)
		fv := v.Field(idx)
		if prev, ok := d.cfg.positions[fpath]; ok && prev.File != d.file && !mergeable(fv.Type()) {
			d.errs = append(d.errs, &Error{Pos: prev, Path: fpath, Err: ErrDuplicate,
				Msg: fmt.Sprintf("set in two files (also defined at %s); set it in one file only", d.valuePos(k, val))})
			continue
		}
		d.setPos(fpath, d.valuePos(k, val))
		d.decode(val, fv, fpath)
	}
}

// structFields is a struct's yaml field index, by tag name.
type structFields struct {
	index map[string]int
	names []string
}

var fieldCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	fieldCache.Store(t, f)
	return f
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) || !d.expect(n, yaml.MappingNode, path) {
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.errorf(d.pos(n), path, ErrInvalid, "cannot decode into %s", v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	elemType := v.Type().Elem()
	for _, kv := range d.pairs(n, path) {
		k, val := kv[0], kv[1]
		epath := join(path, k.Value)
		key := reflect.ValueOf(k.Value).Convert(v.Type().Key())
		at := d.valuePos(k, val)
		if existing := v.MapIndex(key); existing.IsValid() {
			switch v.Type() {
			case envMapType:
				// The same environment in several files: its credentials
				// and checks merge; other fields conflict field by field.
				if !isNull(val) {
					d.decode(val, existing, epath)
				}
				continue
			case credMapType:
				prev := d.cfg.positions[epath]
				d.errs = append(d.errs, &Error{Pos: prev, Path: epath, Err: ErrDuplicate,
					Msg: fmt.Sprintf("duplicate credential %q (also defined at %s)", k.Value, at)})
				continue
			}
		}
		d.setPos(epath, at)
		ev := reflect.New(elemType).Elem()
		d.decode(val, ev, epath)
		if elemType.Kind() == reflect.Pointer && ev.IsNil() {
			// "prod:" with nothing under it is still an environment.
			ev = reflect.New(elemType.Elem())
			if def, ok := ev.Interface().(defaulter); ok {
				def.setDefaults()
			}
			d.stamp(ev)
		}
		v.SetMapIndex(key, ev)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		if v.Type() != checkSliceType {
			v.Set(reflect.Zero(v.Type()))
		}
		return
	}
	if !d.expect(n, yaml.SequenceNode, path) {
		return
	}
	// Checks from a later file append; every other list replaces the
	// default it had.
	base := 0
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	if v.Type() == checkSliceType {
		base = v.Len()
		out = v
	}
	for i, item := range n.Content {
		item = d.resolve(item)
		if item == nil {
			return
		}
		ipath := fmt.Sprintf("%s[%d]", path, base+i)
		d.setPos(ipath, d.pos(item))
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(item, ev, ipath)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}
