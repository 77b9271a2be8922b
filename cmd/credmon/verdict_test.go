package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

const verdictKey = "sk_live_FAKEverdict00000000000v1"

// verdict is what every output must agree on for one exchange.
type verdict struct {
	status   checks.Status
	cause    checks.Cause
	findings []checks.Cause // sorted
}

func (v verdict) String() string {
	return fmt.Sprintf("%s/%s%v", v.status, v.cause, v.findings)
}

func (v verdict) equal(o verdict) bool {
	return v.status == o.status && v.cause == o.cause && slices.Equal(v.findings, o.findings)
}

func sortedCauses(cs []checks.Cause) []checks.Cause {
	cs = slices.Clone(cs)
	slices.Sort(cs)
	if cs == nil {
		cs = []checks.Cause{}
	}
	return cs
}

// verdictExchanges are the answers of one fake API, one path each, and the
// verdict each must get from check, explain and the daemon alike.
var verdictExchanges = []struct {
	name   string
	expect string // the check's expect: block
	answer func(w http.ResponseWriter)
	want   verdict
	exit   int
}{
	{"ok", "{status: [200]}", func(w http.ResponseWriter) {
		fmt.Fprint(w, `{"ok": true}`)
	}, verdict{checks.StatusOK, checks.CauseOK, nil}, exitOK},
	{"skewed-date", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("Date", time.Now().Add(5*time.Minute).UTC().Format(http.TimeFormat))
		fmt.Fprint(w, `{"ok": true}`)
	}, verdict{checks.StatusWarn, checks.CauseOK, []checks.Cause{checks.CauseServerClockSkew}}, exitOK},
	{"bare-401", "{status: [200]}", func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseUnauthorized, []checks.Cause{checks.CauseMissingChallenge}}, exitFailure},
	{"invalid-token", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token", error_description="key revoked"`)
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseInvalidToken, nil}, exitFailure},
	{"insufficient-scope", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="insufficient_scope", scope="billing.write"`)
		w.WriteHeader(http.StatusForbidden)
	}, verdict{checks.StatusFail, checks.CauseInsufficientScope, nil}, exitFailure},
	{"server-error", "{status: [200]}", func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
	}, verdict{checks.StatusError, checks.CauseUnexpectedStatus, nil}, exitFailure},
	{"json-mismatch", "{status: [200], json: {ok: true}}", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": false}`)
	}, verdict{checks.StatusError, checks.CauseUnexpectedStatus, nil}, exitFailure},
}

// TestSameExchangeSameVerdict runs every exchange through `credmon check
// -format json`, `credmon explain` and the daemon, and holds the three to
// one status, cause and set of findings.
func TestSameExchangeSameVerdict(t *testing.T) {
	var wrongKey atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+verdictKey {
			wrongKey.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, ex := range verdictExchanges {
			if r.URL.Path == "/"+ex.name {
				ex.answer(w)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)

	t.Setenv("CREDMON_TEST_VERDICT_KEY", verdictKey)
	var cfg strings.Builder
	cfg.WriteString("store: {driver: memory}\nscheduler: {schedule: \"@every 1s\"}\nenvironments:\n  prod:\n" +
		"    credentials:\n      key: {type: api_key, secret: {env: CREDMON_TEST_VERDICT_KEY}}\n    checks:\n")
	for _, ex := range verdictExchanges {
		fmt.Fprintf(&cfg, "      - {name: %s, credential: key, url: %q, expect: %s}\n", ex.name, srv.URL+"/"+ex.name, ex.expect)
	}
	path := writeConfig(t, cfg.String())

	fromDaemon, metrics := daemonVerdicts(t, path, len(verdictExchanges))
	for _, ex := range verdictExchanges {
		t.Run(ex.name, func(t *testing.T) {
			want := ex.want
			want.findings = sortedCauses(want.findings)

			check, code := checkVerdict(t, path, ex.name)
			if code != ex.exit {
				t.Errorf("check: exit %d, want %d", code, ex.exit)
			}
			explain, code := explainVerdict(t, path, ex.name)
			if code != ex.exit {
				t.Errorf("explain: exit %d, want %d", code, ex.exit)
			}
			for _, got := range []struct {
				who string
				v   verdict
			}{{"check -format json", check}, {"explain", explain}, {"daemon", fromDaemon[ex.name]}} {
				if !got.v.equal(want) {
					t.Errorf("%s: %s, want %s", got.who, got.v, want)
				}
			}
			series := fmt.Sprintf(`credmon_check_status{cause=%q,check=%q,env="prod",status=%q} 1`, want.cause, ex.name, want.status)
			if !strings.Contains(metrics, series) {
				t.Errorf("daemon metrics lack %s", series)
			}
		})
	}
	if n := wrongKey.Load(); n != 0 {
		t.Errorf("%d requests reached the fake API without the configured key", n)
	}
}

func checkVerdict(t *testing.T, path, name string) (verdict, int) {
	t.Helper()
	r := runCLI(t, "", "check", "-config", path, "-check", name, "-format", "json")
	var out []struct {
		Check    string        `json:"check"`
		Status   checks.Status `json:"status"`
		Cause    checks.Cause  `json:"cause"`
		Findings []struct {
			Cause checks.Cause `json:"cause"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || out[0].Check != name {
		t.Fatalf("check %s: %v, %d results\n%s%s", name, err, len(out), r.stdout, r.stderr)
	}
	v := verdict{status: out[0].Status, cause: out[0].Cause}
	for _, f := range out[0].Findings {
		v.findings = append(v.findings, f.Cause)
	}
	v.findings = sortedCauses(v.findings)
	return v, r.code
}

// explainVerdict reads the "status", "cause" and "also" lines of `credmon
// explain`.
func explainVerdict(t *testing.T, path, name string) (verdict, int) {
	t.Helper()
	r := runCLI(t, "", "explain", "-config", path, "prod/"+name)
	var v verdict
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		val = strings.TrimSpace(val)
		switch key {
		case "status":
			v.status = checks.Status(val)
		case "cause":
			v.cause = checks.Cause(val)
		case "also":
			c, _, _ := strings.Cut(val, ":")
			v.findings = append(v.findings, checks.Cause(c))
		}
	}
	if v.status == "" || v.cause == "" {
		t.Fatalf("explain %s: no status or cause line\n%s%s", name, r.stdout, r.stderr)
	}
	v.findings = sortedCauses(v.findings)
	return v, r.code
}

// daemonVerdicts runs the daemon until each of n checks has reported once
// and returns the verdicts it recorded and its metrics at that point.
func daemonVerdicts(t *testing.T, path string, n int) (map[string]verdict, string) {
	t.Helper()
	results := make(chan checks.Result, 4*n)
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{
			ConfigPath: path, Listen: "127.0.0.1:0", WatchInterval: -1,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready:  func(addr string) { ready <- addr },
			OnResult: func(r checks.Result) {
				select {
				case results <- r:
				default: // later ticks are not needed
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	seen := map[string]verdict{}
	timeout := time.After(30 * time.Second) // a hang guard, not a wait
	for len(seen) < n {
		var r checks.Result
		select {
		case r = <-results:
		case <-timeout:
			t.Fatalf("daemon reported %d of %d checks", len(seen), n)
		}
		if _, dup := seen[r.Check]; dup {
			continue
		}
		var fs []checks.Cause
		for _, f := range r.Findings {
			fs = append(fs, f.Cause)
		}
		seen[r.Check] = verdict{status: r.Status, cause: r.Cause, findings: sortedCauses(fs)}
	}
	// Metrics are updated before OnResult is called, so they already hold
	// every check's verdict.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return seen, string(body)
}
