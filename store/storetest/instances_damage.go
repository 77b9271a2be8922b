package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// DamagedReplica is the replica whose heartbeat CheckDamagedHeartbeat
// damages, between "replica-a" and "replica-c".
const DamagedReplica = "replica-b"

// HeartbeatSeeds are fuzz seeds for a stored heartbeat: a whole one of
// DamagedReplica, and values that are partial, of other types or no JSON.
var HeartbeatSeeds = []string{
	`{"id":"replica-b","host":"host-replica-b","version":"v1","started":"2026-12-04T09:00:00Z","last_seen":"2026-12-04T09:00:00Z"}`,
	`{"id":"replica-a"}`,
	`{"started":7}`,
	`null`,
	`{`,
	``,
}

// CheckDamagedHeartbeat holds an Instances driver to what a damaged or
// hostile stored heartbeat may do, for the drivers' tests and fuzzers. On
// a store s without heartbeats it records three, then plant stores raw
// as DamagedReplica's value and returns the value Heartbeat stored. Then:
//
//   - Instances lists replica-a and replica-c as they beat, and fails for
//     nothing else: an error is a *store.DamagedError (StoredHeartbeats)
//     naming only DamagedReplica, which is then left out;
//   - raw equal to the value Heartbeat stored reads as the heartbeat;
//   - DamagedReplica's next heartbeat replaces the damage.
func CheckDamagedHeartbeat(t *testing.T, s store.Store, plant func(id string, raw []byte) (stored []byte, err error), raw []byte) {
	t.Helper()
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	var beats []store.Instance
	for _, id := range []string{"replica-a", DamagedReplica, "replica-c"} {
		in := store.Instance{ID: id, Host: "host-" + id, Version: "v1", Started: at, LastSeen: at}
		heartbeat(t, s, in, time.Hour)
		beats = append(beats, in)
	}
	stored, err := plant(DamagedReplica, raw)
	if err != nil {
		t.Fatalf("planting %s: %v", DamagedReplica, err)
	}

	got, err := s.Instances(t.Context())
	if err != nil {
		var d *store.DamagedError
		if !errors.As(err, &d) || d.What != store.StoredHeartbeats || !slices.Equal(d.Keys, []string{DamagedReplica}) {
			t.Fatalf("Instances error = %v; want none or a *store.DamagedError naming only %s", err, DamagedReplica)
		}
		if len(got) != 2 {
			t.Fatalf("Instances = %+v with %s damaged; want the two others only", got, DamagedReplica)
		}
		wantInstances(t, got, beats[0], beats[2])
	}
	for _, want := range []store.Instance{beats[0], beats[2]} {
		if !slices.ContainsFunc(got, func(in store.Instance) bool {
			return in.ID == want.ID && in.Host == want.Host && in.LastSeen.Equal(want.LastSeen)
		}) {
			t.Fatalf("Instances = %+v; %s, whose heartbeat is not damaged, is missing", got, want.ID)
		}
	}
	if bytes.Equal(raw, stored) {
		wantInstances(t, got, beats...)
	}

	heartbeat(t, s, beats[1], time.Hour)
	wantInstances(t, instances(t, s), beats...)
}
