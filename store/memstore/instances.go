package memstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/credmon/credmon/store"
)

var errHeartbeatTTL = errors.New("memstore: a heartbeat needs a positive ttl")

// Heartbeat records in as alive for ttl, replacing its earlier heartbeat.
func (s *Store) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return errHeartbeatTTL
	}
	// Kept encoded, like everything else here, so callers share nothing.
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("memstore: encode instance %s: %w", in.ID, err)
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.instances == nil {
		c.instances = make(map[string]item)
	}
	c.instances[in.ID] = item{val: data, exp: c.clock().Add(ttl)}
	return nil
}

// Instances lists replicas whose heartbeat has not expired, by ID.
func (s *Store) Instances(ctx context.Context) ([]store.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &s.coord
	c.mu.Lock()
	now := c.clock()
	data := map[string][]byte{}
	for id := range c.instances {
		if it, ok := live(c.instances, id, now); ok {
			data[id] = it.val
		}
	}
	c.mu.Unlock()
	out := make([]store.Instance, 0, len(data))
	damage := store.Damage{What: store.StoredHeartbeats} // as the other drivers
	for _, id := range slices.Sorted(maps.Keys(data)) {
		var in store.Instance
		if err := json.Unmarshal(data[id], &in); err != nil {
			damage.Add(id, err)
			continue
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b store.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, damage.Err()
}
