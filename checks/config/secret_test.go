package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretShapes(t *testing.T) {
	const data = `
store:
  encryption_key: {file: secrets/enc.key}
environments:
  prod:
    credentials:
      a: {type: bearer, secret: {env: PROD_A}}
      b: {type: bearer, secret: {file: /run/secrets/b}}
      c: {type: bearer, secret: sk_test_FAKE0000literal}
      d: {type: bearer, secret: "${FROM_ENV}"}
`
	cfg, err := fakeEnv(map[string]string{"FROM_ENV": "sk_test_FAKEinterpolated"}).Parse("conf/secrets.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	creds := cfg.Environments["prod"].Credentials
	for name, want := range map[string]Secret{"a": FromEnv("PROD_A"), "b": FromFile("/run/secrets/b"), "c": Literal(""), "d": Literal("")} {
		if got := creds[name].Secret; got.Source != want.Source || got.Ref != want.Ref {
			t.Errorf("%s: %s, want %s", name, got.Describe(), want.Describe())
		}
	}
	for name, want := range map[string]string{"c": "sk_test_FAKE0000literal", "d": "sk_test_FAKEinterpolated"} {
		if v, err := creds[name].Secret.Resolve(); err != nil || v.Text != want {
			t.Errorf("%s: resolved to a different value (err %v)", name, err)
		}
	}
	if got := cfg.Store.EncryptionKey.Ref; got != filepath.Join("conf", "secrets", "enc.key") {
		t.Errorf("relative secret file not resolved against the config's directory: %q", got)
	}
	if p := creds["a"].Secret.Pos; p.Line != 7 || p.Col != 33 {
		t.Errorf("secret pos = %v", p)
	}
	// Only the literal written in the file is warned about, never echoed.
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Path != "environments.prod.credentials.c.secret" || !errors.Is(cfg.Warnings[0], ErrHygiene) {
		t.Fatalf("warnings = %v", cfg.Warnings)
	}
	if w := cfg.Warnings[0].Error(); strings.Contains(w, "FAKE") {
		t.Errorf("warning echoes the secret: %s", w)
	}
}

func TestSecretValuesNeverInErrors(t *testing.T) {
	for _, data := range []string{
		"notify: {slack: {webhook_url: [sk_live_FAKEleak1]}}",
		"notify: {slack: {webhook_url: {env: X, file: sk_live_FAKEleak1}}}",
		"notify: {slack: {webhook_url: \"sk_live_FAKEleak1${oops\"}}",
		"notify: {slack: {webhook_url: \"sk_live_FAKEleak1${a-b}\"}}",
		"notify: {slack: {webhook_url: {vault: sk_live_FAKEleak1}}}",
		"store: {driver: redis, redis: {url: \"ftp://u:sk_live_FAKEleak1@h\"}}",
		"environments: {prod: {checks: [{name: a, url: \"https://a.example/\", proxy_url: \"ftp://u:sk_live_FAKEleak1@p\"}]}}",
	} {
		_, err := fakeEnv(nil).Parse("leak.yaml", []byte(data))
		if err == nil {
			t.Errorf("%s: no error", data)
			continue
		}
		if strings.Contains(err.Error(), "FAKEleak1") {
			t.Errorf("secret echoed: %s", err)
		}
	}
}
