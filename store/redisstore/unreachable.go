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
	return refused(err) || fallback.Unreachable(err)
}

// refused reports whether err is one of Redis's error replies to a call it
// did not carry out because it cannot serve it now.
func refused(err error) bool {
	for _, prefix := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "MOVED", "ASK", "NOREPLICAS"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}

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
	return !refused(err) && fallback.Uncertain(err)
}
