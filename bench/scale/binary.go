package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// The binary mode measures what users run: `credmon run` as a child process
// with its defaults (info logging, config watching), next to the floor — a
// bare net/http keep-alive loop, also a child process but a small program
// of its own (bench/scale/floor) — each watched from outside through /proc,
// each against its own fresh target process. RSS is reported whole and
// split: anonymous memory (heap, stacks: what grows with the checks) and
// file-backed pages (the program's own code and data mapped from its
// binary, and bolt's mmap), which a bigger binary costs whatever it runs.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux this runs on (getconf CLK_TCK).
const clockTicks = 100

// procSample is one reading of a process from /proc.
type procSample struct {
	at               time.Time
	ticks            int64 // utime + stime
	rssKiB           int64
	hwmKiB           int64
	anonKiB, fileKiB int64 // RssAnon, RssFile
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; fields count from its ')'.
	rest := stat[bytes.LastIndexByte(stat, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	s.ticks = utime + stime
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			s.rssKiB = n
		case "VmHWM":
			s.hwmKiB = n
		case "RssAnon":
			s.anonKiB = n
		case "RssFile":
			s.fileKiB = n
		}
	}
	return s, nil
}

// childRun is the outcome of one program's run in the binary mode.
type childRun struct {
	name           string
	probes, nonOK  int64
	window         time.Duration
	cpu            time.Duration
	rssMedianKiB   int64
	rssPeakKiB     int64
	anonMedianKiB  int64         // of the samples' RssAnon
	fileMedianKiB  int64         // of the samples' RssFile
	allRanAfter    time.Duration // 0: not every check ran
	ran            int
	accepts        int64
	lagP50, lagP99 string
	logBytes       int64
}

func (r childRun) perK() float64 { return r.cpu.Seconds() / float64(max(r.probes, 1)) * 1000 }

// build builds pkg into out as -build says: "go" as `go build` (and `go
// run`, `go install`) does, "image" as the Dockerfile does for the image
// the Helm chart and docker-compose run (static, trimmed, stripped). The
// floor is built the same way as credmon, so that their RSS compares.
func build(ctx context.Context, how, out, pkg string) error {
	args := []string{"build", "-o", out}
	env := os.Environ()
	switch how {
	case "go":
	case "image":
		args = append(args, "-trimpath", "-ldflags", "-s -w")
		env = append(env, "CGO_ENABLED=0")
	default:
		return fmt.Errorf("-build %q: want go or image", how)
	}
	fmt.Fprintf(os.Stderr, "scale: building %s (-build %s)\n", pkg, how)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// runBinaryMode runs floor and credmon alternately o.runs times and prints
// every run and the medians.
func runBinaryMode(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "credmon-scale-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.binary
	if bin == "" {
		bin = filepath.Join(dir, "credmon")
		if err := build(ctx, o.build, bin, "./cmd/credmon"); err != nil {
			return fmt.Errorf("%w (run from the module root, or pass -credmon)", err)
		}
	}
	floorBin := filepath.Join(dir, "floor")
	if o.mode != "credmon" {
		if err := build(ctx, o.build, floorBin, "./bench/scale/floor"); err != nil {
			return fmt.Errorf("%w (run from the module root)", err)
		}
	}
	if o.cgroup != "" {
		defer reportCgroup(os.Stdout, o.cgroup)
	}
	var floors, creds []childRun
	for i := range o.runs {
		if o.mode != "credmon" {
			r, err := runChild(ctx, o, dir, "floor", floorBin)
			if err != nil {
				return fmt.Errorf("floor run %d: %w", i+1, err)
			}
			floors = append(floors, r)
		}
		if o.mode != "bare" {
			r, err := runChild(ctx, o, dir, "credmon", bin)
			if err != nil {
				return fmt.Errorf("credmon run %d: %w", i+1, err)
			}
			creds = append(creds, r)
		}
	}
	reportChildren(os.Stdout, o, floors, creds)
	return nil
}

// reportCgroup prints what the kernel counted for the cgroup credmon ran
// in (-cgroup): its limit, peak usage and OOM kills, from cgroup v2's
// files or v1's.
func reportCgroup(w io.Writer, dir string) {
	read := func(names ...string) string {
		for _, n := range names {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		return ""
	}
	bytesMiB := func(v string) string {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n >= 1<<62 {
			return v
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	kills := "?"
	for line := range strings.Lines(read("memory.events", "memory.oom_control")) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			kills = v
		}
	}
	fmt.Fprintf(w, "cgroup %s: limit %s, peak usage %s, OOM kills %s (over all of credmon's runs)\n", dir,
		bytesMiB(read("memory.max", "memory.limit_in_bytes")), bytesMiB(read("memory.peak", "memory.max_usage_in_bytes")), kills)
}

// runChild starts a target and one program (the floor or credmon) against
// it, waits until every check has run once (or three intervals), measures
// o.duration, and stops both.
func runChild(ctx context.Context, o options, dir, kind, bin string) (childRun, error) {
	r := childRun{name: "bare net/http loop (floor)"}
	t, err := startTarget(ctx)
	if err != nil {
		return r, fmt.Errorf("target: %w", err)
	}
	defer t.stop()
	logPath := filepath.Join(dir, kind+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return r, err
	}
	defer logf.Close()
	if o.logDir != "" {
		// Deferred before the child's stop, so it runs after it: the
		// whole log, shutdown included.
		defer func() {
			if b, err := os.ReadFile(logPath); err == nil {
				_ = os.WriteFile(filepath.Join(o.logDir, fmt.Sprintf("%s-%d-%s.log", kind, o.checks, time.Now().Format("150405"))), b, 0o600)
			}
		}()
	}
	var cmd *exec.Cmd
	var metricsURL string
	switch kind {
	case "floor":
		cmd = exec.Command(bin, "-target", t.addr, "-checks", strconv.Itoa(o.checks), "-every", o.every.String())
		cmd.Env = append(os.Environ(), "SCALE_BEARER="+benchKey)
	default:
		r.name = fmt.Sprintf("credmon run (%s store)", o.driver)
		port, err := freePort()
		if err != nil {
			return r, err
		}
		listen := "127.0.0.1:" + port
		metricsURL = "http://" + listen + "/metrics"
		cfg := filepath.Join(dir, "config.yaml")
		_ = os.Remove(filepath.Join(dir, "credmon.db"))
		if err := os.WriteFile(cfg, []byte(binaryConfig(o, t.addr, dir, listen)), 0o600); err != nil {
			return r, err
		}
		cmd = exec.Command(bin, "run", "-config", cfg)
		if o.cgroup != "" {
			// The shell moves itself into the cgroup, then becomes
			// credmon: it starts there, and reads its limit there.
			cmd = exec.Command("sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, o.cgroup, bin, "run", "-config", cfg)
		}
		cmd.Env = append(os.Environ(), "GODEBUG=")
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	pid := cmd.Process.Pid

	var (
		mu      sync.Mutex
		samples []procSample
	)
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-tick.C:
			}
			if s, err := readProc(pid); err == nil {
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}
	})
	defer func() { stopSampling(); wg.Wait() }()

	// Warm up: until every check has run once, at least one interval, at
	// most three (plus loading time at 100,000 checks).
	deadline := started.Add(3*o.every + 60*time.Second)
	var st targetStats
	for {
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logPath)
			return r, fmt.Errorf("%s exited during warm-up: %v\n%s", kind, err, tail(log, 2000))
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(time.Second):
		}
		if st, err = t.stats(); err != nil {
			return r, err
		}
		if (st.distinct >= o.checks && time.Since(started) >= o.every) || time.Now().After(deadline) {
			break
		}
	}
	r.ran = st.distinct
	if st.distinct >= o.checks {
		r.allRanAfter = time.Unix(0, st.lastFirst).Sub(started)
	}
	// The scrape takes seconds at 100,000 checks: the window's probe
	// count and CPU both start after it.
	lag0 := scrapeLag(metricsURL)
	s0, err := t.stats()
	if err != nil {
		return r, err
	}
	p0, err := readProc(pid)
	if err != nil {
		return r, err
	}
	profiled := make(chan struct{})
	if kind == "credmon" && o.profileDir != "" {
		// The CPU profile covers the measured window but its last seconds;
		// the heap profile is taken at its end.
		go func() {
			defer close(profiled)
			secs := max(int(o.duration.Seconds())-5, 1)
			fetchTo(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics"), secs),
				filepath.Join(o.profileDir, fmt.Sprintf("cpu-%d.pprof", o.checks)))
		}()
	} else {
		close(profiled)
	}
	mu.Lock()
	from := len(samples)
	mu.Unlock()
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
		return r, ctx.Err()
	case err := <-exited:
		exited <- err
		return r, fmt.Errorf("%s exited while measured: %v", kind, err)
	}
	p1, err := readProc(pid)
	if err != nil {
		return r, err
	}
	s1, err := t.stats()
	if err != nil {
		return r, err
	}
	lag1 := scrapeLag(metricsURL)
	<-profiled
	if kind == "credmon" && o.profileDir != "" {
		fetchTo(strings.TrimSuffix(metricsURL, "/metrics")+"/debug/pprof/heap", filepath.Join(o.profileDir, fmt.Sprintf("heap-%d.pprof", o.checks)))
	}
	r.window = p1.at.Sub(p0.at)
	r.cpu = time.Duration(p1.ticks-p0.ticks) * time.Second / clockTicks
	r.probes = s1.requests - s0.requests
	r.nonOK = r.probes - (s1.ok - s0.ok)
	r.accepts = s1.accepts
	r.rssPeakKiB = p1.hwmKiB
	mu.Lock()
	var rss, anon, file []int64
	for _, s := range samples[from:] {
		rss, anon, file = append(rss, s.rssKiB), append(anon, s.anonKiB), append(file, s.fileKiB)
	}
	mu.Unlock()
	r.rssMedianKiB, r.anonMedianKiB, r.fileMedianKiB = median(rss), median(anon), median(file)
	r.lagP50, r.lagP99 = lagQuantiles(lag0, lag1)
	if fi, err := logf.Stat(); err == nil {
		r.logBytes = fi.Size()
	}
	fmt.Fprintf(os.Stderr, "scale: %s: %.3f CPU-s/1k probes, RSS median %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB, %d/%d checks ran, %d connections\n",
		r.name, r.perK(), mib(r.rssMedianKiB), mib(r.anonMedianKiB), mib(r.fileMedianKiB), mib(r.rssPeakKiB), r.ran, o.checks, r.accepts)
	return r, nil
}

// binaryConfig is the config of the measured `credmon run`: defaults
// everywhere except what the benchmark is about.
func binaryConfig(o options, addr, dir, listen string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server: {listen: %q", listen)
	if o.pprof || o.profileDir != "" {
		b.WriteString(", pprof: true")
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "store: {driver: %s, path: %q}\n", o.driver, filepath.Join(dir, "credmon.db"))
	fmt.Fprintf(&b, "scheduler: {schedule: \"@every %s\", jitter: %s}\n", o.every, o.jitter)
	b.WriteString("environments:\n  prod:\n    credentials:\n")
	fmt.Fprintf(&b, "      key: {type: api_key, secret: %q, expect_prefix: [sk_live_]}\n    checks:\n", benchKey)
	for i := range o.checks {
		fmt.Fprintf(&b, "      - {name: c%06d, credential: key, url: \"http://%s/v1/account/%d\"}\n", i, addr, i)
	}
	return b.String()
}

// fetchTo saves url's body at path; a failure is reported, not fatal.
func fetchTo(url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale: profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale: profile:", err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "scale: profile:", resp.Status, err)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// scrapeLag reads credmon_scheduler_lag_seconds' cumulative buckets.
func scrapeLag(url string) map[string]float64 {
	if url == "" {
		return nil
	}
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), `credmon_scheduler_lag_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, v, ok := strings.Cut(line, `"} `)
		if n, err := strconv.ParseFloat(v, 64); ok && err == nil {
			out[le] = n
		}
	}
	return out
}

// lagQuantiles gives the bucket upper bounds holding p50 and p99 of the
// lags observed between two scrapes.
func lagQuantiles(a, b map[string]float64) (string, string) {
	if len(b) == 0 {
		return "-", "-"
	}
	type bucket struct {
		le float64
		n  float64
	}
	var bs []bucket
	for le, n := range b {
		f, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{f, n - a[le]})
	}
	slices.SortFunc(bs, func(x, y bucket) int {
		if x.le < y.le {
			return -1
		}
		if x.le > y.le {
			return 1
		}
		return 0
	})
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return "-", "-"
	}
	total := bs[len(bs)-1].n
	q := func(p float64) string {
		for _, x := range bs {
			if math.IsInf(x.le, 1) {
				return "> 10s"
			}
			if x.n >= p*total {
				return "≤ " + time.Duration(x.le*float64(time.Second)).String()
			}
		}
		return "> 10s"
	}
	return q(0.5), q(0.99)
}

func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func medianF(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return xs[len(xs)/2]
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func reportChildren(w io.Writer, o options, floors, creds []childRun) {
	built := "-build " + o.build
	if o.binary != "" {
		built = "credmon from -credmon, the floor -build " + o.build
	}
	fmt.Fprintf(w, "%d checks @every %s, jitter %s, %s measured after every check ran once; each program a child process sampled from /proc every second; %s\n\n",
		o.checks, o.every, o.jitter, o.duration, built)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tprobes/s\tnon-ok\tCPU-s/1k probes\tRSS median MiB\tanon\tfile\tRSS peak MiB\tall ran once after\tnew TCP conns\tlag p50\tlag p99\tlog bytes\t")
	row := func(r childRun) {
		all := fmt.Sprintf("%d of %d ran", r.ran, o.checks)
		if r.allRanAfter > 0 {
			all = r.allRanAfter.Round(100 * time.Millisecond).String()
		}
		lp50, lp99 := r.lagP50, r.lagP99
		if lp50 == "" {
			lp50, lp99 = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%d\t%s\t%s\t%d\t\n", r.name,
			float64(r.probes)/r.window.Seconds(), r.nonOK, r.perK(), mib(r.rssMedianKiB), mib(r.anonMedianKiB), mib(r.fileMedianKiB), mib(r.rssPeakKiB), all, r.accepts, lp50, lp99, r.logBytes)
	}
	for i := range max(len(floors), len(creds)) {
		if i < len(floors) {
			row(floors[i])
		}
		if i < len(creds) {
			row(creds[i])
		}
	}
	tw.Flush()
	med := func(rs []childRun, f func(childRun) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return medianF(xs)
	}
	perK := func(r childRun) float64 { return r.perK() }
	rssMed := func(r childRun) float64 { return mib(r.rssMedianKiB) }
	rssPeak := func(r childRun) float64 { return mib(r.rssPeakKiB) }
	anon := func(r childRun) float64 { return mib(r.anonMedianKiB) }
	file := func(r childRun) float64 { return mib(r.fileMedianKiB) }
	fmt.Fprintf(w, "\nmedians of %d run(s):\n", o.runs)
	for _, g := range []struct {
		name string
		rs   []childRun
	}{{"floor", floors}, {"credmon", creds}} {
		if len(g.rs) > 0 {
			fmt.Fprintf(w, "  %-8s %.3f CPU-s/1k probes, RSS median %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB\n",
				g.name, med(g.rs, perK), med(g.rs, rssMed), med(g.rs, anon), med(g.rs, file), med(g.rs, rssPeak))
		}
	}
	if len(floors) > 0 && len(creds) > 0 {
		var ratios []float64
		for i := range min(len(floors), len(creds)) {
			ratios = append(ratios, creds[i].perK()/floors[i].perK())
		}
		fmt.Fprintf(w, "  CPU ratio credmon/floor: %.2f× (ratio of medians); per pair %s, median %.2f×\n",
			med(creds, perK)/med(floors, perK), fmtRatios(ratios), medianF(ratios))
	}
}

func fmtRatios(rs []float64) string {
	var s []string
	for _, r := range rs {
		s = append(s, strconv.FormatFloat(r, 'f', 2, 64))
	}
	return strings.Join(s, ", ")
}
