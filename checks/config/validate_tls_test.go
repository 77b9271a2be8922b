package config

import (
	"errors"
	"strings"
	"testing"
)

func TestInsecureSkipVerifyWithACredentialIsWarned(t *testing.T) {
	const data = `
store:
  driver: redis
  redis:
    url: rediss://redis.internal:6380/0
    password: {env: REDIS_PASSWORD}
    tls: {insecure_skip_verify: true}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: PROD_KEY}}
    checks:
      - name: with-key
        credential: key
        url: https://api.example.com/me
        tls:
          server_name: api.example.com
          insecure_skip_verify: true
      - name: no-key
        url: https://status.example.com/
        tls: {insecure_skip_verify: true}
      - name: verified
        credential: key
        url: https://api.example.com/me
        tls: {insecure_skip_verify: false}
`
	cfg, err := fakeEnv(nil).Parse("insecure.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"insecure.yaml:7:33: store.redis.tls.insecure_skip_verify: " + insecureRedisMsg,
		"insecure.yaml:18:33: environments.prod.checks[0].tls.insecure_skip_verify: tls.insecure_skip_verify with a credential: anyone who can intercept the connection receives the credential (the server's certificate is not checked)",
	}
	if len(cfg.Warnings) != len(want) {
		t.Fatalf("warnings = %v, want %d", cfg.Warnings, len(want))
	}
	for i, w := range cfg.Warnings {
		if w.Error() != want[i] {
			t.Errorf("warning %d:\n got %s\nwant %s", i, w, want[i])
		}
		if !errors.Is(w, ErrInsecure) {
			t.Errorf("warning %d does not wrap ErrInsecure", i)
		}
	}
}

func TestInsecureRedisWithoutAPasswordIsNotWarned(t *testing.T) {
	cfg, err := fakeEnv(nil).Parse("r.yaml", []byte("store: {driver: redis, redis: {url: \"rediss://r:6380/0\", tls: {insecure_skip_verify: true}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
	cfg, err = fakeEnv(nil).Parse("r.yaml", []byte("store: {driver: redis, redis: {url: \"rediss://:pw@r:6380/0\", tls: {insecure_skip_verify: true}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Path != "store.redis.tls.insecure_skip_verify" {
		t.Errorf("a password in the url: warnings = %v", cfg.Warnings)
	}
}

// wait_replicas needs a master with replicas: refused for Cluster, and
// never negative, at the field's position.
func TestWaitReplicasValidation(t *testing.T) {
	for _, tc := range []struct{ redis, want string }{
		{"{addrs: [10.0.0.1:6379, 10.0.0.2:6379], wait_replicas: 1}", "w.yaml:2:81: store.redis.wait_replicas: is for a master with replicas"},
		{"{url: redis://r:6379/0, wait_replicas: -1}", "w.yaml:2:65: store.redis.wait_replicas: must be >= 0"},
		{"{addrs: [10.0.0.1:26379], master_name: m, wait_replicas: 1}", ""},
	} {
		data := "store:\n  {driver: redis, redis: " + tc.redis + "}\nenvironments: {prod: {checks: [{name: a, url: \"https://a.example/\"}]}}\n"
		_, err := fakeEnv(nil).Parse("w.yaml", []byte(data))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.redis, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.redis, err, tc.want)
		}
	}
}
