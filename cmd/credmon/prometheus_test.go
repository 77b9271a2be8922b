package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/notify"
)

const (
	rulesFile     = "../../deploy/prometheus/credmon-rules.yaml"
	rulesTestFile = "../../deploy/prometheus/credmon-rules.test.yaml"
	dashboardFile = "../../deploy/grafana/credmon.json"
)

// tool finds a binary of Debian's prometheus package: a clear skip outside
// CI, a failure under CI=true.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (apt-get install prometheus); CI must run this test", name)
		}
		t.Skipf("%s not found (apt-get install prometheus): skipping", name)
	}
	return p
}

func TestPromtoolRules(t *testing.T) {
	promtool := tool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("SUCCESS")) {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricsDaemon starts the real daemon against loopback fakes chosen so that
// every series the rules and the dashboard read exists and several alerts
// hold: a refused key, an unreachable API, a previous key that still works,
// an overdue and a near rotation, an expired and an expiring credential, a
// Slack that answers 500 and an OAuth2 token endpoint.
func metricsDaemon(t *testing.T) string {
	t.Helper()
	const (
		good = "sk_live_FAKEprom0000000000000good"
		prev = "sk_live_FAKEprom0000000000000prev"
		bad  = "sk_live_FAKEprom00000000000000bad"
		tok  = "FAKE-prom-access-token-000000000000"
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer " + good, "Bearer " + prev, "Bearer " + tok:
			fmt.Fprint(w, `{"ok":true}`)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(api.Close)
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
	}))
	t.Cleanup(tokens.Close)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "FAKE outage", http.StatusInternalServerError)
	}))
	t.Cleanup(slack.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/v1/me"
	ln.Close()

	t.Setenv("PROMTEST_GOOD", good)
	t.Setenv("PROMTEST_PREV", prev)
	t.Setenv("PROMTEST_BAD", bad)
	t.Setenv("PROMTEST_CLIENT_SECRET", "FAKE-prom-client-secret")
	t.Setenv("PROMTEST_SLACK", slack.URL+"/services/TFAKE/BFAKE/FAKEFAKEFAKEFAKE")
	now := time.Now().UTC()
	cfg := fmt.Sprintf(`
store: {driver: memory}
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
notify:
  console: false
  slack: {webhook_url: {env: PROMTEST_SLACK}}
environments:
  prod:
    credentials:
      good: {type: api_key, secret: {env: PROMTEST_GOOD}, rotation: {max_age: 90d, rotated_at: "2020-01-01"}, expires_at: %[3]q}
      rotated: {type: api_key, secret: {env: PROMTEST_GOOD}, previous: {env: PROMTEST_PREV}, rotation: {max_age: 90d, rotated_at: %[6]q, grace: 1s}}
      stale: {type: api_key, secret: {env: PROMTEST_BAD}, expires_at: "2020-06-01"}
      due: {type: api_key, secret: {env: PROMTEST_GOOD}, rotation: {max_age: 90d, rotated_at: %[4]q}}
      client: {type: oauth2_client_credentials, token_url: %[5]q, client_id: credmon, client_secret: {env: PROMTEST_CLIENT_SECRET}}
    checks:
      - {name: ok, credential: good, url: %[1]q}
      - {name: due, credential: due, url: %[1]q}
      - {name: rotated, credential: rotated, url: %[1]q}
      - {name: refused, credential: stale, url: %[1]q}
      - {name: oauth, credential: client, url: %[1]q}
      - {name: down, credential: good, url: %[2]q, timeout: 1s}
`, api.URL+"/v1/me", closed, now.Add(3*24*time.Hour).Format(time.RFC3339), now.Add(-87*24*time.Hour).Format(time.RFC3339), tokens.URL+"/token", now.Add(-10*24*time.Hour).Format(time.RFC3339))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return startDaemon(t, daemon.Options{ConfigPath: path, Version: "v0.0.0-test"}).addr
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus runs Debian's Prometheus on loopback, scraping target
// every second and evaluating credmon's rules every second.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := tool(t, "prometheus")
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: credmon
    static_configs: [{targets: [%q]}]
`, rules, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.console.templates="+dir, "--web.console.libraries="+dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

type promResult struct {
	Metric map[string]string `json:"metric"`
}

// promQuery runs an instant query; a query Prometheus refuses fails the test.
func promQuery(t *testing.T, base, expr string) ([]promResult, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query refused: %s", body.Error)
	}
	var rs []promResult
	if body.Data.ResultType == "vector" || body.Data.ResultType == "matrix" {
		if err := json.Unmarshal(body.Data.Result, &rs); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// poll calls f until it reports done, for at most limit: a hang guard, not
// a wait.
func poll(t *testing.T, limit time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %s", what, limit, state)
		}
		<-tick.C
	}
}

type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// grafanaVars stand in for what Grafana substitutes: the env variable's
// "All" value and a rate interval wide enough for 1 s scrapes.
var grafanaVars = strings.NewReplacer("$env", ".*", "$__rate_interval", "15s")

// mayBeEmpty are panel queries whose series only exist when something rare
// happens; the test still requires Prometheus to accept them.
var mayBeEmpty = map[string]string{
	`sum(rate(credmon_scheduler_skipped_runs_total[$__rate_interval]))`: "no run outlasts its interval here",
}

func TestRulesAndDashboardAgainstALiveCredmon(t *testing.T) {
	tool(t, "prometheus")
	promtool := tool(t, "promtool")
	addr := metricsDaemon(t)

	// The live /metrics passes promtool's lint, and holds every series the
	// rules and dashboard name.
	var metrics string
	poll(t, 30*time.Second, "every check has run", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		n := strings.Count(metrics, "credmon_check_last_run_timestamp_seconds{")
		return n >= 6 && strings.Contains(metrics, "credmon_token_fetches_total{"), fmt.Sprintf("%d checks have run", n)
	})
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = strings.NewReader(metrics)
	if out, err := lint.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics on a live /metrics: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^credmon_build_info\{goversion="go[^"]+",revision="[^"]+",version="v0\.0\.0-test"\} 1$`).MatchString(metrics) {
		t.Errorf("no credmon_build_info{goversion,revision,version=v0.0.0-test} 1 in /metrics")
	}

	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash dashboard
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	rulesText, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	exported := credmonMetricNames()
	for _, name := range regexp.MustCompile(`\bcredmon_[a-z_]+`).FindAllString(string(raw)+string(rulesText), -1) {
		if !exported[name] {
			t.Errorf("%s is read by the rules or the dashboard but credmon does not export it", name)
		}
	}

	prom := startPrometheus(t, addr)
	poll(t, 60*time.Second, "prometheus scrapes credmon", func() (bool, string) {
		rs, err := promQuery(t, prom, `up{job="credmon"} == 1`)
		if err != nil {
			return false, err.Error()
		}
		return len(rs) == 1, fmt.Sprintf("%d targets up", len(rs))
	})

	// Every panel query is valid, and returns data once a few scrapes are in.
	type query struct{ panel, expr string }
	var queries []query
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries = append(queries, query{p.Title, tg.Expr})
		}
	}
	poll(t, 60*time.Second, "every dashboard query returns data", func() (bool, string) {
		var empty []string
		for _, q := range queries {
			rs, err := promQuery(t, prom, grafanaVars.Replace(q.expr))
			if err != nil {
				t.Fatalf("panel %q: %s: %v", q.panel, q.expr, err)
			}
			if len(rs) == 0 && mayBeEmpty[q.expr] == "" {
				empty = append(empty, q.panel+": "+q.expr)
			}
		}
		return len(empty) == 0, "empty:\n" + strings.Join(empty, "\n")
	})

	// Every rule loaded and evaluates without error; the alerts this
	// credmon's state calls for are active, the others are not.
	wantActive := []string{
		"CredmonCheckFailing", "CredmonCheckErroring", "CredmonPreviousKeyStillValid",
		"CredmonRotationOverdue", "CredmonRotationDueSoon", "CredmonCredentialExpired",
		"CredmonCredentialExpiringSoon", "CredmonNotifierFailing", "CredmonOutboxBacklog",
	}
	wantQuiet := []string{"CredmonAbsent", "CredmonStoreDown", "CredmonConfigReloadFailed", "CredmonClockSkew", "CredmonTokenCacheUndecryptable"}
	poll(t, 90*time.Second, "the rules evaluate and the expected alerts are active", func() (bool, string) {
		rules, err := promRules(prom)
		if err != nil {
			return false, err.Error()
		}
		var problems []string
		if len(rules) != 16 {
			problems = append(problems, fmt.Sprintf("%d rules loaded, want 16", len(rules)))
		}
		for name, r := range rules {
			if r.Health != "ok" {
				problems = append(problems, fmt.Sprintf("%s: health %q %s", name, r.Health, r.LastError))
			}
		}
		if r := rules["credmon:check_status:latest"]; r.Health == "ok" {
			if rs, err := promQuery(t, prom, "credmon:check_status:latest"); err != nil || len(rs) < 5 {
				problems = append(problems, fmt.Sprintf("credmon:check_status:latest: %d series, %v", len(rs), err))
			}
		}
		for _, a := range wantActive {
			if rules[a].State == "inactive" || rules[a].State == "" {
				problems = append(problems, a+" is not active")
			}
		}
		for _, a := range wantQuiet {
			if s := rules[a].State; s != "inactive" {
				problems = append(problems, a+" is "+s)
			}
		}
		sort.Strings(problems)
		return len(problems) == 0, strings.Join(problems, "; ")
	})
}

type promRule struct {
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"` // alerting rules: inactive, pending, firing
}

func promRules(base string) (map[string]promRule, error) {
	resp, err := http.Get(base + "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					promRule
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string]promRule{}
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Health == "unknown" {
				continue // not evaluated yet
			}
			out[r.Name] = r.promRule
		}
	}
	return out, nil
}

// credmonMetricNames are the series names credmon registers, observed or
// not (a vector without observations is absent from /metrics), with the
// suffixes of its histograms.
func credmonMetricNames() map[string]bool {
	rec := &recordingRegisterer{}
	// The daemon's registry is these parts' metrics (daemon.New).
	web.NewMetrics(rec)
	web.RegisterBuildInfo(rec, "v0")
	checks.NewMetrics(rec)
	schedule.NewMetrics(rec)
	notify.NewMetrics(rec)
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for _, c := range rec.collectors {
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fq.FindStringSubmatch(d.String())
			if m == nil {
				continue
			}
			names[m[1]] = true
			if _, ok := c.(prometheus.Histogram); ok {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[m[1]+s] = true
				}
			}
			if _, ok := c.(*prometheus.HistogramVec); ok {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[m[1]+s] = true
				}
			}
		}
	}
	return names
}

type recordingRegisterer struct{ collectors []prometheus.Collector }

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
}

func (r *recordingRegisterer) Unregister(prometheus.Collector) bool { return false }
