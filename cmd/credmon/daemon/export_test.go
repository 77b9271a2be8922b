package daemon

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// QueueCapacities is what the serving daemon's result writer queue and
// each incident shard hold.
func (d *Daemon) QueueCapacities() (writer int, shards []int) {
	w, q := d.writer.Load(), d.incidentQ.Load()
	w.mu.RLock()
	writer = cap(w.ch)
	w.mu.RUnlock()
	q.mu.RLock()
	for _, ch := range q.shards {
		shards = append(shards, cap(ch))
	}
	q.mu.RUnlock()
	return writer, shards
}

// QueueSizes is what queueSize gives the result writer and an incident
// shard for n checks.
func QueueSizes(n int) (writer, shard int) {
	return queueSize(n, minWriterBuffer, maxWriterBuffer), queueSize(n/incidentShards, minIncidentBuffer, maxIncidentBuffer)
}

// Membership is the replicas d takes to be alive now and those its local
// buffer keeps for a restart (none without one): what heartbeats settle.
func (d *Daemon) Membership(ctx context.Context) (live, kept []string) {
	live = d.members.live(time.Now())
	if lk, ok := d.store.(localKeeper); ok {
		if raw, err := lk.Local().Get(ctx, membershipKey); err == nil {
			var seen map[string]time.Time
			if json.Unmarshal(raw, &seen) == nil {
				kept = slices.Sorted(maps.Keys(seen))
			}
		}
	}
	return live, kept
}
