package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/credmon/credmon/store"
)

// heartbeatEvery and heartbeatTTL: a replica that misses three beats is gone.
const (
	heartbeatEvery = 5 * time.Second
	heartbeatTTL   = 3 * heartbeatEvery
)

// claimTimeout bounds a tick claim: a claim takes a millisecond, and one
// that hangs (a frozen Redis) must not hold the tick back for long — it
// fails, the store is marked down, and the check runs locally.
const claimTimeout = time.Second

// claimTick reports whether this replica runs the tick. Only a shared store
// coordinates. Each check has an owner among the live replicas (see
// membership): the others leave its ticks alone, so in steady state one
// replica makes one claim per tick. The claim stays as the safety net for
// the moments replicas disagree on who is alive; it is never released, so
// a replica that starts late cannot run the same tick again. If the store
// cannot answer, the replica runs the check itself: a duplicate probe is
// better than a gap.
func (d *Daemon) claimTick(ctx context.Context, key string, tick time.Time, timeout time.Duration) bool {
	if !d.shared {
		return true
	}
	if !d.members.owns(key, time.Now()) {
		d.metrics.TickOwnedElsewhere()
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	ok, err := d.store.Claim(cctx, tickKey(key, tick), d.instance, 2*timeout+time.Minute)
	if err != nil {
		d.log.Debug("tick claim failed; running locally", "check", key, "err", err)
		return true
	}
	if !ok {
		d.metrics.TickClaimedElsewhere()
	}
	return ok
}

// firstHeartbeatAgain is how soon after the first beat the second comes:
// replicas started together then hear each other within a second, not
// after a whole heartbeatEvery.
const firstHeartbeatAgain = time.Second

// membershipKey holds, in the local buffer only, the membership this
// replica last heard through the shared store (see keepMembership).
const membershipKey = "daemon:membership"

// localKeeper is a store with a local part of this replica's own
// (store/fallback).
type localKeeper interface{ Local() store.KV }

// keepMembership writes the membership just heard into the local buffer,
// so a replica restarted during an outage knows who was alive before it.
func (d *Daemon) keepMembership(ctx context.Context) {
	lk, ok := d.store.(localKeeper)
	if !ok {
		return
	}
	raw, err := json.Marshal(d.members.view())
	if err == nil {
		err = lk.Local().Set(ctx, membershipKey, raw, 0)
	}
	if err != nil {
		d.log.Debug("membership not kept in the local buffer", "err", err)
	}
}

// restoreMembership reads what keepMembership kept in an earlier run.
func (d *Daemon) restoreMembership(ctx context.Context) {
	lk, ok := d.store.(localKeeper)
	if !ok {
		return
	}
	raw, err := lk.Local().Get(ctx, membershipKey)
	if err != nil {
		return // none kept yet
	}
	var seen map[string]time.Time
	if err := json.Unmarshal(raw, &seen); err != nil {
		d.log.Warn("the membership kept in the local buffer is unreadable; ignored", "err", err)
		return
	}
	d.members.restore(seen)
}

// heartbeat announces this replica until ctx ends.
func (d *Daemon) heartbeat(ctx context.Context) {
	host, _ := os.Hostname()
	in := store.Instance{ID: d.instance, Host: host, Version: d.opts.Version, Started: d.started}
	t := time.NewTicker(firstHeartbeatAgain)
	defer t.Stop()
	lastDamage := "" // said once, not every beat, until it changes
	for beat := 0; ; beat++ {
		if beat == 1 {
			t.Reset(heartbeatEvery)
		}
		in.LastSeen = time.Now()
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := d.store.Heartbeat(hctx, in, heartbeatTTL); err != nil && ctx.Err() == nil {
			d.log.Debug("heartbeat failed", "err", err)
		}
		if d.shared {
			live, err := d.store.Instances(hctx)
			damaged := (*store.DamagedError)(nil)
			if errors.As(err, &damaged) {
				// The replicas whose heartbeat does not read count as gone
				// until their next heartbeat replaces it; the others are
				// still heard, or every check would lose its owner.
				if msg := damaged.Error(); msg != lastDamage {
					d.log.Warn("replicas left out of the membership: their stored heartbeat does not read", "err", err)
					lastDamage = msg
				}
				err = nil
			} else if err == nil {
				lastDamage = ""
			}
			if err == nil {
				d.members.heard(live, time.Now())
				if o, ok := d.store.(outageAware); !ok || o.Healthy() {
					d.keepMembership(hctx) // heard through Redis, not the local buffer
				}
			}
		}
		cancel()
		if d.tokens != nil {
			d.metrics.TokenOpenFailures(d.tokens.OpenFailures())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tickKey is "tick:<check>:<unix>"; sub-second ticks (@every 250ms) add
// milliseconds so that two ticks of one second stay two claims.
func tickKey(check string, tick time.Time) string {
	k := "tick:" + check + ":" + strconv.FormatInt(tick.Unix(), 10)
	if ms := tick.Nanosecond() / int(time.Millisecond); ms != 0 {
		k += fmt.Sprintf(".%03d", ms)
	}
	return k
}
