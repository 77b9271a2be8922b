package redisstore

import (
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store/fallback"
)

// Unreachable is fallback.Unreachable with go-redis's own outage errors: a
// pool timeout, or a Redis loading its data, failing over or read-only,
// and a write its replicas did not confirm (ErrNotReplicated). A
// closed client is our own shutdown, not an outage. The daemon passes it as
// fallback.Options.Unreachable.
func Unreachable(err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.ErrClosed):
		return false
	case errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, ErrNotReplicated):
		return true
	}
	// MOVED and ASK reach us only when a Cluster's slots move faster than
	// go-redis follows them; NOREPLICAS is a master set to refuse writes
	// without its replicas (min-replicas-to-write). All pass with the switch.
	for _, prefix := range refusals {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return fallback.Unreachable(err)
}

// refusals are Redis's error replies to a call it did not carry out.
var refusals = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "MOVED", "ASK", "NOREPLICAS"}

// Uncertain is fallback.Uncertain with go-redis's own: a pool timeout
// (nothing was sent) and Redis's error replies refusing the call are
// certain; a write its replicas did not confirm (ErrNotReplicated) was
// carried out by the master and may survive. The daemon passes it as
// fallback.Options.Uncertain.
func Uncertain(err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.ErrPoolTimeout):
		return false
	case errors.Is(err, ErrNotReplicated):
		return true
	}
	for _, prefix := range refusals {
		if redis.HasErrorPrefix(err, prefix) {
			return false
		}
	}
	return fallback.Uncertain(err)
}
