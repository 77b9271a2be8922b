package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
)

// fleet is a snapshot of n checks built from the fixture's: names made
// unique, every 100th failing, the rest as the fixture has them.
func fleet(n int) *Snapshot {
	s := fixtureSnapshot()
	base := s.Checks
	s.Checks = make([]CheckStatus, 0, n)
	for i := range n {
		c := base[i%len(base)]
		c.Name = fmt.Sprintf("%s-%05d", c.Name, i)
		if c.Last != nil {
			r := *c.Last
			r.Check = c.Name
			if i%100 == 0 {
				r.Status, r.Cause = checks.StatusFail, checks.CauseInvalidToken
			}
			c.Last = &r
		}
		s.Checks = append(s.Checks, c)
	}
	return s
}

func serveBench(b *testing.B, h http.Handler, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %.200s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Len()
}

// BenchmarkMetricsScrape10k is one GET /metrics with 10,000 checks'
// series: go test -run '^$' -bench Scrape10k -benchmem ./cmd/credmon/web
func BenchmarkMetricsScrape10k(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, c := range fleet(10000).Checks {
		if c.Last != nil {
			m.ObserveResult(*c.Last)
		}
	}
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil, WithCheckSeries(m))
	size := 0
	for b.Loop() {
		size = serveBench(b, h, "/metrics")
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}

// BenchmarkStatusPage10k is one GET / with 10,000 checks in the snapshot,
// as a person first opens it (summary, worst rows, the ok rows folded):
// go test -run '^$' -bench Page10k -benchmem ./cmd/credmon/web
func BenchmarkStatusPage10k(b *testing.B) { benchPage(b, "/") }

// BenchmarkStatusPage10kFiltered is the page narrowed to one environment's
// failures, as the summary's links lead to.
func BenchmarkStatusPage10kFiltered(b *testing.B) { benchPage(b, "/?env=prod&status=fail") }

// BenchmarkStatusPage10kAll lists every one of the 10,000 checks in full
// (every status asked for, no row limit), as the page did before it had
// filters: the cost of a row, and the most anyone can ask of the page.
func BenchmarkStatusPage10kAll(b *testing.B) {
	benchPage(b, "/?status=fail,error,warn,pending,ok&limit=all")
}

func benchPage(b *testing.B, path string) {
	h := NewHandler(fakeSource{snap: fleet(10000)}, nil, nil)
	size := 0
	for b.Loop() {
		size = serveBench(b, h, path)
	}
	if size == 0 {
		b.Fatal("empty page")
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// The fleet really holds what the benchmarks claim to measure.
func TestFleet(t *testing.T) {
	s := fleet(1000)
	names := map[string]bool{}
	fails := 0
	for _, c := range s.Checks {
		names[c.Env+"/"+c.Name] = true
		if c.Last != nil && c.Last.Status == checks.StatusFail {
			fails++
		}
		if c.Last != nil && !strings.HasPrefix(c.Name, c.Last.Check) {
			t.Fatalf("result of %s names %s", c.Name, c.Last.Check)
		}
	}
	if len(names) != 1000 || fails < 10 {
		t.Errorf("fleet(1000): %d distinct checks, %d failing", len(names), fails)
	}
}
