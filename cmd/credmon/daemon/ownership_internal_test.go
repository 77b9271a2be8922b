package daemon

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// Rendezvous hashing: every replica with the same view agrees, the keys
// spread evenly, and a replica leaving moves its own keys only.
func TestOwnerSpreadsAndMovesOnlyTheLeaversKeys(t *testing.T) {
	three := []string{"credmon-0", "credmon-1", "credmon-2"}
	two := []string{"credmon-0", "credmon-2"}
	const n = 9000
	count := map[string]int{}
	moved := 0
	for i := range n {
		key := fmt.Sprintf("prod/check-%d", i)
		o3 := owner(key, three)
		if o3 != owner(key, []string{"credmon-2", "credmon-0", "credmon-1"}) {
			t.Fatalf("owner of %s depends on the order replicas are listed", key)
		}
		count[o3]++
		o2 := owner(key, two)
		if o3 != "credmon-1" && o2 != o3 {
			t.Fatalf("%s moved from %s to %s though %s stayed", key, o3, o2, o3)
		}
		if o3 == "credmon-1" {
			moved++
		}
	}
	for _, r := range three {
		if c := count[r]; c < n/3*9/10 || c > n/3*11/10 {
			t.Errorf("%s owns %d of %d keys; want about a third", r, c, n)
		}
	}
	if moved != count["credmon-1"] {
		t.Errorf("moved %d keys, want exactly the leaver's %d", moved, count["credmon-1"])
	}
	if owner("prod/x", nil) != "" || owner("prod/x", []string{"solo"}) != "solo" {
		t.Error("owner with no replicas or one")
	}
}

// Who is alive: heard from within two heartbeats while the store answers;
// during an outage, those alive when it began, for outageGrace; then this
// replica alone.
func TestMembershipTakeoverAndOutageGrace(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	m := newMembership("b", 0)
	m.heard([]store.Instance{{ID: "a", LastSeen: t0}, {ID: "b", LastSeen: t0}, {ID: "c", LastSeen: t0.Add(-time.Minute)}}, t0)
	if got := m.live(t0.Add(time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("live = %v, want [a b] (c unheard for a minute)", got)
	}
	if got := m.live(t0.Add(takeoverAfter + time.Second)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("live after the takeover time = %v, want [b]", got)
	}

	m.heard([]store.Instance{{ID: "a", LastSeen: t0.Add(5 * time.Second)}}, t0.Add(5*time.Second))
	m.storeUp(false, t0.Add(6*time.Second))
	// Nobody is heard from during the outage; a is still taken to be alive.
	if got := m.live(t0.Add(40 * time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("live 34s into an outage = %v, want [a b]", got)
	}
	if got := m.live(t0.Add(6*time.Second + defaultOutageGrace + time.Second)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("live after the outage grace = %v, want [b]", got)
	}
	m.storeUp(true, t0.Add(2*time.Minute))
	m.heard([]store.Instance{{ID: "a", LastSeen: t0.Add(2 * time.Minute)}}, t0.Add(2*time.Minute))
	if got := m.live(t0.Add(2*time.Minute + time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("live after the store returned = %v, want [a b]", got)
	}
	// A replica owns a key exactly when owner() picks it from the live set.
	now := t0.Add(2*time.Minute + time.Second)
	for i := range 100 {
		key := fmt.Sprintf("prod/c%d", i)
		if m.owns(key, now) != (owner(key, []string{"a", "b"}) == "b") {
			t.Fatalf("owns(%s) disagrees with owner()", key)
		}
	}
}

// A replica whose clock runs an hour ahead stamps its heartbeats an hour
// ahead. Once it stops, it is taken for gone takeoverAfter after it was
// last heard, not an hour later: its share of the checks would go
// unprobed all that time.
func TestMembershipOfAReplicaWhoseClockRunsAhead(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	m := newMembership("b", 0)
	m.heard([]store.Instance{{ID: "a", LastSeen: t0.Add(time.Hour)}, {ID: "b", LastSeen: t0}}, t0)
	if got := m.live(t0.Add(time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("live just after = %v, want [a b]", got)
	}
	if got := m.live(t0.Add(takeoverAfter + time.Second)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("live after the takeover time = %v, want [b]: a was last heard at t0", got)
	}
}

// Who decides incidents: every replica while the store answers; during an
// outage the owner among those alive when it began, also long after the
// probing grace — exactly one of them for every key.
func TestMembershipDecidesDuringAnOutage(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ms := map[string]*membership{}
	for _, id := range []string{"a", "b", "c"} {
		m := newMembership(id, time.Second)
		m.heard([]store.Instance{{ID: "a", LastSeen: t0}, {ID: "b", LastSeen: t0}, {ID: "c", LastSeen: t0}, {ID: "gone", LastSeen: t0.Add(-time.Hour)}}, t0)
		ms[id] = m
	}
	for _, m := range ms {
		if !m.decides("prod/x") {
			t.Fatalf("%s does not decide while the store answers", m.self)
		}
	}
	for _, m := range ms {
		m.storeUp(false, t0.Add(time.Second))
	}
	later := t0.Add(time.Hour) // far past the grace
	deciders := map[string]int{}
	for i := range 300 {
		key := fmt.Sprintf("prod/c%d", i)
		n := 0
		for id, m := range ms {
			if m.decides(key) {
				n++
				deciders[id]++
			}
			if got := m.live(later); !slices.Equal(got, []string{m.self}) {
				t.Fatalf("%s probes as %v after the grace, want itself alone", m.self, got)
			}
		}
		if n != 1 {
			t.Fatalf("%s is decided by %d replicas during the outage, want 1", key, n)
		}
	}
	if len(deciders) != 3 {
		t.Errorf("deciders %v: want all three to decide a share", deciders)
	}
	// A replica that heard of no one before the outage decides everything.
	alone := newMembership("solo", time.Second)
	alone.storeUp(false, t0)
	if !alone.decides("prod/x") || !alone.decides("prod/y") {
		t.Error("a replica alone must decide every incident")
	}
}
