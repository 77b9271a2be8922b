package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, and
// every error must be a positioned *Error.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "testdata/*/*.yaml", "../../config.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	opts := fakeEnv(map[string]string{"SET": "value", "EMPTY": ""})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := opts.Parse("fuzz.yaml", data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			cfg.CheckList()
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error is not an *Error: %v", err)
		}
		if cfg != nil {
			t.Fatal("config returned with an error")
		}
		// A position found by rescanning the source must lie inside it.
		// YAML breaks lines at \n, a lone \r, and NEL, LS and PS.
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) + 1
		for _, r := range []string{"\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(r))
		}
		for _, e := range flatten(err) {
			if e.Pos.Line > lines || e.Pos.Line < 0 || e.Pos.Col < 0 {
				t.Fatalf("%v: position outside the %d-line input", e, lines)
			}
		}
	})
}

// flatten lists the *Error values a joined error holds.
func flatten(err error) []*Error {
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	var ce *Error
	if errors.As(err, &ce) {
		out = append(out, ce)
	}
	return out
}
