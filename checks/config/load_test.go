package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEmptyFileIsEmptyConfigWithDefaults(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := fakeEnv(nil).Parse("empty.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if len(cfg.Environments) != 0 || len(cfg.CheckList()) != 0 {
			t.Errorf("%q: got environments %v", data, cfg.Environments)
		}
		if cfg.Server.Listen != "127.0.0.1:9464" {
			t.Errorf("listen = %q", cfg.Server.Listen)
		}
	}
}

func TestDefaults(t *testing.T) {
	const data = `
notify:
  slack: {webhook_url: {env: SLACK_WEBHOOK_URL}}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: PROD_KEY}}
    checks:
      - name: account
        credential: key
        url: https://api.example.com/v1/account
`
	cfg, err := fakeEnv(nil).Parse("defaults.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.listen", cfg.Server.Listen, "127.0.0.1:9464"},
		{"store.driver", cfg.Store.Driver, "bolt"},
		{"store.path", cfg.Store.Path, "credmon.db"},
		{"store.redis.key_prefix", cfg.Store.Redis.KeyPrefix, "credmon:"},
		{"scheduler.schedule", cfg.Scheduler.Schedule, "@every 1m"},
		{"scheduler.jitter", cfg.Scheduler.Jitter.D(), time.Duration(0)},
		{"scheduler.timeout", cfg.Scheduler.Timeout.D(), 10 * time.Second},
		{"scheduler.max_concurrency", cfg.Scheduler.MaxConcurrency, 64},
		{"alerting.failure_threshold", cfg.Alerting.FailureThreshold, 2},
		{"alerting.success_threshold", cfg.Alerting.SuccessThreshold, 1},
		{"alerting.remind_every", cfg.Alerting.RemindEvery.D(), 4 * time.Hour},
		{"alerting.send_resolved", *cfg.Alerting.SendResolved, true},
		{"alerting.expiry_warn_before", cfg.Alerting.ExpiryWarnBefore, []Duration{Duration(14 * day), Duration(7 * day), Duration(day)}},
		{"notify.console", *cfg.Notify.Console, true},
		{"notify.slack.api_url", cfg.Notify.Slack.APIURL, "https://slack.com/api/"},
		{"clock.schedule", cfg.Clock.Schedule, "@every 5m"},
		{"clock.max_offset", cfg.Clock.MaxOffset.D(), 2 * time.Second},
		{"clock.ntp_servers", len(cfg.Clock.NTPServers), 0},
	}
	ch := cfg.Check("prod", "account")
	cr := cfg.Environments["prod"].Credential("key")
	if ch == nil || cr == nil {
		t.Fatalf("check %v, credential %v", ch, cr)
	}
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"check.method", ch.Method, "GET"},
		{"check.schedule", ch.Schedule, "@every 1m"},
		{"check.timeout", ch.Timeout.D(), 10 * time.Second},
		{"check.expect.status", len(ch.Expect.Status), 0},
		{"check.env", ch.Env, "prod"},
		{"check.file", ch.File, "defaults.yaml"},
		{"credential.name", cr.Name, "key"},
		{"credential.env", cr.Env, "prod"},
		{"credential.file", cr.File, "defaults.yaml"},
		{"credential.header", cr.Header, "Authorization"},
		{"credential.scheme", cr.Scheme == nil, true},
		{"credential.refresh_before", cr.RefreshBefore.D(), 60 * time.Second},
		{"credential.token_max_age", cr.TokenMaxAge.D(), 5 * time.Minute},
		{"credential.auth_style", cr.AuthStyle, "auto"},
		{"environment.name", cfg.Environments["prod"].Name, "prod"},
	}...)
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestExplicitValuesReplaceDefaults(t *testing.T) {
	const data = `
scheduler: {schedule: "*/2 * * * *", timeout: 3s}
alerting:
  send_resolved: false
  remind_every: 0
  expiry_warn_before: [30d, 1d12h]
notify: {console: false}
environments:
  dev:
    checks:
      - {name: own, url: "https://dev.example.com/", schedule: "@every 10s", timeout: 1s}
      - {name: inherited, url: "https://dev.example.com/"}
`
	cfg, err := fakeEnv(nil).Parse("explicit.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.Alerting.SendResolved || *cfg.Notify.Console || cfg.Alerting.RemindEvery != 0 {
		t.Errorf("explicit false/0 lost: send_resolved=%v console=%v remind=%v",
			*cfg.Alerting.SendResolved, *cfg.Notify.Console, cfg.Alerting.RemindEvery)
	}
	want := []Duration{Duration(30 * 24 * time.Hour), Duration(36 * time.Hour)}
	if !reflect.DeepEqual(cfg.Alerting.ExpiryWarnBefore, want) {
		t.Errorf("expiry_warn_before = %v, want %v", cfg.Alerting.ExpiryWarnBefore, want)
	}
	own, inh := cfg.Check("dev", "own"), cfg.Check("dev", "inherited")
	if own.Schedule != "@every 10s" || own.Timeout.D() != time.Second {
		t.Errorf("own check: %q %v", own.Schedule, own.Timeout)
	}
	if inh.Schedule != "*/2 * * * *" || inh.Timeout.D() != 3*time.Second {
		t.Errorf("inherited check: %q %v", inh.Schedule, inh.Timeout)
	}
}

func TestInterpolation(t *testing.T) {
	opts := fakeEnv(map[string]string{"KEY_VAR": "PROD_KEY", "API_HOST": "api.example.com", "OK": ""})
	cfg, err := opts.Load("testdata/valid-interpolation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:9999" {
		t.Errorf("default not used: listen = %q", cfg.Server.Listen)
	}
	cr := cfg.Environments["prod"].Credential("key")
	if cr.Secret.Source != SourceEnv || cr.Secret.Ref != "PROD_KEY" {
		t.Errorf("secret = %s", cr.Secret.Describe())
	}
	if cr.Scheme == nil || *cr.Scheme != "" {
		t.Errorf("scheme: \"\" must be set and empty, got %v", cr.Scheme)
	}
	ch := cfg.Check("prod", "price")
	if want := "https://api.example.com/v1/price?currency=$USD&cost=$5"; ch.URL != want {
		t.Errorf("url = %q, want %q", ch.URL, want)
	}
	if want := `{"total": "${AMOUNT}"}`; ch.Body.Text != want {
		t.Errorf("$$ escape: body = %q, want %q", ch.Body, want)
	}
	wantJSON := map[string]any{"ok": true, "quoted": "true", "count": int64(3)}
	if !reflect.DeepEqual(ch.Expect.JSON, wantJSON) {
		t.Errorf("json = %#v, want %#v", ch.Expect.JSON, wantJSON)
	}
}

func TestInterpolateCases(t *testing.T) {
	env := map[string]string{"A": "x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"plain":           "plain",
		"${A}":            "x",
		"pre-${A}-post":   "pre-x-post",
		"${MISSING:-dft}": "dft",
		"${EMPTY:-dft}":   "dft",
		"${EMPTY}":        "",
		"${A:-dft}":       "x",
		"$$":              "$",
		"$${A}":           "${A}",
		"cost $5":         "cost $5",
		"trailing $":      "trailing $",
		"${A}${A}":        "xx",
		"${MISSING:-}":    "",
	} {
		got, err := interpolate(in, lookup)
		if err != nil || got != want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, sentinel := range map[string]error{
		"${MISSING}":   ErrUnsetVar,
		"${A":          ErrInvalid,
		"${}":          ErrInvalid,
		"${1A}":        ErrInvalid,
		"${A-B:-x}":    ErrInvalid,
		"x${MISSING}x": ErrUnsetVar,
	} {
		if _, err := interpolate(in, lookup); err == nil || err.sentinel != sentinel {
			t.Errorf("interpolate(%q) error = %v, want %v", in, err, sentinel)
		}
	}
}

func TestProcessEnvironmentIsTheDefault(t *testing.T) {
	t.Setenv("CREDMON_TEST_LISTEN", "127.0.0.1:7000")
	cfg, err := Parse("env.yaml", []byte("server: {listen: \"${CREDMON_TEST_LISTEN}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:7000" {
		t.Errorf("listen = %q", cfg.Server.Listen)
	}
}

func TestDirectoryMerge(t *testing.T) {
	cfg, err := fakeEnv(nil).Load("testdata/merged")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"testdata/merged/00-global.yaml", "testdata/merged/prod-extra.yaml", "testdata/merged/prod.yaml", "testdata/merged/staging.yaml"}
	if !reflect.DeepEqual(cfg.Files, wantFiles) {
		t.Errorf("files = %v (hidden files must be skipped)", cfg.Files)
	}
	if cfg.Store.Driver != "memory" {
		t.Errorf("store.driver = %q", cfg.Store.Driver)
	}
	var got []string
	for _, ch := range cfg.CheckList() {
		got = append(got, ch.Env+"/"+ch.Name+"@"+filepath.Base(ch.File)+" "+ch.Schedule+" "+ch.Timeout.String())
	}
	want := []string{
		"prod/account@prod.yaml @every 30s 5s",
		"prod/profile@prod-extra.yaml @every 30s 30s",
		"prod/whoami@prod-extra.yaml @every 30s 5s",
		"staging/account@staging.yaml @every 30s 5s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checks:\n got %q\nwant %q", got, want)
	}
	prod := cfg.Environments["prod"]
	if prod.Credential("key") == nil || prod.Credential("token") == nil || prod.Credential("nope") != nil {
		t.Errorf("prod credentials = %v", prod.Credentials)
	}
	// Check indices count across files in load order: prod-extra.yaml
	// sorts first, so its checks are [0] and [1].
	if p := cfg.Pos("environments.prod.checks[2].url"); p.File != "testdata/merged/prod.yaml" || p.Line != 10 {
		t.Errorf("pos of prod.yaml's check = %v", p)
	}
	if p := cfg.Pos("environments.prod.checks[0].timeout"); p.File != "testdata/merged/prod-extra.yaml" || p.Line != 12 || p.Col != 18 {
		t.Errorf("pos of timeout = %v", p)
	}
}

func TestDuplicateCheckAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "environments:\n  prod:\n    checks:\n      - {name: x, url: \"https://a.example.com/\"}\n")
	write("b.yaml", "environments:\n  prod:\n    checks:\n      - {name: x, url: \"https://b.example.com/\"}\n")
	_, err := fakeEnv(nil).Load(dir)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	want := a + `:4:16: environments.prod.checks[0].name: duplicate check "x" (also defined at ` + b + ":4:16)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestAllErrorsReportedSorted(t *testing.T) {
	const data = `
scheduler:
  timeout: forever
environments:
  prod:
    checks:
      - name: a
        url: ftp://x
      - name: b
        url: https://${NOPE}/
server:
  lsten: x
`
	_, err := fakeEnv(nil).Parse("many.yaml", []byte(data))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"many.yaml:3:12: scheduler.timeout: ",
		"many.yaml:8:14: environments.prod.checks[0].url: ",
		"many.yaml:10:14: environments.prod.checks[1].url: environment variable NOPE is not set",
		"many.yaml:12:3: server.lsten: unknown field \"lsten\" (did you mean \"listen\"?)",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
	for _, s := range []error{ErrInvalid, ErrUnsetVar, ErrUnknownField} {
		if !errors.Is(err, s) {
			t.Errorf("joined error does not wrap %v", s)
		}
	}
}

func TestTimeAndRotation(t *testing.T) {
	const data = `
environments:
  prod:
    credentials:
      a:
        type: api_key
        secret: {env: A}
        expires_at: 2030-01-02
        rotation: {max_age: 90d, rotated_at: "2025-06-01T12:00:00Z", grace: 48h}
      b:
        type: api_key
        secret: {env: B}
        rotation: {rotated_at: auto}
`
	cfg, err := fakeEnv(nil).Parse("time.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Environments["prod"].Credentials["a"], cfg.Environments["prod"].Credentials["b"]
	if want := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC); !a.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %v", a.ExpiresAt)
	}
	if got, ok := a.Rotation.RotatedTime(); !ok || !got.Equal(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("rotated_at = %v %v", got, ok)
	}
	if a.Rotation.MaxAge.D() != 90*24*time.Hour || a.Rotation.Grace.D() != 48*time.Hour {
		t.Errorf("rotation durations = %v %v", a.Rotation.MaxAge, a.Rotation.Grace)
	}
	if _, ok := b.Rotation.RotatedTime(); ok || b.Rotation.RotatedAt != RotatedAuto {
		t.Errorf("auto rotation = %q", b.Rotation.RotatedAt)
	}
	if _, err := ParseTime("2030-13-01"); err == nil {
		t.Error("month 13 parsed")
	}
}

// rotated_at: auto needs a fingerprint key that is not in the store: a
// shared store needs one configured, bolt and memory have their own.
func TestAutoRotationNeedsAFingerprintKey(t *testing.T) {
	const creds = `
environments:
  prod:
    credentials:
      a: {type: api_key, secret: {env: A}, rotation: {rotated_at: auto}}
`
	const redis = "store:\n  driver: redis\n  redis: {url: \"redis://127.0.0.1:6379/0\"}\n"
	for name, c := range map[string]struct {
		store string
		ok    bool
	}{
		"redis without a key":        {redis, false},
		"redis with fingerprint_key": {redis + "  fingerprint_key: {env: FP_KEY}\n", true},
		"redis with encryption_key":  {redis + "  encryption_key: {env: ENC_KEY}\n", true},
		"bolt":                       {"store: {driver: bolt}\n", true},
		"memory":                     {"store: {driver: memory}\n", true},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := fakeEnv(nil).Parse("fp.yaml", []byte(c.store+creds))
			if c.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if !cfg.Store.Fingerprints() {
					t.Fatal("Fingerprints() = false for a store that has a fingerprint key")
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrRequired) {
				t.Fatalf("err = %v, want ErrRequired", err)
			}
			if ce.Path != "environments.prod.credentials.a.rotation.rotated_at" || ce.Pos.Line != 8 {
				t.Fatalf("error at %s %s, want rotated_at on line 8", ce.Pos, ce.Path)
			}
			for _, field := range []string{"store.fingerprint_key", "store.encryption_key"} {
				if !strings.Contains(ce.Msg, field) {
					t.Errorf("message %q does not name %s", ce.Msg, field)
				}
			}
		})
	}
}

func TestAnchorsAndAliasLimits(t *testing.T) {
	const ok = `
environments:
  prod:
    checks:
      - name: a
        url: https://a.example.com/
        expect: &ok {status: [200, 204]}
      - name: b
        url: https://b.example.com/
        expect: *ok
`
	cfg, err := fakeEnv(nil).Parse("alias.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Check("prod", "b").Expect.Status; !reflect.DeepEqual(got, []int{200, 204}) {
		t.Errorf("alias status = %v", got)
	}
	// Nine levels of nine aliases is 9^9 nodes once expanded.
	var b strings.Builder
	b.WriteString("environments:\n  prod:\n    checks:\n      - name: x\n        url: https://x.example.com/\n        expect:\n          json:\n            a0: &a0 [1]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("            a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, err = fakeEnv(nil).Parse("bomb.yaml", []byte(b.String()))
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("alias bomb: err = %v", err)
	}
	_, err = fakeEnv(nil).Parse("cycle.yaml", []byte("environments:\n  prod:\n    checks:\n      - name: c\n        url: https://c.example/\n        expect: {json: &c {self: *c}}\n"))
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("alias cycle: err = %v", err)
	}
}

func TestMergeKeys(t *testing.T) {
	const data = `
environments:
  prod:
    checks:
      - &base
        name: a
        url: https://a.example.com/
        timeout: 3s
        expect: {status: [200]}
      - <<: *base
        name: b
        timeout: 5s
`
	cfg, err := fakeEnv(nil).Parse("merge.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Check("prod", "b")
	if b == nil || b.URL != "https://a.example.com/" || b.Timeout.D() != 5*time.Second || !reflect.DeepEqual(b.Expect.Status, []int{200}) {
		t.Errorf("merged check = %+v", b)
	}
	_, err = fakeEnv(nil).Parse("merge.yaml", []byte("scheduler:\n  <<: [1]\n"))
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("merging a scalar: err = %v", err)
	}
}

func TestLoadMissingPath(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "nope.yaml: cannot read config: no such file or directory") {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml files") {
		t.Errorf("empty dir: err = %v", err)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"schedule", "timeout", "jitter", "max_concurrency"}
	for in, want := range map[string]string{
		"scheudle":       "schedule",
		"timout":         "timeout",
		"max_concurency": "max_concurrency",
		"colour":         "",
		"x":              "",
	} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "15m": 15 * time.Minute, "48h": 48 * time.Hour,
		"14d": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0": 0, " 2s ": 2 * time.Second,
	} {
		if got, err := ParseDuration(in); err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ten seconds", "10", "-5s", "1d-5h", "-1d", "1.5d", "d"} {
		_, err := ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		} else if in != "" && !strings.Contains(err.Error(), "\""+strings.TrimSpace(in)+"\"") {
			t.Errorf("ParseDuration(%q) error does not quote the input: %v", in, err)
		}
	}
}

func TestCrossEnvironmentWarnings(t *testing.T) {
	data := []byte(`environments:
  prod:
    credentials:
      payments: {type: api_key, secret: {env: STAGING_PAYMENTS_KEY}}
  staging:
    credentials:
      payments: {type: api_key, secret: {env: STG_KEY}}
`)
	opts := fakeEnv(map[string]string{"STAGING_PAYMENTS_KEY": "sk_live_FAKEshared000000000000", "STG_KEY": "sk_live_FAKEshared000000000000"})
	cfg, err := opts.Parse("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := `x.yaml:4:41: environments.prod.credentials.payments.secret: the prod credential is read from env STAGING_PAYMENTS_KEY, whose name says "staging": a key of another environment deployed here, or a misnamed source`
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != want {
		t.Fatalf("load warnings = %v\nwant %s", cfg.Warnings, want)
	}
	if err := cfg.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	var shared []string
	for _, w := range cfg.Warnings {
		if strings.Contains(w.Msg, "same key") {
			shared = append(shared, w.Error())
		}
	}
	want = `x.yaml:7:17: environments.staging.credentials.payments: staging/payments uses the same key as prod/payments: environments must not share a key (a leak or revocation in one is one in the other)`
	if len(shared) != 1 || shared[0] != want {
		t.Errorf("shared-key warnings = %v\nwant %s", shared, want)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w.Error(), "FAKEshared") || !errors.Is(w, ErrHygiene) {
			t.Errorf("warning %v", w)
		}
	}
}

func TestDropPositionsLeavesTheFileOnly(t *testing.T) {
	const data = `
environments:
  dev:
    checks:
      - {name: one, url: "https://dev.example.com/"}
`
	cfg, err := fakeEnv(nil).Parse("dropped.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	path := "environments.dev.checks[0].url"
	if p := cfg.Pos(path); p.File != "dropped.yaml" || p.Line != 5 {
		t.Fatalf("Pos(%s) = %+v before DropPositions, want dropped.yaml line 5", path, p)
	}
	cfg.DropPositions()
	if p := cfg.Pos(path); p != (Pos{File: "dropped.yaml"}) {
		t.Fatalf("Pos(%s) = %+v after DropPositions, want the file alone", path, p)
	}
	if ch := cfg.Check("dev", "one"); ch == nil || ch.URL != "https://dev.example.com/" {
		t.Fatalf("the configuration itself changed: %+v", ch)
	}
}
