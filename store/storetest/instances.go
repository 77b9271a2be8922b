package storetest

import (
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// RunInstances is the Instances contract; open is as for RunKV.
func RunInstances(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := freshStore(open)
	t.Run("HeartbeatList", func(t *testing.T) { testHeartbeatList(t, fresh(t)) })
	t.Run("Expiry", func(t *testing.T) { testInstanceExpiry(t, fresh(t)) })
	t.Run("NeedsTTL", func(t *testing.T) { testHeartbeatNeedsTTL(t, fresh(t)) })
}

func heartbeat(t *testing.T, s store.Store, in store.Instance, ttl time.Duration) {
	t.Helper()
	if err := s.Heartbeat(t.Context(), in, ttl); err != nil {
		t.Fatalf("Heartbeat(%s): %v", in.ID, err)
	}
}

func instances(t *testing.T, s store.Store) []store.Instance {
	t.Helper()
	got, err := s.Instances(t.Context())
	if err != nil {
		t.Fatalf("Instances: %v", err)
	}
	return got
}

func wantInstances(t *testing.T, got []store.Instance, want ...store.Instance) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.ID == w.ID && g.Host == w.Host && g.Version == w.Version &&
			g.Started.Equal(w.Started) && g.LastSeen.Equal(w.LastSeen)
	}
	if !ok {
		t.Errorf("Instances:\n got %+v\nwant %+v", got, want)
	}
}

func testHeartbeatList(t *testing.T, s store.Store) {
	wantInstances(t, instances(t, s))
	b := store.Instance{ID: "replica-b", Host: "node-2", Version: "1.2.3", Started: base, LastSeen: base.Add(time.Second)}
	a := store.Instance{ID: "replica-a", Host: "node-1", Version: "1.2.3", Started: base.Add(-time.Hour), LastSeen: base}
	heartbeat(t, s, b, LongTTL)
	heartbeat(t, s, a, LongTTL)
	wantInstances(t, instances(t, s), a, b)
	// A later heartbeat replaces the earlier one.
	a.LastSeen = base.Add(time.Minute)
	heartbeat(t, s, a, LongTTL)
	wantInstances(t, instances(t, s), a, b)
}

func testInstanceExpiry(t *testing.T, s store.Store) {
	a := store.Instance{ID: "replica-a", Started: base, LastSeen: base}
	b := store.Instance{ID: "replica-b", Started: base, LastSeen: base}
	heartbeat(t, s, a, LongTTL)
	heartbeat(t, s, b, ShortTTL)
	if almostExpire(s) {
		wantInstances(t, instances(t, s), a, b)
	}
	expire(t, s, func() bool { return len(instances(t, s)) == 1 })
	wantInstances(t, instances(t, s), a)
	// A replica that comes back is listed again.
	heartbeat(t, s, b, LongTTL)
	wantInstances(t, instances(t, s), a, b)
}

func testHeartbeatNeedsTTL(t *testing.T, s store.Store) {
	if err := s.Heartbeat(t.Context(), store.Instance{ID: "a"}, 0); err == nil {
		t.Error("Heartbeat with ttl 0 succeeded; want an error (it would never expire)")
	}
}
