package config

import (
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
	})
}
