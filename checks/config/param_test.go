package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRequestParamsAndSensitiveValues(t *testing.T) {
	env := map[string]string{"API_HOST": "api.example.com", "QKEY": "FAKE-query-key-0001", "HVAL": "FAKE-header-0002"}
	o := LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, err := o.Parse("c.yaml", []byte(`
environments:
  prod:
    checks:
      - name: a
        method: POST
        url: "https://${API_HOST}/v1?key=${QKEY}"
        headers: {X-Token: {env: PROD_HEADER_TOKEN}, X-Plain: "${HVAL}", Accept: application/json}
        query: {sig: {file: sig.txt}}
        body: '{"a": 1}'
      - name: b
        url: "https://${API_HOST}/v1"
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Check("prod", "a"), cfg.Check("prod", "b")
	if h := a.Headers["X-Token"]; !h.IsSecret() || h.Secret.Ref != "PROD_HEADER_TOKEN" {
		t.Errorf("X-Token = %+v, want a secret reference", h)
	}
	if h := a.Headers["Accept"]; h.IsSecret() || h.Text != "application/json" {
		t.Errorf("Accept = %+v", h)
	}
	if q := a.Query["sig"]; !q.IsSecret() || !strings.HasSuffix(q.Secret.Ref, "sig.txt") {
		t.Errorf("query sig = %+v", q)
	}
	if a.Body.Text != `{"a": 1}` {
		t.Errorf("body = %q", a.Body.Text)
	}
	for _, v := range []string{"FAKE-query-key-0001", "FAKE-header-0002"} {
		if !slices.Contains(a.Sensitive, v) {
			t.Errorf("check a: %q put by ${VAR} into the request is not sensitive: %q", v, a.Sensitive)
		}
	}
	if slices.Contains(a.Sensitive, "api.example.com") || len(b.Sensitive) != 0 {
		t.Errorf("a ${VAR} naming only the host is not a secret: a %q, b %q", a.Sensitive, b.Sensitive)
	}
	if !a.CarriesSecret() || b.CarriesSecret() {
		t.Errorf("CarriesSecret: a %v (want true), b %v (want false)", a.CarriesSecret(), b.CarriesSecret())
	}
}

func TestParamRejectsUnknownReference(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`
environments:
  prod:
    checks:
      - {name: a, url: "https://x.example/", headers: {X-Token: {vault: k}}}
`))
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "c.yaml:5:") || !strings.Contains(err.Error(), `unknown key "vault"`) {
		t.Fatalf("err = %v, want a positioned error naming the unknown key", err)
	}
}
