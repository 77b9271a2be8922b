package daemon

import (
	"context"
	"sort"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/web"
)

var _ web.Source = (*Daemon)(nil)

// Snapshot implements web.Source: configured checks with their latest
// stored result, recent statuses and next run.
func (d *Daemon) Snapshot(ctx context.Context) (*web.Snapshot, error) {
	stored, storeErr := d.store.LatestResults(ctx)
	s := &web.Snapshot{Generated: time.Now(), Instance: d.instance}
	d.mu.RLock()
	// Only what the running generation has: a removed check's results
	// are deleted after the reload, and until then they are not shown.
	latest := stored[:0:0]
	byKey := make(map[string]checks.Result, len(stored))
	for _, r := range stored {
		if d.gen.knows(r.Subject()) {
			latest = append(latest, r)
			byKey[r.Key()] = r
		}
	}
	for key, c := range d.gen.checks {
		cs := web.CheckStatus{Env: c.Env, Name: c.Name, Credential: c.Cfg.Credential, Schedule: c.Cfg.Schedule, NextRun: d.sched.Next(key)}
		if r, ok := byKey[key]; ok {
			cs.Last = &r
			cs.Identity = r.Identity
			cs.LastRunBy = r.RunBy
		}
		d.histMu.Lock()
		if h := d.history[key]; h != nil {
			cs.Recent = h.recent()
		}
		d.histMu.Unlock()
		cs.OKRatio = okRatio(cs.Recent)
		s.Checks = append(s.Checks, cs)
	}
	for _, dls := range d.deadlines {
		for _, dl := range dls {
			s.Deadlines = append(s.Deadlines, web.Deadline{Env: dl.Env, Credential: dl.Credential, Kind: dl.Kind, At: dl.At})
		}
	}
	d.mu.RUnlock()
	s.NotReady = d.NotReady(ctx)
	if storeErr != nil {
		s.NotReady = append(s.NotReady, "store unavailable: "+storeErr.Error())
	}
	s.Ready = len(s.NotReady) == 0
	s.Checks = append(s.Checks, web.CredentialRows(latest, d.credentialSchedule())...)
	if open, err := d.incidents.Open(ctx); err == nil {
		s.Incidents = web.IncidentsOf(open)
	}
	if _, off := d.clockResult(); off != nil {
		s.ClockOffset = off
	}
	sort.Slice(s.Checks, func(i, j int) bool {
		a, b := s.Checks[i], s.Checks[j]
		if a.Env != b.Env {
			return a.Env < b.Env
		}
		return a.Name < b.Name
	})
	s.Deadlines = append(s.Deadlines, web.TokenDeadlines(latest)...)
	sort.Slice(s.Deadlines, func(i, j int) bool { return s.Deadlines[i].At.Before(s.Deadlines[j].At) })
	s.Instances = d.instances(ctx, s.Generated)
	return s, nil
}

func okRatio(recent []checks.Status) float64 {
	if len(recent) == 0 {
		return 0
	}
	n := 0
	for _, st := range recent {
		if st == checks.StatusOK || st == checks.StatusWarn {
			n++
		}
	}
	return float64(n) / float64(len(recent))
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}

// instances lists live replicas from the store's heartbeats; this replica
// is always among them.
func (d *Daemon) instances(ctx context.Context, now time.Time) []web.Instance {
	self := web.Instance{ID: d.instance, Version: d.opts.Version, Started: d.started, LastSeen: now}
	live, err := d.store.Instances(ctx)
	if err != nil {
		return []web.Instance{self}
	}
	out := []web.Instance{self}
	for _, in := range live {
		if in.ID != d.instance {
			out = append(out, in)
		}
	}
	return out
}

// NotReady lists why this replica is not ready, cheaply: /readyz calls it
// every few seconds and must not build a whole snapshot.
func (d *Daemon) NotReady(context.Context) []string {
	var reasons []string
	d.mu.RLock()
	if d.reloadErr != nil {
		reasons = append(reasons, "config reload failed (the previous configuration keeps running): "+firstLine(d.reloadErr.Error()))
	}
	d.mu.RUnlock()
	if d.fallback != nil && !d.fallback.Healthy() {
		reasons = append(reasons, "redis unreachable: probing with local state and scheduling; will catch up when it returns")
	}
	if d.dispatcher != nil {
		for _, h := range d.dispatcher.Health() {
			reasons = append(reasons, "notifications: "+h)
		}
	}
	return reasons
}
