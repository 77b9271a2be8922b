package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleSecrets are the variables ../../config.yaml references, with
// obviously fake values.
var exampleSecrets = map[string]string{
	"SLACK_BOT_TOKEN":            "xoxb-FAKE-0000",
	"PROD_PAYMENTS_KEY":          "sk_live_FAKE0000000000a1b2",
	"PROD_PAYMENTS_KEY_PREVIOUS": "sk_live_FAKE0000000000z9y8",
	"PROD_BILLING_CLIENT_SECRET": "FAKE-client-secret",
	"PROD_PARTNER_FEED_PASSWORD": "FAKE-password",
	"STAGING_PAYMENTS_KEY":       "sk_test_FAKE0000000000c3d4",
	"STAGING_DEPLOY_TOKEN":       "FAKE.jwt.token",
	"STAGING_CI_REFRESH_TOKEN":   "FAKE-refresh-token",
}

func TestExampleConfig(t *testing.T) {
	// The example's ${VAR:-default} values must not be overridden by
	// whatever the developer's shell happens to export.
	for _, v := range []string{"CREDMON_LISTEN", "CREDMON_STORE", "REDIS_URL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	for k, v := range exampleSecrets {
		t.Setenv(k, v)
	}
	cfg, err := Load("../../config.yaml")
	if err != nil {
		t.Fatalf("example config does not load:\n%v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("example config has warnings: %v", cfg.Warnings)
	}
	for _, env := range []string{"prod", "staging"} {
		e := cfg.Environments[env]
		if e == nil || len(e.Checks) == 0 || len(e.Credentials) == 0 {
			t.Fatalf("environment %s missing or empty", env)
		}
	}
	types := map[string]bool{}
	for _, e := range cfg.Environments {
		for _, c := range e.Credentials {
			types[c.Type] = true
		}
	}
	for _, typ := range credentialTypes {
		if !types[typ] {
			t.Errorf("example has no %s credential", typ)
		}
	}
	if err := cfg.ResolveSecrets(); err != nil {
		t.Fatalf("ResolveSecrets with every variable set: %v", err)
	}

	os.Unsetenv("PROD_BILLING_CLIENT_SECRET") // t.Setenv above restores it
	err = cfg.ResolveSecrets()
	if !errors.Is(err, ErrSecretUnresolved) {
		t.Fatalf("err = %v, want ErrSecretUnresolved", err)
	}
	want := "environments.prod.credentials.billing-client.client_secret: environment variable PROD_BILLING_CLIENT_SECRET is not set"
	if !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("err = %v\nwant one error containing %q", err, want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Pos.File != "../../config.yaml" || ce.Pos.Line == 0 {
		t.Errorf("error has no position: %#v", ce)
	}
	for _, v := range exampleSecrets {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error leaks a secret value")
		}
	}
}

func TestResolveSecretFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clean"), []byte("sk_live_FAKEclean"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "newline"), []byte("sk_live_FAKEnewline\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "credmon.yaml")
	data := `
environments:
  prod:
    credentials:
      clean: {type: bearer, secret: {file: clean}}
      newline: {type: bearer, secret: {file: newline}}
`
	if err := os.WriteFile(cfgFile, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := fakeEnv(nil).Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 {
		t.Fatalf("warnings = %v, want one about the newline", cfg.Warnings)
	}
	w := cfg.Warnings[0]
	if w.Path != "environments.prod.credentials.newline.secret" || !strings.Contains(w.Msg, "ends with a newline") || w.Pos.Line != 6 {
		t.Errorf("warning = %v", w)
	}
	if strings.Contains(w.Error(), "FAKE") {
		t.Errorf("warning leaks the secret: %v", w)
	}

	if err := os.Remove(filepath.Join(dir, "clean")); err != nil {
		t.Fatal(err)
	}
	err = cfg.ResolveSecrets()
	if len(cfg.Warnings) != 1 {
		t.Errorf("a second ResolveSecrets repeated warnings: %v", cfg.Warnings)
	}
	want := cfgFile + ":5:37: environments.prod.credentials.clean.secret: cannot read secret file " + filepath.Join(dir, "clean") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
