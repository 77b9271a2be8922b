package web

import (
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
)

// checkCollector holds the per-check series — up, status, results and
// findings by cause, last run, server time offset — as compact state and
// turns it into metrics only when scraped, as exporters with many targets
// do: written as text straight from that state (writeFamily) where /metrics
// is served WithCheckSeries, as const metrics through a registry (Collect)
// otherwise. Retained *Vec children cost about 1 KiB per series (label
// pairs, hashes, a metric object each); a check here costs one small
// struct. Names, labels, help and values are those the *Vecs had.
type checkCollector struct {
	descs [len(checkFamilies)]*prometheus.Desc

	// direct is set once a handler writes these series itself
	// (WithCheckSeries): the registry then gets none from NewMetrics'
	// registration, so that no scrape builds them twice.
	direct atomic.Bool

	seed   maphash.Seed
	shards [checkShards]checkShard

	// changes counts checks added and removed. The text is written in
	// (check, env) order, sorted again only when a check came or went:
	// most scrapes follow the last order. Sorted, the text reads and diffs
	// as the registry's did, and gzips to half the size of map order.
	changes atomic.Uint64
	orderMu sync.Mutex
	order   []*checkState // read-only once set; replaced, never changed
	orderAt uint64        // changes when order was taken
}

// checkFamily indexes checkFamilies.
type checkFamily int

const (
	famFindings checkFamily = iota
	famLastRun
	famResults
	famStatus
	famUp
	famOffset
)

// checkFamilies are the per-check families, sorted by name as a registry
// sorts them, so that /metrics can merge them into the registry's order.
// They are the one source of the names and help of both the registry path
// (Describe, Collect) and the text written directly (writeFamily).
var checkFamilies = [...]struct {
	name, help, typ string
	labels          []string
}{
	famFindings: {"credmon_check_findings_total", "Secondary causes reported alongside a run's main cause, such as missing_challenge.", "counter", []string{"env", "check", "cause"}},
	famLastRun:  {"credmon_check_last_run_timestamp_seconds", "Unix time the last run of the check started.", "gauge", []string{"env", "check"}},
	famResults:  {"credmon_check_results_total", "Check runs by main cause.", "counter", []string{"env", "check", "cause"}},
	famStatus:   {"credmon_check_status", "1 for the current status and cause of each check (one series per check; the series changes labels when the status or cause does).", "gauge", []string{"env", "check", "status", "cause"}},
	famUp:       {"credmon_check_up", "1 if the last run of the check was ok or warn, 0 otherwise.", "gauge", []string{"env", "check"}},
	famOffset:   {"credmon_server_time_offset_seconds", "The server's Date header minus our clock, from the last response.", "gauge", []string{"env", "check"}},
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
	key   checkKey
	shard *checkShard

	up              float64
	status, cause   string
	lastRun, offset float64
	hasLastRun      bool
	hasOffset       bool
	// invalid: env or check is not UTF-8, which no label value may be. The
	// registry path refuses such a series (an error of the scrape); the
	// text path leaves it out too. Decided once, not at every scrape.
	invalid  bool
	results  []causeCount
	findings []causeCount
}

type causeCount struct {
	cause string
	n     uint64
}

func newCheckCollector() *checkCollector {
	c := &checkCollector{seed: maphash.MakeSeed()}
	for i, f := range checkFamilies {
		c.descs[i] = prometheus.NewDesc(f.name, f.help, f.labels, nil)
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
		st = &checkState{key: checkKey{env, check}, shard: s, invalid: !utf8.ValidString(env) || !utf8.ValidString(check)}
		s.checks[checkKey{env, check}] = st
		c.changes.Add(1)
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
	if _, ok := s.checks[checkKey{env, check}]; ok {
		delete(s.checks, checkKey{env, check})
		c.changes.Add(1)
	}
	s.mu.Unlock()
}

func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect is the registry path: a const metric per series. /metrics with
// WithCheckSeries writes the same series as text instead (writeFamily); a
// scrape that negotiated protobuf, and the tests, still take this path.
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
		constMetric(c.descs[famUp], prometheus.GaugeValue, st.up, k.env, k.check),
		constMetric(c.descs[famStatus], prometheus.GaugeValue, 1, k.env, k.check, st.status, st.cause))
	for _, r := range st.results {
		out = append(out, constMetric(c.descs[famResults], prometheus.CounterValue, float64(r.n), k.env, k.check, r.cause))
	}
	for _, f := range st.findings {
		out = append(out, constMetric(c.descs[famFindings], prometheus.CounterValue, float64(f.n), k.env, k.check, f.cause))
	}
	if st.hasLastRun {
		out = append(out, constMetric(c.descs[famLastRun], prometheus.GaugeValue, st.lastRun, k.env, k.check))
	}
	if st.hasOffset {
		out = append(out, constMetric(c.descs[famOffset], prometheus.GaugeValue, st.offset, k.env, k.check))
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

// checkRegistration is what NewMetrics registers: the collector's series
// until a handler writes them itself, none after. Describe stays whole, so
// the registry still refuses another collector of the same names.
type checkRegistration struct{ c *checkCollector }

func (r checkRegistration) Describe(ch chan<- *prometheus.Desc) { r.c.Describe(ch) }

func (r checkRegistration) Collect(ch chan<- prometheus.Metric) {
	if !r.c.direct.Load() {
		r.c.Collect(ch)
	}
}

// ordered is every check's state sorted by check, then env: the order
// the registry gave the families labelled by those two alone. A check
// removed after the order was taken is still in it until the next scrape:
// it existed when that scrape began. The slice must not be changed.
func (c *checkCollector) ordered() []*checkState {
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	// Read before collecting: a check added meanwhile moves changes again,
	// and the next scrape sorts again.
	if at := c.changes.Load(); at != c.orderAt || c.order == nil {
		order := make([]*checkState, 0, len(c.order))
		for i := range c.shards {
			s := &c.shards[i]
			s.mu.Lock()
			for _, st := range s.checks {
				order = append(order, st)
			}
			s.mu.Unlock()
		}
		slices.SortFunc(order, func(a, b *checkState) int {
			if n := strings.Compare(a.key.check, b.key.check); n != 0 {
				return n
			}
			return strings.Compare(a.key.env, b.key.env)
		})
		c.order, c.orderAt = order, at
	}
	return c.order
}

// flushAt is how much text is rendered before it is written out.
const flushAt = 32 << 10

// writeFamily writes family f of the checks in order, in the text format
// 0.0.4, as the registry's text encoder does: HELP and TYPE once, then a
// line per series, labels in name order, values formatted alike; a family
// without series is left out. A check's lines are rendered under its
// shard's lock, and written out after it, so a slow reader never holds up
// results. It returns scratch for reuse.
func writeFamily(w io.Writer, f checkFamily, order []*checkState, scratch []byte) ([]byte, error) {
	buf := appendFamilyHeader(scratch[:0], f)
	series := false
	for _, st := range order {
		mark := len(buf)
		st.shard.mu.Lock()
		if !st.invalid {
			buf = appendSeries(buf, f, st)
		}
		st.shard.mu.Unlock()
		series = series || len(buf) > mark
		if series && len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return buf, err
			}
			buf = buf[:0]
		}
	}
	if series && len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func appendFamilyHeader(b []byte, f checkFamily) []byte {
	fam := &checkFamilies[f]
	b = append(b, "# HELP "...)
	b = append(b, fam.name...)
	b = append(b, ' ')
	b = appendEscaped(b, fam.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, fam.name...)
	b = append(b, ' ')
	b = append(b, fam.typ...)
	return append(b, '\n')
}

// appendSeries appends the lines of family f of one check.
func appendSeries(b []byte, f checkFamily, st *checkState) []byte {
	name, k := checkFamilies[f].name, st.key
	switch f {
	case famUp:
		b = appendLine(b, name, nil, k, nil, st.up)
	case famStatus:
		b = appendLine(b, name, &st.cause, k, &st.status, 1)
	case famResults:
		for i := range st.results {
			b = appendLine(b, name, &st.results[i].cause, k, nil, float64(st.results[i].n))
		}
	case famFindings:
		for i := range st.findings {
			b = appendLine(b, name, &st.findings[i].cause, k, nil, float64(st.findings[i].n))
		}
	case famLastRun:
		if st.hasLastRun {
			b = appendLine(b, name, nil, k, nil, st.lastRun)
		}
	case famOffset:
		if st.hasOffset {
			b = appendLine(b, name, nil, k, nil, st.offset)
		}
	}
	return b
}

// appendLine appends name{cause=…,check=…,env=…,status=…} v: label names
// in sorted order, as the registry's; a nil cause or status is a label the
// family does not have (an empty one is written, as the registry does).
func appendLine(b []byte, name string, cause *string, k checkKey, status *string, v float64) []byte {
	b = append(b, name...)
	b = append(b, '{')
	if cause != nil {
		b = append(b, `cause="`...)
		b = appendEscaped(b, *cause, true)
		b = append(b, `",`...)
	}
	b = append(b, `check="`...)
	b = appendEscaped(b, k.check, true)
	b = append(b, `",env="`...)
	b = appendEscaped(b, k.env, true)
	if status != nil {
		b = append(b, `",status="`...)
		b = appendEscaped(b, *status, true)
	}
	b = append(b, `"} `...)
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendEscaped escapes as the text format does: backslash and newline,
// and in label values the double quote.
func appendEscaped(b []byte, s string, quoted bool) []byte {
	special := "\\\n"
	if quoted {
		special = "\\\n\""
	}
	if !strings.ContainsAny(s, special) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quoted:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat formats v as the text encoder does (expfmt's writeFloat).
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
