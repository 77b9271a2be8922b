package daemon

import (
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/credmon/credmon/store"
)

// takeoverAfter is how long a replica may go unheard before the others
// take its checks over: two heartbeats.
const takeoverAfter = 2 * heartbeatEvery

// outageGrace is how long, while the shared store is unreachable, the
// replicas known alive when it went away are still taken to be alive.
// Every replica is in the same outage and hears from no one; probing only
// its own share keeps a short outage from tripling the load on the
// monitored APIs. After the grace each replica probes everything: a
// replica that died during a long outage must not leave its checks
// unprobed until the store returns.
const outageGrace = time.Minute

// membership is the live replicas as this one last heard of them through
// the store's heartbeats; ownership of each check follows from it.
type membership struct {
	self string

	mu        sync.Mutex
	seen      map[string]time.Time // replica → when it was last seen alive
	downSince time.Time            // when the store became unreachable; zero while it answers
}

func newMembership(self string) *membership {
	return &membership{self: self, seen: map[string]time.Time{}}
}

// heard records the replicas a heartbeat read returned.
func (m *membership) heard(live []store.Instance) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range live {
		if in.LastSeen.After(m.seen[in.ID]) {
			m.seen[in.ID] = in.LastSeen
		}
	}
}

// storeUp records the shared store's state changes.
func (m *membership) storeUp(up bool, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case up:
		m.downSince = time.Time{}
	case m.downSince.IsZero():
		m.downSince = now
	}
}

// live lists the replicas taken to be alive at now, this one always among
// them, sorted.
func (m *membership) live(now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{m.self}
	for id, seen := range m.seen {
		if id == m.self {
			continue
		}
		alive := now.Sub(seen) <= takeoverAfter
		if !m.downSince.IsZero() {
			// Heard from shortly before the outage, and the outage young.
			alive = m.downSince.Sub(seen) <= takeoverAfter && now.Sub(m.downSince) <= outageGrace
		}
		if alive {
			out = append(out, id)
		} else if now.Sub(seen) > time.Hour {
			delete(m.seen, id) // long gone: keep the map small
		}
	}
	slices.Sort(out)
	return out
}

// owns reports whether this replica owns key among the live replicas.
func (m *membership) owns(key string, now time.Time) bool {
	return owner(key, m.live(now)) == m.self
}

// owner picks key's owner among replicas by rendezvous (highest random
// weight) hashing: every replica with the same view picks the same owner,
// and a replica joining or leaving moves only its own share of the keys.
func owner(key string, replicas []string) string {
	var best string
	var bestW uint64
	for _, r := range replicas {
		if w := weight(r, key); best == "" || w > bestW || w == bestW && r < best {
			best, bestW = r, w
		}
	}
	return best
}

// weight is a 64-bit hash of (replica, key), FNV-1a with a final mix so
// that near-identical names spread evenly.
func weight(replica, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(replica))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	// splitmix64's finalizer.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
