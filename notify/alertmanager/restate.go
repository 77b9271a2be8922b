package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Why a loop here, and not reminders: Alertmanager ends an alert at its
// endsAt (or resolve_timeout after the last post, 5m by default), while an
// incident's reminders come every alerting.remind_every (4h), or never.
// So open alerts are restated every RepostEvery, each post moving endsAt
// lifetimes rounds ahead, like Prometheus resending firing alerts. The
// alerts live in the store, not in this process, so a restart or the
// death of the replica that posted them does not let them lapse: any
// replica restates all of them, one per round when Claims is set.

// Run restates the open alerts every RepostEvery until ctx is done. A
// round that fails is logged (once per change of error) and the next
// round tries again.
func (n *Notifier) Run(ctx context.Context) error {
	t := time.NewTicker(n.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := n.Round(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && err.Error() != n.lastLoop:
			n.log.Warn("alertmanager: restating open alerts failed; the next round tries again", "err", err)
			n.lastLoop = err.Error()
		case err == nil && n.lastLoop != "":
			n.log.Info("alertmanager: restating open alerts works again")
			n.lastLoop = ""
		}
	}
}

// Round restates every stored alert once: firing ones with a fresh
// endsAt, resolutions as they are. Run calls it; tests call it directly.
//
// A round can race with Notify: it reads an alert, Notify stores and
// posts a newer version (a resolution), then the round posts the old one
// over it. Notify stores before it posts, so the round reads the store
// again after posting and posts whatever changed since: whichever order
// the posts arrive in, the last one each Alertmanager sees is the newest.
func (n *Notifier) Round(ctx context.Context) error {
	now := n.now()
	if n.claims != nil {
		round := now.UnixNano() / int64(n.every)
		ok, err := n.claims.Claim(ctx, fmt.Sprintf("%s%d", claimPrefix, round), n.owner, n.every)
		if err != nil {
			return fmt.Errorf("alertmanager: claim restatement round: %w", err)
		}
		if !ok {
			return nil // another replica restates this round
		}
	}
	// The store first, then the open incidents: an alert stored means its
	// incident had opened, so an incident missing from the later list has
	// really closed since.
	before, err := n.kv.Scan(ctx, kvPrefix)
	if err != nil {
		return fmt.Errorf("alertmanager: list open alerts: %w", err)
	}
	var open map[string]time.Time
	if n.open != nil {
		if open, err = n.open(ctx); err != nil {
			return fmt.Errorf("alertmanager: list open incidents: %w", err)
		}
	}
	var alerts []Alert
	for _, key := range sortedKeys(before) {
		e, ok := decode(before[key])
		if !ok {
			continue
		}
		if open != nil && !e.Resolved {
			since, isOpen := open[key[len(kvPrefix):]]
			if !isOpen || since.After(e.Since) {
				// The incident closed without a resolution reaching us:
				// end the alert, unless Notify rewrote it meanwhile.
				ended := e
				ended.Resolved = true
				ended.Alert.EndsAt = later(now, e.Alert.StartsAt)
				raw, err := json.Marshal(ended)
				if err != nil {
					continue
				}
				swapped, err := n.kv.CompareAndSwap(ctx, key, before[key], raw, n.ttl(ended))
				if err != nil || !swapped {
					continue
				}
				before[key], e = raw, ended
			}
		}
		alerts = append(alerts, n.restated(e, now))
	}
	if len(alerts) == 0 {
		return nil
	}
	_, postErr := n.post(ctx, alerts)

	after, err := n.kv.Scan(ctx, kvPrefix)
	if err != nil {
		return fmt.Errorf("alertmanager: list open alerts: %w", err)
	}
	var changed []Alert
	for _, key := range sortedKeys(after) {
		old, had := before[key]
		if !had || bytes.Equal(old, after[key]) {
			// New since the first read: its Notify posts it after storing it.
			continue
		}
		if e, ok := decode(after[key]); ok {
			changed = append(changed, n.restated(e, n.now()))
		}
	}
	if len(changed) > 0 {
		if _, err := n.post(ctx, changed); err != nil && postErr == nil {
			postErr = err
		}
	}
	return postErr
}

// restated is e as the next post states it.
func (n *Notifier) restated(e entry, now time.Time) Alert {
	a := e.Alert
	if !e.Resolved {
		a.EndsAt = now.Add(lifetimes * n.every)
	}
	return a
}

func decode(raw []byte) (entry, bool) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil || len(e.Alert.Labels) == 0 {
		return entry{}, false
	}
	return e, true
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
