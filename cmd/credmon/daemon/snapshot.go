package daemon

import (
	"context"
	"sort"

	"github.com/credmon/credmon/cmd/credmon/web"
)

var _ web.Source = (*Daemon)(nil)

// Snapshot implements web.Source with the one snapshot builder: the
// running generation's checks, this replica's schedule, deadlines and
// readiness, and everything else from the store.
func (d *Daemon) Snapshot(ctx context.Context) (*web.Snapshot, error) {
	notReady := d.NotReady(ctx)
	v := web.View{
		Instance:           d.instance,
		Version:            d.opts.Version,
		NextRun:            d.sched.Next,
		CredentialSchedule: d.credentialSchedule(),
		NotReady:           notReady,
		Self:               &web.Instance{ID: d.instance, Version: d.opts.Version, Started: d.started},
		Windows:            d.silences.Windows(),
	}
	d.mu.RLock()
	gen := d.gen
	for _, c := range gen.built {
		v.Checks = append(v.Checks, web.Configured{Env: c.Env, Name: c.Name, Credential: c.Cfg.Credential, Schedule: c.Cfg.Schedule})
	}
	for _, dls := range d.deadlines {
		for _, dl := range dls {
			v.Deadlines = append(v.Deadlines, web.Deadline{Env: dl.Env, Credential: dl.Credential, Kind: dl.Kind, At: dl.At})
		}
	}
	if d.clockOffset.Known {
		off := d.clockOffset.Median
		v.ClockOffset = &off
	}
	d.mu.RUnlock()
	v.Knows = gen.knows
	sort.Slice(v.Deadlines, func(i, j int) bool { return v.Deadlines[i].At.Before(v.Deadlines[j].At) })
	return web.BuildSnapshot(ctx, d.store, v), nil
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i] + " …"
		}
	}
	return s
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
	if o, ok := d.store.(outageAware); ok && !o.Healthy() {
		reasons = append(reasons, "redis unreachable: probing with local state and scheduling; will catch up when it returns")
	}
	if d.dispatcher != nil {
		for _, h := range d.dispatcher.Health() {
			reasons = append(reasons, "notifications: "+h)
		}
	}
	return reasons
}
