package config

import (
	"errors"
	"os"
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

// wantFileRefused checks that resolving a {file:} secret at path fails
// with a message naming the path and containing want, and no content.
func wantFileRefused(t *testing.T, path, want string, content ...string) {
	t.Helper()
	_, err := FromFile(path).Resolve()
	if err == nil {
		t.Fatalf("%s resolved", path)
	}
	if !errors.Is(err, ErrSecretUnresolved) {
		t.Errorf("error does not wrap ErrSecretUnresolved: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, want) {
		t.Errorf("error %q does not name %s and say %q", msg, path, want)
	}
	for _, c := range content {
		if strings.Contains(err.Error(), c) {
			t.Errorf("error echoes the file's content: %v", err)
		}
	}
}

func TestSecretFileMustBeRegular(t *testing.T) {
	wantFileRefused(t, t.TempDir(), "is a directory; a secret file must be a regular file")
}

func TestSecretFileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	chunk := "sk_live_FAKEbig0" // 16 bytes, repeated
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, []byte(strings.Repeat(chunk, MaxSecretFile/len(chunk))), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := FromFile(exact).Resolve()
	if err != nil || len(v.Text) != 64<<10 {
		t.Fatalf("a 64 KiB secret file: %d bytes, err %v", len(v.Text), err)
	}

	over := filepath.Join(dir, "over")
	if err := os.WriteFile(over, []byte(strings.Repeat(chunk, MaxSecretFile/len(chunk))+"x"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantFileRefused(t, over, "larger than the 64 KiB limit", chunk)

	// validate reports it at the secret's position, too.
	cfg, err := fakeEnv(nil).Parse("limit.yaml", []byte("notify: {slack: {webhook_url: {file: "+over+"}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.ResolveSecrets()
	if err == nil || !strings.Contains(err.Error(), "limit.yaml:1:") || !strings.Contains(err.Error(), "notify.slack.webhook_url: secret file "+over+" is larger than the 64 KiB limit") {
		t.Fatalf("ResolveSecrets = %v", err)
	}
}

// An {env: NAME} secret resolves through the LookupEnv the config was
// loaded with, as ${VAR} does, never the process environment behind it.
func TestEnvSecretUsesInjectedLookup(t *testing.T) {
	t.Setenv("CREDMON_TEST_INJECTED", "sk_test_FAKEfromProcess")
	t.Setenv("CREDMON_TEST_ONLY_PROCESS", "sk_test_FAKEonlyProcess")
	const data = `
environments:
  prod:
    credentials:
      a: {type: bearer, secret: {env: CREDMON_TEST_INJECTED}}
      b: {type: bearer, secret: {env: CREDMON_TEST_ONLY_PROCESS}}
`
	cfg, err := fakeEnv(map[string]string{"CREDMON_TEST_INJECTED": "sk_test_FAKEinjected"}).Parse("secrets.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	creds := cfg.Environments["prod"].Credentials
	if v, err := creds["a"].Secret.Resolve(); err != nil || v.Text != "sk_test_FAKEinjected" {
		t.Errorf("a: resolved %q, %v; want the injected value", v.Text, err)
	}
	if _, err := creds["b"].Secret.Resolve(); !errors.Is(err, ErrSecretUnresolved) {
		t.Errorf("b: err = %v; want unset in the injected environment", err)
	}
	if err := cfg.ResolveSecrets(); err == nil || !strings.Contains(err.Error(), "CREDMON_TEST_ONLY_PROCESS is not set") {
		t.Errorf("ResolveSecrets = %v; want b unset", err)
	}
	// Load's default is still the process environment.
	def, err := Parse("secrets.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := def.Environments["prod"].Credentials["a"].Secret.Resolve(); err != nil || v.Text != "sk_test_FAKEfromProcess" {
		t.Errorf("default loader: a resolved %q, %v; want the process value", v.Text, err)
	}
}
