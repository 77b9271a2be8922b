package web

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/credmon/credmon/checks"
)

// Scrapes while results arrive and checks are forgotten: every scrape is
// consistent (run under -race), and the counts at the end are exact.
func TestCheckSeriesConcurrentScrape(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	const n, runs = 200, 5
	var wg sync.WaitGroup
	// The writers start once the scraper has gathered once, so a scrape
	// is sure to run however the goroutines are scheduled; the later ones
	// run beside the writers.
	first := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			<-first
			for run := range runs {
				for i := w; i < n; i += 4 {
					m.ObserveResult(checks.Result{Env: "prod", Check: fmt.Sprintf("c%03d", i), Status: checks.StatusOK, Cause: checks.CauseOK,
						HTTPStatus: 200, Started: fixtureNow.Add(time.Duration(run))})
				}
			}
		})
	}
	stop := make(chan struct{})
	scraped := make(chan int)
	go func() {
		k := 0
		for {
			select {
			case <-stop:
				scraped <- k
				return
			default:
			}
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
			if k++; k == 1 {
				close(first)
			}
		}
	}()
	wg.Wait()
	close(stop)
	if k := <-scraped; k == 0 {
		t.Error("no scrape ran")
	}
	for name, want := range map[string]int{"credmon_check_up": n, "credmon_check_status": n, "credmon_check_results_total": n,
		"credmon_check_last_run_timestamp_seconds": n, "credmon_server_time_offset_seconds": n} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
	if got := seriesValue(t, reg, "credmon_check_results_total", "env", "prod", "check", "c007", "cause", "ok"); got != runs {
		t.Errorf("results_total of c007 = %v, want %d", got, runs)
	}
	for i := range n / 2 {
		m.ForgetCheck("prod", fmt.Sprintf("c%03d", i))
	}
	if got := testutil.CollectAndCount(reg, "credmon_check_up"); got != n/2 {
		t.Errorf("after forgetting half: %d up series, want %d", got, n/2)
	}
}

// observedFleet records n checks of the fleet, with the cases text output
// can get wrong: label values to escape, an empty cause, a check without a
// response (no offset) or start (no last run), a negative fractional
// offset, counters the text format writes in exponent form, findings, a
// credential concern's path, and a check name that is not UTF-8, which no
// path may expose.
func observedFleet(t testing.TB, m *Metrics, n int) {
	t.Helper()
	for _, c := range fleet(n).Checks {
		if c.Last != nil {
			m.ObserveResult(*c.Last)
			m.ObserveResult(*c.Last)
		}
	}
	for _, r := range []checks.Result{
		{Env: "prod", Check: `quote"back\slash`, Status: checks.StatusFail, Cause: checks.CauseInvalidToken, HTTPStatus: 401, Started: fixtureNow},
		{Env: "prod", Check: "line\nbreak", Status: checks.StatusOK, Cause: checks.CauseOK, HTTPStatus: 200, Started: fixtureNow.Add(1500 * time.Millisecond)},
		{Env: "dev", Check: "no-cause", Status: checks.StatusFail, HTTPStatus: 500, ServerTimeOffset: -1500 * time.Millisecond, Tick: fixtureNow},
		{Env: "dev", Check: "never-answered", Status: checks.StatusFail, Cause: checks.CauseMissingCredential},
		{Env: "dev", Kind: checks.SubjectCredential, Credential: "key", Concern: "rotation", Status: checks.StatusWarn, Cause: checks.CauseOK, Started: fixtureNow},
		{Env: "dev", Check: "bad\xffname", Status: checks.StatusOK, Cause: checks.CauseOK, HTTPStatus: 200, Started: fixtureNow},
	} {
		m.ObserveResult(r)
	}
	// Counters past 1e6 are written as 1e+06 by the registry's encoder.
	for _, big := range []struct {
		check string
		n     uint64
	}{{"no-cause", 1_000_000}, {"never-answered", 1 << 53}} {
		s := m.perCheck.shard("dev", big.check)
		s.mu.Lock()
		s.checks[checkKey{"dev", big.check}].results[0].n = big.n
		s.mu.Unlock()
	}
}

// canonical is a family as text with its series sorted and each series'
// labels sorted: two gatherings of the same state compare equal whatever
// order their series came in.
func canonical(t testing.TB, mf *dto.MetricFamily) string {
	t.Helper()
	for _, metric := range mf.Metric {
		slices.SortFunc(metric.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	}
	var b strings.Builder
	if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	slices.Sort(lines[2:]) // after HELP and TYPE
	return strings.Join(lines, "\n")
}

// parseExposition parses a text exposition with expfmt's parser, and fails
// on what that parser lets through: a family in two places, or a series
// twice.
func parseExposition(t testing.TB, body string) map[string]*dto.MetricFamily {
	t.Helper()
	seenType := map[string]bool{}
	current := ""
	ended := map[string]bool{}
	series := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSuffix(body, "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			if seenType[name] {
				t.Fatalf("family %s typed twice", name)
			}
			seenType[name] = true
			ended[current], current = true, name
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if !strings.HasPrefix(name, current) || ended[name] {
			t.Fatalf("series %q outside its family (in %s)", line, current)
		}
		key := line[:strings.LastIndexByte(line, ' ')]
		if series[key] {
			t.Fatalf("series %s twice", key)
		}
		series[key] = true
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%.2000s", err, body)
	}
	return mfs
}

// The text /metrics writes for the per-check families, parsed back, holds
// exactly the families, help, types, series and values the registry path
// gathers from the same state; so do the registry's other families.
func TestCheckSeriesTextMatchesRegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	observedFleet(t, m, 500)
	m.SetDeadline(DeadlineRotation, "prod", "payments-key", fixtureNow)

	want, err := reg.Gather() // the registry path: WithCheckSeries not yet given
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("the registry path took a check name that is not UTF-8: err = %v", err)
	}
	wantText := map[string]string{}
	for _, mf := range want {
		wantText[mf.GetName()] = canonical(t, mf)
	}
	for _, series := range []string{`check="quote\"back\\slash"`, `check="line\nbreak"`, `cause="",check="no-cause"`,
		`credmon_check_results_total{cause="",check="no-cause",env="dev"} 1e+06`, `9.007199254740992e+15`, `-1.5`, `check="credential:key/rotation"`} {
		if !strings.Contains(strings.Join(slices.Collect(maps.Values(wantText)), "\n"), series) {
			t.Errorf("the registry path has no %s: the comparison would not cover it", series)
		}
	}

	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil, WithCheckSeries(m))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "bad\xff") || strings.Contains(body, `bad\xff`) {
		t.Error("/metrics exposes a check name that is not UTF-8")
	}
	got := parseExposition(t, body)
	for name, w := range wantText {
		mf, ok := got[name]
		if !ok {
			t.Errorf("/metrics lacks %s", name)
			continue
		}
		if g := canonical(t, mf); g != w {
			t.Errorf("%s differs from the registry path:\n%s", name, lineDiff(w, g))
		}
	}
	for name := range got {
		if _, ok := wantText[name]; !ok {
			t.Errorf("/metrics has %s, which the registry path has not", name)
		}
	}
	// Line for line the text is what promhttp wrote from the registry
	// path, only the series of a family in another order: the same value
	// formatting (1e+06, not 1000000) and escaping, byte for byte.
	var promText strings.Builder
	for _, mf := range want {
		if _, err := expfmt.MetricFamilyToText(&promText, mf); err != nil {
			t.Fatal(err)
		}
	}
	wantLines, gotLines := strings.Split(promText.String(), "\n"), strings.Split(body, "\n")
	slices.Sort(wantLines)
	slices.Sort(gotLines)
	if !slices.Equal(wantLines, gotLines) {
		t.Errorf("/metrics is not the registry path's text:\n%s", lineDiff(strings.Join(wantLines, "\n"), strings.Join(gotLines, "\n")))
	}
	// The families labelled by check and env alone list their series in
	// the registry's order too: sorted by check, then env.
	for _, name := range []string{"credmon_check_up", "credmon_check_last_run_timestamp_seconds", "credmon_server_time_offset_seconds"} {
		of := func(text string) []string {
			var out []string
			for line := range strings.SplitSeq(text, "\n") {
				if strings.HasPrefix(line, name+"{") {
					out = append(out, line)
				}
			}
			return out
		}
		if g, w := of(body), of(promText.String()); !slices.Equal(g, w) || len(w) < 300 {
			t.Errorf("%s: %d series not in the registry's order (%d)", name, len(g), len(w))
		}
	}
	// The families come in name order, as the registry's did.
	var order []string
	for line := range strings.SplitSeq(body, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			order = append(order, strings.Fields(name)[0])
		}
	}
	if !slices.IsSorted(order) {
		t.Errorf("families out of name order: %v", order)
	}
	// The registry no longer builds them: one scrape, not two.
	if n := testutil.CollectAndCount(reg, "credmon_check_up"); n != 0 {
		t.Errorf("the registry still collects %d credmon_check_up series beside the text", n)
	}
}

// lineDiff lists the lines only one of want and got has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// scrapeText is one GET of target from h with the given headers.
func scrapeText(t testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %.200s", target, rec.Code, rec.Body.String())
	}
	return rec
}

// decodeScrape decodes a /metrics answer in whatever format and encoding it
// came, into canonical families.
func decodeScrape(t testing.TB, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var body io.Reader = rec.Body
	if rec.Header().Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		body = gz
	}
	format := expfmt.Format(rec.Header().Get("Content-Type"))
	var mfs map[string]*dto.MetricFamily
	if format.FormatType() == expfmt.TypeTextPlain {
		raw, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		mfs = parseExposition(t, string(raw))
	} else {
		mfs = map[string]*dto.MetricFamily{}
		dec := expfmt.NewDecoder(body, format)
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("decode %s: %v", format, err)
			}
			if mfs[mf.GetName()] != nil {
				t.Fatalf("%s twice", mf.GetName())
			}
			mfs[mf.GetName()] = mf
		}
	}
	out := map[string]string{}
	for name, mf := range mfs {
		out[name] = canonical(t, mf)
	}
	return out
}

// For every format and encoding a client may ask, /metrics with the text
// writer answers as promhttp over the registry did for the same state: the
// same Content-Type, Content-Encoding and Vary, and the same families.
func TestMetricsNegotiationAsPromhttp(t *testing.T) {
	before, direct := prometheus.NewRegistry(), prometheus.NewRegistry()
	observedFleet(t, NewMetrics(before), 50)
	m := NewMetrics(direct)
	observedFleet(t, m, 50)
	promhttpHandler := NewHandler(fakeSource{snap: fixtureSnapshot()}, before, nil)
	textHandler := NewHandler(fakeSource{snap: fixtureSnapshot()}, direct, nil, WithCheckSeries(m))

	accepts := []string{
		"",
		"text/plain;version=0.0.4",
		// Prometheus 3's default scrape_protocols.
		"application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
		"text/plain;version=1.0.0;escaping=underscores",
	}
	encodings := []string{"", "gzip", "gzip;q=0", "*", "identity;q=0.5, gzip;q=1.0", "br", "gzip;q=0.2, identity;q=0.8"}
	sawGzip, sawProto := false, false
	for _, accept := range accepts {
		for _, enc := range encodings {
			want := scrapeText(t, promhttpHandler, "/metrics", "Accept", accept, "Accept-Encoding", enc)
			got := scrapeText(t, textHandler, "/metrics", "Accept", accept, "Accept-Encoding", enc)
			for _, h := range []string{"Content-Type", "Content-Encoding"} {
				if g, w := got.Header().Get(h), want.Header().Get(h); g != w {
					t.Errorf("Accept %q, Accept-Encoding %q: %s %q, promhttp %q", accept, enc, h, g, w)
				}
			}
			if g, w := got.Header().Values("Vary"), want.Header().Values("Vary"); !slices.Equal(g, w) {
				t.Errorf("Accept %q, Accept-Encoding %q: Vary %q, promhttp %q", accept, enc, g, w)
			}
			sawGzip = sawGzip || got.Header().Get("Content-Encoding") == "gzip"
			sawProto = sawProto || strings.Contains(got.Header().Get("Content-Type"), "protobuf")
			w, g := decodeScrape(t, want), decodeScrape(t, got)
			if len(g) == 0 || g["credmon_check_up"] == "" {
				t.Fatalf("Accept %q, Accept-Encoding %q: no per-check series", accept, enc)
			}
			if !maps.Equal(w, g) {
				for name := range w {
					if w[name] != g[name] {
						t.Errorf("Accept %q, Accept-Encoding %q: %s differs:\n%s", accept, enc, name, lineDiff(w[name], g[name]))
					}
				}
				for name := range g {
					if _, ok := w[name]; !ok {
						t.Errorf("Accept %q, Accept-Encoding %q: %s beside promhttp's", accept, enc, name)
					}
				}
			}
		}
	}
	if !sawGzip || !sawProto {
		t.Errorf("gzip seen %v, protobuf seen %v: the cases do not cover both", sawGzip, sawProto)
	}

	// name[] picks families, per-check ones included, as promhttp does.
	const filter = "/metrics?name[]=credmon_check_up&name[]=credmon_store_up&name[]=credmon_check_status"
	w, g := decodeScrape(t, scrapeText(t, promhttpHandler, filter)), decodeScrape(t, scrapeText(t, textHandler, filter))
	if len(w) != 3 || !maps.Equal(w, g) {
		t.Errorf("name[]: %d families, promhttp %d (%v)", len(g), len(w), slices.Sorted(maps.Keys(g)))
	}
}

// A check removed from the configuration leaves no line in /metrics; the
// others keep theirs, and a check of the same name in another environment
// too.
func TestCheckSeriesTextForgets(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	observedFleet(t, m, 50)
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil, WithCheckSeries(m))
	before := scrapeText(t, h, "/metrics").Body.String()
	gone := `check="billing-me-00000",env="prod"`
	kept := `check="billing-me-00005",env="staging"`
	if strings.Count(before, gone) < 4 || !strings.Contains(before, kept) || !strings.Contains(before, `check="no-cause",env="dev"`) {
		t.Fatalf("before forgetting, /metrics lacks the checks the test is about:\n%.3000s", before)
	}
	m.ForgetCheck("prod", "billing-me-00000")
	m.ForgetCheck("dev", "no-cause")
	after := scrapeText(t, h, "/metrics").Body.String()
	for _, s := range []string{gone, `check="no-cause",env="dev"`} {
		if strings.Contains(after, s) {
			t.Errorf("after ForgetCheck /metrics still has %s", s)
		}
	}
	if !strings.Contains(after, kept) {
		t.Errorf("ForgetCheck took %s too", kept)
	}
	if n, want := strings.Count(after, "\ncredmon_check_up{"), strings.Count(before, "\ncredmon_check_up{")-2; n != want {
		t.Errorf("%d up series after forgetting 2, want %d", n, want)
	}
	// Observed again, a check starts over: no counter carried from before.
	m.ObserveResult(checks.Result{Env: "dev", Check: "no-cause", Status: checks.StatusFail, HTTPStatus: 500, Tick: fixtureNow})
	if again := scrapeText(t, h, "/metrics").Body.String(); !strings.Contains(again, `credmon_check_results_total{cause="",check="no-cause",env="dev"} 1`+"\n") {
		t.Errorf("a check observed again after ForgetCheck carries its old count")
	}
}

// Scrapes of the text while results arrive and checks are forgotten:
// every scrape parses, no family twice, no series twice (run under -race).
func TestCheckSeriesTextConcurrentScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil, WithCheckSeries(m))
	const n = 200
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// The scrapes begin once both writers have gone round once, and the
	// writers go on until the scrapes end: the two overlap.
	var started sync.WaitGroup
	started.Add(2)
	for w := range 2 {
		wg.Go(func() {
			for run := 0; ; run++ {
				if run == 1 {
					started.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
				for i := w; i < n; i += 2 {
					name := fmt.Sprintf("c%03d", i)
					if run%3 == 2 && i%5 == 0 {
						m.ForgetCheck("prod", name)
						continue
					}
					m.ObserveResult(checks.Result{Env: "prod", Check: name, Status: checks.StatusOK, Cause: checks.CauseOK,
						HTTPStatus: 200, Started: fixtureNow.Add(time.Duration(run) * time.Second)})
				}
			}
		})
	}
	started.Wait()
	for range 30 {
		decodeScrape(t, scrapeText(t, h, "/metrics"))
	}
	close(stop)
	wg.Wait()
}

// Writing the per-check text allocates per scrape, not per series: a
// retained scratch buffer carries the lines.
func TestCheckSeriesTextAllocations(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	observedFleet(t, m, 1000)
	scratch := make([]byte, 0, 64<<10)
	write := func() {
		order := m.perCheck.ordered()
		for f := range checkFamilies {
			var err error
			if scratch, err = writeFamily(io.Discard, checkFamily(f), order, scratch); err != nil {
				t.Fatal(err)
			}
		}
	}
	write() // sorts, and grows scratch
	if allocs := testing.AllocsPerRun(5, write); allocs > 0 {
		t.Errorf("writing 7,000 series allocates %v times; want none", allocs)
	}
}

// discardResponse is a ResponseWriter that keeps nothing, so that a
// benchmark's allocations are the handler's, not a recorder's body.
type discardResponse struct {
	header http.Header
	n      int
	code   int
}

func (d *discardResponse) Header() http.Header  { return d.header }
func (d *discardResponse) WriteHeader(code int) { d.code = code }
func (d *discardResponse) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}

// scrapePath is /metrics at 10,000 checks, before (path "registry":
// promhttp over the registry) or after ("text": written from compact
// state).
func scrapePath(b testing.TB, path string) http.Handler {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, c := range fleet(10000).Checks {
		if c.Last != nil {
			m.ObserveResult(*c.Last)
		}
	}
	var opts []HandlerOption
	if path == "text" {
		opts = append(opts, WithCheckSeries(m))
	}
	return NewHandler(fakeSource{snap: fixtureSnapshot()}, reg, nil, opts...)
}

// BenchmarkMetricsScrapeHeap10k scrapes /metrics repeatedly and reports
// what the heap keeps. retained-KiB is the growth of the live heap (marked
// by a GC) from before the first scrape to after the last: the same at
// -benchtime 50x and 500x means repeated scrapes do not grow the heap (what
// it is: the sorted order and pooled buffers, kept once). held-MiB is how much
// more memory the heap holds from the OS after the scrapes than before the
// first: what scraping adds to RSS. B/op is what one scrape allocates (the
// response is discarded, not recorded):
// go test -run '^$' -bench ScrapeHeap10k -benchtime 50x -benchmem ./cmd/credmon/web
func BenchmarkMetricsScrapeHeap10k(b *testing.B) {
	for _, path := range []string{"registry", "text"} {
		b.Run(path, func(b *testing.B) {
			h := scrapePath(b, path)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			// Start from a heap that holds only what it needs: setup's
			// garbage collected and returned.
			debug.FreeOSMemory()
			liveBefore, heldBefore := heapNow()
			for b.Loop() {
				w := &discardResponse{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != 0 && w.code != http.StatusOK || w.n == 0 {
					b.Fatalf("GET /metrics: %d, %d bytes", w.code, w.n)
				}
			}
			runtime.GC()
			liveAfter, heldAfter := heapNow()
			runtime.KeepAlive(h) // its checks are live throughout, not garbage at the end
			b.ReportMetric(float64(liveAfter-liveBefore)/(1<<10), "retained-KiB")
			b.ReportMetric(float64(heldAfter-heldBefore)/(1<<20), "held-MiB")
		})
	}
}

// heapNow is the live heap as of the last GC, and the memory the heap holds
// from the OS (obtained and not released).
func heapNow() (live, held int64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(s[0].Value.Uint64()), int64(ms.HeapSys) - int64(ms.HeapReleased)
}

// BenchmarkMetricsScrapeGzip10k is a scrape as Prometheus makes it, gzip
// accepted, before and after:
// go test -run '^$' -bench ScrapeGzip10k -benchmem ./cmd/credmon/web
func BenchmarkMetricsScrapeGzip10k(b *testing.B) {
	for _, path := range []string{"registry", "text"} {
		b.Run(path, func(b *testing.B) {
			h := scrapePath(b, path)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
			req.Header.Set("Accept-Encoding", "gzip")
			size := 0
			for b.Loop() {
				w := &discardResponse{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.Header().Get("Content-Encoding") != "gzip" {
					b.Fatal("not gzipped")
				}
				size = w.n
			}
			b.ReportMetric(float64(size), "gzip-bytes/scrape")
		})
	}
}

// A gatherer that has the per-check families from elsewhere does not make
// /metrics list them twice.
func TestCheckSeriesTextNotTwice(t *testing.T) {
	reg, elsewhere := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := NewMetrics(reg)
	elsewhere.MustRegister(m.perCheck)
	observedFleet(t, m, 20)
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, prometheus.Gatherers{reg, elsewhere}, nil, WithCheckSeries(m))
	got := decodeScrape(t, scrapeText(t, h, "/metrics"))
	if got["credmon_check_up"] == "" {
		t.Fatal("no credmon_check_up")
	}
}
