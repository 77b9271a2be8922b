package web

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/credmon/credmon/checks"
)

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	return NewMetrics(reg), reg
}

// seriesValue is the value of the one series of family name with exactly
// the labels given as name, value pairs; the test fails if there is none.
func seriesValue(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, metric := range mf.GetMetric() {
			if len(metric.GetLabel())*2 != len(labels) {
				continue
			}
			for _, l := range metric.GetLabel() {
				if !slices.Contains(pairs(labels), [2]string{l.GetName(), l.GetValue()}) {
					continue series
				}
			}
			switch {
			case metric.Gauge != nil:
				return metric.GetGauge().GetValue()
			case metric.Counter != nil:
				return metric.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s series %v", name, labels)
	return 0
}

func pairs(kv []string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

func TestObserveResultSeries(t *testing.T) {
	m, reg := newTestMetrics(t)
	snap := fixtureSnapshot()
	pay := *snap.Checks[3].Last    // prod/payments-account: fail, invalid_token, 401
	bill := *snap.Checks[0].Last   // prod/billing-me: warn with a token exp
	search := *snap.Checks[7].Last // staging/search-query: ok + server_clock_skew finding
	m.ObserveResult(pay)
	m.ObserveResult(pay)
	m.ObserveResult(bill)
	m.ObserveResult(search)

	want := `
# HELP credmon_check_up 1 if the last run of the check was ok or warn, 0 otherwise.
# TYPE credmon_check_up gauge
credmon_check_up{check="billing-me",env="prod"} 1
credmon_check_up{check="payments-account",env="prod"} 0
credmon_check_up{check="search-query",env="staging"} 1
# HELP credmon_server_time_offset_seconds The server's Date header minus our clock, from the last response.
# TYPE credmon_server_time_offset_seconds gauge
credmon_server_time_offset_seconds{check="billing-me",env="prod"} 0
credmon_server_time_offset_seconds{check="payments-account",env="prod"} 0
credmon_server_time_offset_seconds{check="search-query",env="staging"} 4.2
# HELP credmon_check_findings_total Secondary causes reported alongside a run's main cause, such as missing_challenge.
# TYPE credmon_check_findings_total counter
credmon_check_findings_total{cause="server_clock_skew",check="search-query",env="staging"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"credmon_check_up", "credmon_server_time_offset_seconds", "credmon_check_findings_total"); err != nil {
		t.Error(err)
	}

	// One status series per check, labelled with the verdict (the ok run
	// with a warn finding is warn) and the current cause.
	if n := testutil.CollectAndCount(reg, "credmon_check_status"); n != 3 {
		t.Errorf("credmon_check_status has %d series for 3 checks, want 3", n)
	}
	for _, tc := range []struct {
		env, check string
		status     checks.Status
	}{{"prod", "payments-account", checks.StatusFail}, {"prod", "billing-me", checks.StatusWarn}, {"staging", "search-query", checks.StatusWarn}} {
		found := false
		families, _ := reg.Gather()
		for _, f := range families {
			if f.GetName() != "credmon_check_status" {
				continue
			}
			for _, metric := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range metric.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["env"] == tc.env && labels["check"] == tc.check {
					found = true
					if labels["status"] != string(tc.status) || metric.GetGauge().GetValue() != 1 {
						t.Errorf("credmon_check_status{%s/%s} = %v status %s, want 1 status %s", tc.env, tc.check, metric.GetGauge().GetValue(), labels["status"], tc.status)
					}
				}
			}
		}
		if !found {
			t.Errorf("no credmon_check_status series for %s/%s", tc.env, tc.check)
		}
	}
	// A change of status moves the series; it does not add one.
	fixed := checks.Result{Env: "prod", Check: "payments-account", Status: checks.StatusOK, Cause: checks.CauseOK}
	m.ObserveResult(fixed)
	if n := testutil.CollectAndCount(reg, "credmon_check_status"); n != 3 {
		t.Errorf("after a status change credmon_check_status has %d series, want 3", n)
	}
	if got := seriesValue(t, reg, "credmon_check_status", "env", "prod", "check", "payments-account", "status", "ok", "cause", "ok"); got != 1 {
		t.Errorf("the new status series = %v, want 1", got)
	}

	if got := seriesValue(t, reg, "credmon_check_results_total", "env", "prod", "check", "payments-account", "cause", "invalid_token"); got != 2 {
		t.Errorf("results_total{invalid_token} = %v, want 2", got)
	}
	// Only causes that happened have a series: no 20-per-check explosion.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "credmon_check_results_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "cause" && l.GetValue() == "revoked" {
					t.Errorf("a series exists for a cause never observed")
				}
			}
		}
		if n := len(f.GetMetric()); n > 3*2 {
			t.Errorf("results_total has %d series for 3 checks", n)
		}
	}
	if got, want := seriesValue(t, reg, "credmon_check_last_run_timestamp_seconds", "env", "prod", "check", "payments-account"), float64(pay.Started.Unix()); got != want {
		t.Errorf("last_run = %v, want %v", got, want)
	}
	if got, want := testutil.ToFloat64(m.tokenExpiry.WithLabelValues("prod", "billing-client")), float64(bill.Token.ExpiresAt.Unix()); got != want {
		t.Errorf("token expiry = %v, want %v", got, want)
	}
	if n := testutil.CollectAndCount(m.tokenExpiry); n != 1 {
		t.Errorf("token expiry has %d series, want 1 (only billing-client carries a token)", n)
	}
	if n := testutil.CollectAndCount(reg, "credmon_check_duration_seconds"); n != 2 {
		t.Errorf("duration histogram has %d env series, want 2", n)
	}
}

func TestObserveResultWithoutRequest(t *testing.T) {
	m, reg := newTestMetrics(t)
	// A hygiene failure never sent a request: no latency sample, HTTP 0,
	// and no invented server time offset.
	m.ObserveResult(checks.Result{Env: "dev", Check: "c", Credential: "k", Status: checks.StatusFail,
		Cause: checks.CauseMissingCredential, Started: fixtureNow})
	if n := testutil.CollectAndCount(reg, "credmon_check_duration_seconds"); n != 0 {
		t.Errorf("duration has %d series, want 0", n)
	}
	if n := testutil.CollectAndCount(reg, "credmon_server_time_offset_seconds"); n != 0 {
		t.Errorf("server time offset has %d series, want 0", n)
	}
}

func TestForgetCheck(t *testing.T) {
	m, reg := newTestMetrics(t)
	snap := fixtureSnapshot()
	m.ObserveResult(*snap.Checks[3].Last) // prod/payments-account
	m.ObserveResult(*snap.Checks[6].Last) // staging/payments-account

	m.ForgetCheck("prod", "payments-account")

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["check"] == "payments-account" && labels["env"] == "prod" {
				t.Errorf("%s still has a series for the forgotten check: %v", mf.GetName(), labels)
			}
			if labels["check"] == "payments-account" && labels["env"] == "staging" {
				kept++
			}
		}
	}
	if kept == 0 {
		t.Error("ForgetCheck removed the staging check of the same name too")
	}
}

func TestDeadlinesAndForgetCredential(t *testing.T) {
	m, _ := newTestMetrics(t)
	at := fixtureNow.Add(90 * 24 * time.Hour)
	m.SetDeadline(DeadlineRotation, "prod", "payments-key", at)
	m.SetDeadline(DeadlineExpiry, "prod", "billing-client", at.Add(time.Hour))
	m.SetDeadline(DeadlineToken, "prod", "billing-client", at.Add(2*time.Hour))
	m.SetDeadline("bogus", "prod", "x", at)

	if got := testutil.ToFloat64(m.rotationDeadline.WithLabelValues("prod", "payments-key")); got != float64(at.Unix()) {
		t.Errorf("rotation deadline = %v, want %v", got, at.Unix())
	}
	if got := testutil.ToFloat64(m.credentialExpiry.WithLabelValues("prod", "billing-client")); got != float64(at.Add(time.Hour).Unix()) {
		t.Errorf("credential expiry = %v", got)
	}
	if got := testutil.ToFloat64(m.tokenExpiry.WithLabelValues("prod", "billing-client")); got != float64(at.Add(2*time.Hour).Unix()) {
		t.Errorf("token expiry = %v", got)
	}

	m.SetDeadline(DeadlineRotation, "prod", "payments-key", time.Time{})
	if n := testutil.CollectAndCount(m.rotationDeadline); n != 0 {
		t.Errorf("zero deadline left %d rotation series", n)
	}
	m.ForgetCredential("prod", "billing-client")
	if n := testutil.CollectAndCount(m.credentialExpiry) + testutil.CollectAndCount(m.tokenExpiry); n != 0 {
		t.Errorf("ForgetCredential left %d series", n)
	}
}

func TestConfigMetrics(t *testing.T) {
	m, reg := newTestMetrics(t)
	m.ConfigReloaded(true, fixtureNow)
	m.ConfigReloaded(false, fixtureNow.Add(time.Hour))

	want := `
# HELP credmon_config_last_reload_successful 1 if the last configuration load succeeded.
# TYPE credmon_config_last_reload_successful gauge
credmon_config_last_reload_successful 0
# HELP credmon_config_last_reload_success_timestamp_seconds Unix time of the last successful configuration load.
# TYPE credmon_config_last_reload_success_timestamp_seconds gauge
credmon_config_last_reload_success_timestamp_seconds 1.75155120e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"credmon_config_last_reload_successful", "credmon_config_last_reload_success_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// Labels are configuration names and closed enums only: a URL, identity or
// detail in a label would leak and explode cardinality.
func TestMetricLabelsAreBounded(t *testing.T) {
	m, reg := newTestMetrics(t)
	for _, c := range fixtureSnapshot().Checks {
		if c.Last != nil {
			m.ObserveResult(*c.Last)
		}
	}
	m.SetDeadline(DeadlineRotation, "prod", "payments-key", fixtureNow)
	m.ConfigReloaded(true, fixtureNow)

	allowed := map[string]bool{"env": true, "check": true, "credential": true, "cause": true, "status": true}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) < 12 {
		t.Errorf("only %d metric families gathered", len(mfs))
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "credmon_") {
			t.Errorf("%s lacks the credmon_ prefix", mf.GetName())
		}
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if !allowed[l.GetName()] {
					t.Errorf("%s has label %q", mf.GetName(), l.GetName())
				}
				if strings.ContainsAny(l.GetValue(), " /:…") {
					t.Errorf("%s label %s=%q looks like free text", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}
