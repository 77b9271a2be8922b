package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.err from the current output")

// fakeEnv is the only environment golden tests see.
func fakeEnv(vars map[string]string) LoadOptions {
	return LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
}

// goldenSentinels says which sentinel each invalid file must produce, so a
// message that reads right but wraps the wrong error still fails.
var goldenSentinels = map[string]error{
	"invalid-unknown-key.yaml":           ErrUnknownField,
	"invalid-typo.yaml":                  ErrUnknownField,
	"invalid-duration.yaml":              ErrInvalid,
	"invalid-unset-var.yaml":             ErrUnsetVar,
	"invalid-secret-shape.yaml":          ErrInvalid,
	"invalid-credential-type.yaml":       ErrInvalid,
	"invalid-missing-secret.yaml":        ErrRequired,
	"invalid-missing-url.yaml":           ErrRequired,
	"invalid-url-scheme.yaml":            ErrInvalid,
	"invalid-unknown-credential.yaml":    ErrReference,
	"invalid-duplicate-check.yaml":       ErrDuplicate,
	"invalid-cron.yaml":                  ErrInvalid,
	"invalid-status-range.yaml":          ErrInvalid,
	"invalid-plain-http.yaml":            ErrInvalid,
	"invalid-slack-both.yaml":            ErrInvalid,
	"invalid-rotated-at.yaml":            ErrInvalid,
	"invalid-rotated-auto-redis.yaml":    ErrRequired,
	"invalid-syntax.yaml":                ErrSyntax,
	"invalid-tab.yaml":                   ErrSyntax,
	"invalid-duplicate-key.yaml":         ErrDuplicate,
	"invalid-list-for-map.yaml":          ErrInvalid,
	"invalid-oauth-missing.yaml":         ErrRequired,
	"invalid-oauth-field-on-static.yaml": ErrInvalid,
	"invalid-env-name.yaml":              ErrInvalid,
	"invalid-store.yaml":                 ErrRequired,
	"invalid-basic-username.yaml":        ErrRequired,
	"invalid-slack-channel.yaml":         ErrRequired,
	"invalid-int.yaml":                   ErrInvalid,
	"invalid-token-url-http.yaml":        ErrInvalid,
	"invalid-tls-file.yaml":              ErrInvalid,
	"invalid-header.yaml":                ErrInvalid,
	"invalid-not-mapping.yaml":           ErrInvalid,
	"invalid-multi-doc.yaml":             ErrSyntax,
	"invalid-bad-interp.yaml":            ErrInvalid,
	"invalid-web-config.yaml":            ErrInvalid,
	"dup-credential":                     ErrDuplicate,
	"dup-section":                        ErrDuplicate,
}

func TestInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := append(files, "testdata/dup-credential", "testdata/dup-section")
	if len(files) < 18 {
		t.Fatalf("only %d invalid-*.yaml files", len(files))
	}
	seen := map[string]bool{}
	for _, path := range cases {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			cfg, err := fakeEnv(nil).Load(path)
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("got a config along with the error")
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("no golden file: %v (run go test -update)", rerr)
			}
			if got != string(want) {
				t.Errorf("error mismatch\n got: %s\nwant: %s", got, want)
			}
			sentinel, ok := goldenSentinels[name]
			if !ok {
				t.Fatalf("no sentinel listed for %s", name)
			}
			if !errors.Is(err, sentinel) {
				t.Errorf("error does not wrap %v", sentinel)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Pos.File == "" || ce.Pos.Line == 0 {
				t.Errorf("first error has no position: %#v", ce)
			}
		})
	}
	for name := range goldenSentinels {
		if !seen[name] {
			t.Errorf("%s listed but missing from testdata", name)
		}
	}
}
