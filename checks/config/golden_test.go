package config

import (
	"errors"
	"flag"
	"net/url"
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
	"invalid-every-below-minimum.yaml":   ErrInvalid,
	"invalid-status-range.yaml":          ErrInvalid,
	"invalid-plain-http.yaml":            ErrInvalid,
	"invalid-slack-both.yaml":            ErrInvalid,
	"invalid-slack-api-url-http.yaml":    ErrInvalid,
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
	"invalid-pprof-exposed.yaml":         ErrInvalid,
	"invalid-bad-interp.yaml":            ErrInvalid,
	"invalid-web-config.yaml":            ErrInvalid,
	"invalid-route-notifier.yaml":        ErrReference,
	"invalid-route-matcher.yaml":         ErrReference,
	"invalid-alertmanager.yaml":          ErrInvalid,
	"invalid-maintenance.yaml":           ErrReference,
	"invalid-pagerduty-http.yaml":        ErrRequired,
	"invalid-webhook.yaml":               ErrInvalid,
	"invalid-unclosed-flow-map.yaml":     ErrSyntax,
	"invalid-unclosed-flow-map-eof.yaml": ErrSyntax,
	"invalid-unclosed-flow-seq.yaml":     ErrSyntax,
	"invalid-flow-mismatch.yaml":         ErrSyntax,
	"invalid-bad-indent.yaml":            ErrSyntax,
	"invalid-bad-dedent.yaml":            ErrSyntax,
	"invalid-tab-nested.yaml":            ErrSyntax,
	"invalid-duplicate-flow-key.yaml":    ErrDuplicate,
	"invalid-unterminated-quote.yaml":    ErrSyntax,
	"invalid-stray-colon.yaml":           ErrSyntax,
	"invalid-unknown-alias.yaml":         ErrSyntax,
	"invalid-doc-list.yaml":              ErrInvalid,
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

// resolveEnv are the fake secrets resolve-invalid-*.yaml refer to.
var resolveEnv = map[string]string{
	"CREDMON_TEST_BOT_TOKEN":        "xoxb-FAKE-000000000000-111111111111-FAKEfakeFAKEfake",
	"CREDMON_TEST_WEBHOOK_HTTP":     "http://hooks.slack.invalid/services/TFAKE0000/BFAKE0000/FAKEsecretFAKEsecret0000",
	"CREDMON_TEST_WEBHOOK_NOT_URL":  "hooks.slack.invalid/services/TFAKE1111/BFAKE1111/FAKEsecretFAKEsecret1111",
	"CREDMON_TEST_WEBHOOK_LOOPBACK": "http://127.0.0.1:9/services/TFAKE2222/BFAKE2222/FAKEsecretFAKEsecret2222",
}

// TestResolveInvalidGolden: problems only the resolved value shows, such
// as a webhook URL over plain http, each with its exact message, wrapping
// ErrInvalid, at the secret's position, and never echoing the value: no
// 12 consecutive characters of it, not even its host.
func TestResolveInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/resolve-invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("only %d resolve-invalid-*.yaml files", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, err := fakeEnv(resolveEnv).Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = cfg.ResolveSecrets()
			if err == nil {
				t.Fatal("resolved without error")
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
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrSecretUnresolved) {
				t.Errorf("error does not wrap only ErrInvalid: %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Pos.File == "" || ce.Pos.Line == 0 {
				t.Errorf("first error has no position: %#v", ce)
			}
			for _, v := range resolveEnv {
				for _, form := range []string{v, url.QueryEscape(v)} {
					for i := 0; i+12 <= len(form); i++ {
						if strings.Contains(got, form[i:i+12]) {
							t.Errorf("error echoes %q of a secret", form[i:i+12])
							break
						}
					}
				}
				if u, perr := url.Parse(v); perr == nil && u.Hostname() != "" && strings.Contains(got, u.Hostname()) {
					t.Errorf("error names the webhook's host %s", u.Hostname())
				}
			}
		})
	}
}

// TestSlackLoopbackHTTP: plain http is refused only to other machines.
func TestSlackLoopbackHTTP(t *testing.T) {
	for _, api := range []string{"http://127.0.0.1:9/api/", "http://localhost:9/api/", "http://[::1]:9/api/", "https://slack-gateway.invalid/api/"} {
		data := "notify: {slack: {bot_token: {env: T}, channel: \"#c\", api_url: \"" + api + "\"}}\n"
		if _, err := fakeEnv(nil).Parse("loopback.yaml", []byte(data)); err != nil {
			t.Errorf("api_url %s: %v", api, err)
		}
	}
	for _, api := range []string{"http://slack.invalid/api/", "http://10.0.0.1/api/", "http://[2001:db8::1]/api/"} {
		data := "notify: {slack: {bot_token: {env: T}, channel: \"#c\", api_url: \"" + api + "\"}}\n"
		if _, err := fakeEnv(nil).Parse("remote.yaml", []byte(data)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "notify.slack.api_url: the bot token would be sent over plain http") {
			t.Errorf("api_url %s: err = %v", api, err)
		}
	}
}
