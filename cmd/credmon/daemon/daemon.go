// Package daemon is `credmon run`: it schedules every check, records and
// reports results, reloads its configuration and serves the HTTP surface.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/clock"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/tokencache"
)

// Options configure a daemon run.
type Options struct {
	// ConfigPath is the file or directory to load and watch.
	ConfigPath string
	// Config, when set, is used instead of loading ConfigPath at start (the
	// demo builds its own); reloads still read ConfigPath if it is set.
	Config *config.Config
	// Listen overrides server.listen ("127.0.0.1:0" picks a free port).
	Listen string
	// Reload delivers SIGHUP from main.
	Reload <-chan os.Signal
	// WatchInterval is how often the config files are checked for changes;
	// 0 means 2s, negative disables watching.
	WatchInterval time.Duration
	// DrainTimeout bounds how long shutdown waits for in-flight probes.
	DrainTimeout time.Duration
	// Logger receives operational logs and the console notifier's lines.
	Logger *slog.Logger
	// Ready is called once the HTTP server listens, with its address.
	Ready func(addr string)
	// OutageGrace is how long, while Redis is unreachable, each replica
	// probes only its own share of the checks before it probes them all;
	// default 1 minute.
	OutageGrace time.Duration
	// Instance names this replica; default hostname-pid.
	Instance string
	// Version is reported in heartbeats and the status page.
	Version string
	// CredentialSchedule is how often credentials are evaluated for rotation
	// and expiry; default "@every 1m".
	CredentialSchedule string
	// Notifiers are delivered to through the outbox beside those the
	// configuration sets up; for programs that embed the daemon and tests.
	Notifiers []notify.Notifier
	// OnResult, when set, sees every result after it is recorded; for
	// programs that embed the daemon (the benchmark) and tests.
	OnResult func(checks.Result)
}

// Daemon is one running replica.
type Daemon struct {
	opts     Options
	log      *slog.Logger
	instance string
	store    store.Store
	sched    *schedule.Scheduler
	metrics  *web.Metrics
	registry *prometheus.Registry
	// Series of the parts the daemon wires together, each emitted by its
	// part (d.metrics are the daemon's own: results, deadlines, reloads).
	notifyMetrics *notify.Metrics
	checkMetrics  *checks.Metrics
	schedMetrics  *schedule.Metrics
	console       *notify.Console
	deps          checks.Deps
	started       time.Time
	shared        bool // the store is shared by replicas: claim ticks
	members       *membership

	rotation   *rotation.Tracker
	incidents  *notify.Incidents
	dispatcher *notify.Dispatcher
	silences   *notify.Silences              // runtime silences and maintenance windows
	tokens     *tokencache.Cache             // nil when tokens are not shared
	writer     atomic.Pointer[resultWriter]  // batches results while serving
	incidentQ  atomic.Pointer[incidentQueue] // evaluates incidents while serving

	// mu guards the generation and what is kept per subject beside it.
	// record holds it for reading from the generation check to the queues,
	// so nothing of a subject is queued after a reload forgot it.
	mu          sync.RWMutex
	gen         *generation
	deadlines   map[string][]rotation.Deadline // by ENV/CREDENTIAL
	clockOffset clock.Offset
	reloadErr   error
	reloading   sync.Mutex // one reload at a time: SIGHUP, a file change, POST /-/reload
	watched     fileState

	lastMu sync.Mutex
	last   map[string]outcome // by subject key: the console's memory
}

// outageAware is a store that outlives its shared store's outages (the
// redis driver behind store/fallback): it says whether the shared store
// answers and probes for its return once started.
type outageAware interface {
	Healthy() bool
	Start(ctx context.Context)
}

// Run runs the daemon until ctx is cancelled, then drains and returns nil.
// A configuration that does not load at start is returned as an error.
func Run(ctx context.Context, opts Options) error {
	d, err := New(ctx, opts)
	if err != nil {
		return err
	}
	return d.Serve(ctx)
}

// New loads the configuration, opens the store and builds the checks.
func New(ctx context.Context, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	if opts.WatchInterval == 0 {
		opts.WatchInterval = 2 * time.Second
	}
	if opts.Instance == "" {
		host, _ := os.Hostname()
		opts.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(opts.ConfigPath); err != nil {
			return nil, err
		}
	}
	d := &Daemon{
		opts:     opts,
		log:      opts.Logger,
		instance: opts.Instance,
		registry: prometheus.NewRegistry(),
		console:  notify.NewConsole(opts.Logger),
		last:     map[string]outcome{},
		members:  newMembership(opts.Instance, opts.OutageGrace),
		started:  time.Now(),
	}
	d.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = web.NewMetrics(d.registry)
	d.notifyMetrics = notify.NewMetrics(d.registry)
	d.checkMetrics = checks.NewMetrics(d.registry)
	d.schedMetrics = schedule.NewMetrics(d.registry)
	web.RegisterBuildInfo(d.registry, opts.Version)
	if opts.ConfigPath != "" {
		d.watched = statFiles(opts.ConfigPath)
	}
	var st store.Store
	var err error
	if cfg.Store.Driver == "redis" {
		var fb *fallback.Store
		fb, err = openShared(ctx, cfg.Store, d.log, func(up bool) {
			d.metrics.StoreUp(up)
			d.members.storeUp(up, time.Now())
			if up {
				d.log.Info("redis answers again: coordination resumed, buffered state written back")
			} else {
				d.log.Error("redis unreachable: probing on with local state and scheduling; will catch up when it returns")
			}
		})
		st = fb
	} else {
		st, err = OpenStore(ctx, cfg.Store)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	d.store = st
	d.shared = cfg.Store.Driver == "redis"
	if d.shared {
		d.restoreMembership(ctx)
	}
	d.deps = checks.Deps{Transports: checks.NewTransports(), MaxOffset: cfg.Clock.MaxOffset.D(), Metrics: d.checkMetrics, ClockOffset: d.ntpOffset}
	key, err := storeKey(cfg.Store)
	if err != nil {
		st.Close()
		return nil, err
	}
	if key == nil {
		d.deps.Tokens = checks.NewLocalTokens() // kept across reloads
		d.log.Warn("store.encryption_key is not set: OAuth2 tokens stay in each replica's memory and are not shared through redis, where they would sit unencrypted; set it to 32 random bytes, base64, to share them")
	} else {
		if d.tokens, err = tokencache.New(st, st, derive(key, "token sealing"), d.instance, tokencache.WithLogger(d.log)); err != nil {
			st.Close()
			return nil, err
		}
		d.deps.Tokens = d.tokens
	}
	fpKey, err := fingerprintKey(cfg.Store, key)
	if err != nil {
		st.Close()
		return nil, err
	}
	if fpKey == nil {
		d.log.Warn("fingerprints are off: store.driver is redis and neither store.fingerprint_key nor store.encryption_key is set, and the key that keeps fingerprints secret is never stored in redis; rotations are not detected, a previous key's grace is timed only from rotation.rotated_at, and warning bands restart only when a deadline moves; set store.fingerprint_key to 32 random bytes, base64, to turn them on")
	}
	d.rotation = rotation.New(st, fpKey, rotation.Options{WarnBefore: durations(cfg.Alerting.ExpiryWarnBefore)})
	// Earlier versions generated the fingerprint key and kept it in the
	// store; nothing reads it now, and it must not stay where it leaks.
	if removed, err := rotation.RemoveLegacyKey(ctx, st); err != nil {
		d.log.Warn("could not delete the fingerprint key earlier versions kept in the store; it is tried again at the next start", "err", err)
	} else if removed {
		d.log.Info("deleted the fingerprint key earlier versions kept in the store; fingerprints are now keyed by the configured or local key")
	}
	d.silences = notify.NewSilences(st, nil, nil)
	d.notifyMetrics.ObserveSilences(d.silences)
	if err := d.setupAlerts(cfg); err != nil {
		st.Close()
		return nil, err
	}
	d.sched = schedule.New(schedule.Options{
		MaxConcurrency: cfg.Scheduler.MaxConcurrency,
		Jitter:         cfg.Scheduler.Jitter.D(),
		Timeout:        cfg.Scheduler.Timeout.D(),
		Metrics:        d.schedMetrics,
		Logger:         d.log,
	})
	if err := d.apply(cfg); err != nil {
		st.Close()
		return nil, err
	}
	// The first load counts as a successful reload, as in Prometheus: a
	// fresh daemon must not read as one whose reload failed.
	d.metrics.ConfigReloaded(true, time.Now())
	for _, w := range cfg.Warnings {
		d.log.Warn(w.Error())
	}
	return d, nil
}

// apply builds the generation of cfg, hands its jobs to the scheduler and
// swaps it in; what the previous generation had and this one lacks is
// forgotten. On error nothing changes.
func (d *Daemon) apply(cfg *config.Config) error {
	g, jobs, err := d.build(cfg)
	if err != nil {
		return err
	}
	if err := d.sched.Set(jobs); err != nil {
		return err
	}
	d.silences.SetWindows(MaintenanceWindows(cfg))
	cfg.DropPositions() // validated and built: nothing reports against it now
	d.mu.Lock()
	old := d.gen
	d.gen = g
	subjects, creds := g.gone(old)
	for _, c := range creds {
		delete(d.deadlines, c.key())
	}
	d.mu.Unlock()
	d.lastMu.Lock()
	for _, s := range subjects {
		delete(d.last, s.Key())
	}
	d.lastMu.Unlock()
	d.resizeQueues(len(g.checks))
	if len(subjects) > 0 {
		d.forget(subjects, creds)
	}
	return nil
}

// resizeQueues sizes the result writer's and the incident queue's queues
// for n checks, so a reload that grows the configuration does not leave
// probing waiting on queues sized for the first one. Before Serve there
// are none; Serve sizes them under the reload lock, so none is sized for
// a generation a reload has replaced.
func (d *Daemon) resizeQueues(n int) {
	if w := d.writer.Load(); w != nil {
		w.resize(n)
	}
	if q := d.incidentQ.Load(); q != nil {
		q.resize(n)
	}
}

// forget removes what removed checks and credentials left behind: their
// metric series, their stored results and their incidents (an open one is
// resolved, saying why). It runs after the swap, so no result of theirs is
// recorded any more, and each deletion queues behind what was recorded
// before it.
func (d *Daemon) forget(subjects []checks.Subject, creds []credentialRef) {
	keys := make([]string, 0, len(subjects))
	for _, s := range subjects {
		d.metrics.ForgetCheck(s.Env, s.Path())
		d.schedMetrics.Forget(schedule.Labels{Env: s.Env, Check: s.Path()})
		keys = append(keys, s.Key())
	}
	for _, c := range creds {
		d.metrics.ForgetCredential(c.env, c.name)
		d.checkMetrics.ForgetCredential(c.env, c.name)
		d.schedMetrics.Forget(credentialJobLabels(c.env, c.name))
	}
	ctx := context.Background()
	if w := d.writer.Load(); w != nil {
		w.forget(ctx, keys)
	} else {
		deleteResults(ctx, d.store, d.log, keys)
	}
	for _, s := range subjects {
		d.queueIncident(incidentOp{forget: &s})
	}
	d.log.Info("forgot removed checks and credentials", "subjects", len(subjects), "credentials", len(creds))
}

// runner returns the scheduled job of one check. It looks the check up at
// run time so a reload's new credential or URL is used from the next tick.
func (d *Daemon) runner(key string, timeout time.Duration) func(ctx context.Context, tick time.Time) {
	return func(ctx context.Context, tick time.Time) {
		d.mu.RLock()
		c := d.gen.checks[key]
		d.mu.RUnlock()
		if c == nil || !d.claimTick(ctx, key, tick, timeout) {
			return
		}
		d.record(ctx, c.Run(ctx, tick))
	}
}

// record is the one path of every result — a check's, a credential
// concern's, the clock's: stamp, metrics, console, store, incidents and
// the outbox. A result of a subject the running generation no longer has
// (a probe that outlived the reload removing its check) is dropped.
func (d *Daemon) record(ctx context.Context, r checks.Result) {
	r.RunBy = d.instance
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.gen.knows(r.Subject()) {
		return
	}
	d.metrics.ObserveResult(r)
	d.lastMu.Lock()
	o := outcome{r.Status, r.Cause}
	prev, seen := d.last[r.Key()]
	d.last[r.Key()] = o
	d.lastMu.Unlock()
	if !seen || prev != o {
		d.console.Result(ctx, r)
	}
	if w := d.writer.Load(); w != nil {
		w.put(ctx, &r)
	} else {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := d.store.PutResult(sctx, r); err != nil {
			d.log.Warn("store: result not recorded", "check", r.Key(), "err", err)
		}
		cancel()
	}
	d.queueIncident(incidentOp{r: &r})
	if d.opts.OnResult != nil {
		d.opts.OnResult(r)
	}
}

// queueIncident hands op to the incident queue, or handles it at once
// when the daemon is not serving.
func (d *Daemon) queueIncident(op incidentOp) {
	if q := d.incidentQ.Load(); q != nil {
		q.put(op)
		return
	}
	d.handleIncident(op)
}

// handleIncident applies one op to the incident engine and queues the
// messages its transitions produce.
func (d *Daemon) handleIncident(op incidentOp) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if op.forget != nil {
		msgs, err := d.incidents.Forget(ctx, *op.forget)
		switch damaged := (*store.DamagedError)(nil); {
		case errors.As(err, &damaged):
			d.log.Warn("incident state of a removed check did not read; deleted without a resolution", "subject", op.forget.Key(), "err", err)
		case err != nil:
			d.log.Warn("incident state of a removed check not deleted", "subject", op.forget.Key(), "err", err)
		}
		for _, m := range msgs {
			d.notify(ctx, m)
		}
		return
	}
	if d.shared && !d.members.decides(jobKey(*op.r)) {
		return // the owner decides it during the outage
	}
	d.observe(ctx, *op.r)
}

// jobKey is the key of the scheduled job that produced r, the key its
// ownership is decided by: a check's subject, a credential's evaluation.
// The clock is every replica's own.
func jobKey(r checks.Result) string {
	switch r.Kind {
	case checks.SubjectCredential:
		return credentialJobID(r.Env, r.Credential)
	case checks.SubjectClock:
		return ""
	}
	return r.Key()
}

// Serve starts the scheduler and the HTTP server and blocks until ctx ends.
func (d *Daemon) Serve(parent context.Context) error {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	d.mu.RLock()
	listen, webConfig, profiles := d.gen.cfg.Server.Listen, d.gen.cfg.Server.WebConfigFile, d.gen.cfg.Server.Pprof
	// Silences are always served: the CLI reaches a bolt store the daemon
	// holds only through them. They are behind web_config's auth like
	// everything else.
	hopts := []web.HandlerOption{web.WithSilences(d.silences), web.WithCheckSeries(d.metrics)}
	if d.gen.cfg.Server.EnableReloadEndpoint {
		hopts = append(hopts, web.WithReload(func() error { return d.Reload("POST /-/reload") }))
	}
	d.mu.RUnlock()
	if d.opts.Listen != "" {
		listen = d.opts.Listen
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		d.store.Close()
		return fmt.Errorf("server.listen: %w", err)
	}
	handler := web.NewHandler(d, d.registry, d.log, hopts...)
	if profiles {
		handler = web.WithPprof(handler)
	}
	srv := web.NewServer(handler, ln.Addr(), web.ServerOptions{BaseContext: ctx, Logger: d.log})
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := web.Serve(ln, srv, webConfig, d.log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	// POST /-/reload may already run: with the reload lock held, the
	// queues are sized for the generation that serves, and a later
	// reload resizes them.
	d.reloading.Lock()
	d.mu.RLock()
	nChecks := len(d.gen.checks)
	d.mu.RUnlock()
	w := newResultWriter(d.store, d.log, nChecks)
	d.writer.Store(w)
	q := newIncidentQueue(d.handleIncident, nChecks)
	d.incidentQ.Store(q)
	d.reloading.Unlock()
	d.sched.Start()
	d.log.Info("credmon running", "instance", d.instance, "listen", ln.Addr().String(), "checks", nChecks)
	if d.opts.Ready != nil {
		d.opts.Ready(ln.Addr().String())
	}
	wg.Go(func() { d.watch(ctx) })
	wg.Go(func() { d.heartbeat(ctx) })
	if o, ok := d.store.(outageAware); ok {
		o.Start(ctx)
	}
	// Producers of results besides the scheduler: the queues close after
	// them.
	var producers sync.WaitGroup
	producers.Go(func() { d.evaluateCredentialsNow(ctx) })
	if d.dispatcher != nil {
		wg.Go(func() { _ = d.dispatcher.Run(ctx) })
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	stop()
	d.log.Info("shutting down: draining in-flight probes", "timeout", d.opts.DrainTimeout)
	drainCtx, cancel := context.WithTimeout(context.Background(), d.opts.DrainTimeout)
	defer cancel()
	errs := []error{runErr, d.sched.Stop(drainCtx)}
	producers.Wait()
	// Incidents first: what they decide is queued in the outbox, and
	// results after, once nothing more can be recorded in the drain.
	q.close()
	w.close()
	shutCtx, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	errs = append(errs, srv.Shutdown(shutCtx))
	wg.Wait()
	errs = append(errs, d.store.Close())
	d.deps.Transports.CloseIdle()
	return errors.Join(errs...)
}
