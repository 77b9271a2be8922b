package daemon

import (
	"hash/fnv"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/credmon/credmon/store"
)

// takeoverAfter is how long a replica may go unheard before the others
// take its checks over: two heartbeats.
const takeoverAfter = 2 * heartbeatEvery

// earliestTakeover is how soon after this replica loses the shared store
// the others, if they still reach it, may take its checks over: its last
// heartbeat there can be one beat older than the outage.
const earliestTakeover = takeoverAfter - heartbeatEvery

// defaultOutageGrace is how long, while the shared store is unreachable, the
// replicas known alive when it went away are still taken to be alive.
// Every replica is in the same outage and hears from no one; probing only
// its own share keeps a short outage from tripling the load on the
// monitored APIs. After the grace each replica probes everything: a
// replica that died during a long outage must not leave its checks
// unprobed until the store returns.
const defaultOutageGrace = time.Minute

// membership is the live replicas as this one last heard of them through
// the store's heartbeats; ownership of each check follows from it.
type membership struct {
	self  string
	grace time.Duration // see defaultOutageGrace

	mu        sync.Mutex
	seen      map[string]time.Time // replica → when it was last seen alive
	downSince time.Time            // when the store became unreachable; zero while it answers
}

func newMembership(self string, grace time.Duration) *membership {
	if grace <= 0 {
		grace = defaultOutageGrace
	}
	return &membership{self: self, grace: grace, seen: map[string]time.Time{}}
}

// heard records the replicas a heartbeat read returned at now. A
// heartbeat stamped later than now (a replica whose clock runs ahead, or
// a damaged value) counts as heard now: trusted, it would keep a replica
// that died taken for alive — its share of the checks unprobed — until
// this clock passed the stamp.
func (m *membership) heard(live []store.Instance, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range live {
		at := in.LastSeen
		if at.After(now) {
			at = now
		}
		if at.After(m.seen[in.ID]) {
			m.seen[in.ID] = at
		}
	}
}

// view is the replicas heard of and when, to keep across a restart.
func (m *membership) view() map[string]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.seen)
}

// restore adds a view kept by an earlier run: a replica restarted during
// an outage then knows who was alive before it, instead of deciding every
// incident as if it were alone.
func (m *membership) restore(seen map[string]time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, at := range seen {
		if at.After(m.seen[id]) {
			m.seen[id] = at
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

// noticeSlack bounds how long after the shared view's last fresh
// heartbeat an outage may be noticed for that view to still count: a
// frozen Redis is noticed only when calls time out, seconds after the
// last heartbeat read.
const noticeSlack = time.Minute

// known lists the replicas known alive when the shared store was last
// heard, this one among them, sorted: during an outage the others' last
// heartbeats are all there is. The reference is the freshest of the
// others' heartbeats, not the moment the outage was noticed, which can
// come many seconds later (a frozen Redis hangs until calls time out).
// Callers hold m.mu.
func (m *membership) known() []string {
	var ref time.Time
	for id, seen := range m.seen {
		if id != m.self && seen.After(ref) {
			ref = seen
		}
	}
	out := []string{m.self}
	if ref.IsZero() || m.downSince.Sub(ref) > noticeSlack {
		return out // alone, or a view too old to trust
	}
	for id, seen := range m.seen {
		if id != m.self && ref.Sub(seen) <= takeoverAfter {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// live lists the replicas taken to be alive at now, this one always among
// them, sorted: heard from within takeoverAfter while the store answers;
// during an outage, those known alive when it began, for the grace.
func (m *membership) live(now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.downSince.IsZero() {
		if now.Sub(m.downSince) <= m.grace {
			return m.known()
		}
		return []string{m.self}
	}
	out := []string{m.self}
	for id, seen := range m.seen {
		if id == m.self {
			continue
		}
		if now.Sub(seen) <= takeoverAfter {
			out = append(out, id)
		} else if now.Sub(seen) > time.Hour {
			delete(m.seen, id) // long gone: keep the map small
		}
	}
	slices.Sort(out)
	return out
}

// decides reports whether this replica decides the incidents of key (a
// check's or a credential's job key) now. While the shared store answers
// every replica may: the store's compare-and-swap orders them. During an
// outage only the owner among the replicas known alive when it began
// does — with no grace: after outageGrace every replica probes every
// check, but if each also opened and announced incidents from its own
// probes, one failure would be announced once per replica. The others'
// probes still feed their metrics and pages; when the store returns the
// owner's incident state is written back, and a replica that died during
// the outage leaves its subjects to the next owner, which decides them
// from its probes then.
func (m *membership) decides(key string) bool {
	m.mu.Lock()
	if m.downSince.IsZero() {
		m.mu.Unlock()
		return true
	}
	known := m.known()
	m.mu.Unlock()
	return owner(key, known) == m.self
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
