package web

import (
	"hash/maphash"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
)

// checkCollector holds the per-check series — up, status, results and
// findings by cause, last run, server time offset — as compact state and
// turns it into metrics only when scraped, as exporters with many targets
// do. Retained *Vec children cost about 1 KiB per series (label pairs,
// hashes, a metric object each); a check here costs one small struct.
// Names, labels, help and values are those the *Vecs had.
type checkCollector struct {
	up, status, results, findings, lastRun, offset *prometheus.Desc

	seed   maphash.Seed
	shards [checkShards]checkShard
}

// checkShards spread the lock: a scrape holds one shard at a time, so
// results keep being recorded while 10,000 checks are written out.
const checkShards = 32

type checkShard struct {
	mu     sync.Mutex
	checks map[checkKey]*checkState
}

type checkKey struct{ env, check string }

// checkState is one check's series. Status and cause strings are the
// checks package's constants (Result carries them), so they cost nothing
// per check.
type checkState struct {
	up              float64
	status, cause   string
	lastRun, offset float64
	hasLastRun      bool
	hasOffset       bool
	results         []causeCount
	findings        []causeCount
}

type causeCount struct {
	cause string
	n     uint64
}

func newCheckCollector() *checkCollector {
	check := []string{"env", "check"}
	byCause := []string{"env", "check", "cause"}
	c := &checkCollector{
		up:       prometheus.NewDesc("credmon_check_up", "1 if the last run of the check was ok or warn, 0 otherwise.", check, nil),
		status:   prometheus.NewDesc("credmon_check_status", "1 for the current status and cause of each check (one series per check; the series changes labels when the status or cause does).", []string{"env", "check", "status", "cause"}, nil),
		results:  prometheus.NewDesc("credmon_check_results_total", "Check runs by main cause.", byCause, nil),
		findings: prometheus.NewDesc("credmon_check_findings_total", "Secondary causes reported alongside a run's main cause, such as missing_challenge.", byCause, nil),
		lastRun:  prometheus.NewDesc("credmon_check_last_run_timestamp_seconds", "Unix time the last run of the check started.", check, nil),
		offset:   prometheus.NewDesc("credmon_server_time_offset_seconds", "The server's Date header minus our clock, from the last response.", check, nil),
		seed:     maphash.MakeSeed(),
	}
	for i := range c.shards {
		c.shards[i].checks = map[checkKey]*checkState{}
	}
	return c
}

func (c *checkCollector) shard(env, check string) *checkShard {
	var h maphash.Hash
	h.SetSeed(c.seed)
	_, _ = h.WriteString(env)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(check)
	return &c.shards[h.Sum64()%checkShards]
}

// observe records one result of the check env/check.
func (c *checkCollector) observe(env, check string, r *checks.Result) {
	s := c.shard(env, check)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.checks[checkKey{env, check}]
	if st == nil {
		st = &checkState{}
		s.checks[checkKey{env, check}] = st
	}
	st.up = 0
	if r.Status == checks.StatusOK || r.Status == checks.StatusWarn {
		st.up = 1
	}
	st.status, st.cause = string(r.Status), string(r.Cause)
	// Only causes seen get a series: pre-creating all twenty per check would
	// cost 200,000 series at 10,000 checks. Alert on credmon_check_up or
	// credmon_check_status, which exist from the first run.
	st.results = inc(st.results, string(r.Cause))
	for _, f := range r.Findings {
		st.findings = inc(st.findings, string(f.Cause))
	}
	started := r.Started
	if started.IsZero() {
		started = r.Tick
	}
	if !started.IsZero() {
		st.lastRun, st.hasLastRun = unixSeconds(started), true
	}
	// Without a response there is no Date header; keep the last known offset
	// rather than report a perfect 0.
	if r.HTTPStatus != 0 {
		st.offset, st.hasOffset = r.ServerTimeOffset.Seconds(), true
	}
}

func inc(cs []causeCount, cause string) []causeCount {
	for i := range cs {
		if cs[i].cause == cause {
			cs[i].n++
			return cs
		}
	}
	return append(cs, causeCount{cause, 1})
}

// forget deletes every series of the check env/check.
func (c *checkCollector) forget(env, check string) {
	s := c.shard(env, check)
	s.mu.Lock()
	delete(s.checks, checkKey{env, check})
	s.mu.Unlock()
}

func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.status, c.results, c.findings, c.lastRun, c.offset} {
		ch <- d
	}
}

func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	var batch []prometheus.Metric
	for i := range c.shards {
		s := &c.shards[i]
		// Build under the shard's lock, send after it: the registry's
		// reader may be slow, and results must not wait for it.
		s.mu.Lock()
		for k, st := range s.checks {
			batch = c.appendMetrics(batch, k, st)
		}
		s.mu.Unlock()
		for _, m := range batch {
			ch <- m
		}
		clear(batch)
		batch = batch[:0]
	}
}

func (c *checkCollector) appendMetrics(out []prometheus.Metric, k checkKey, st *checkState) []prometheus.Metric {
	out = append(out,
		constMetric(c.up, prometheus.GaugeValue, st.up, k.env, k.check),
		constMetric(c.status, prometheus.GaugeValue, 1, k.env, k.check, st.status, st.cause))
	for _, r := range st.results {
		out = append(out, constMetric(c.results, prometheus.CounterValue, float64(r.n), k.env, k.check, r.cause))
	}
	for _, f := range st.findings {
		out = append(out, constMetric(c.findings, prometheus.CounterValue, float64(f.n), k.env, k.check, f.cause))
	}
	if st.hasLastRun {
		out = append(out, constMetric(c.lastRun, prometheus.GaugeValue, st.lastRun, k.env, k.check))
	}
	if st.hasOffset {
		out = append(out, constMetric(c.offset, prometheus.GaugeValue, st.offset, k.env, k.check))
	}
	return out
}

// constMetric never panics inside a scrape: a label value the registry
// refuses becomes that one series' error, reported by promhttp.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}
