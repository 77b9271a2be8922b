package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// RunCoordination runs RunKV, RunClaims and RunInstances.
func RunCoordination(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("KV", func(t *testing.T) { RunKV(t, open) })
	t.Run("Claims", func(t *testing.T) { RunClaims(t, open) })
	t.Run("Instances", func(t *testing.T) { RunInstances(t, open) })
}

func freshStore(open func(t *testing.T) store.Store) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
}

// RunKV is the KV contract. open must return a new, empty store each time;
// a store that also has Advance(time.Duration) gets its clock moved
// instead of being waited for.
func RunKV(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := freshStore(open)
	t.Run("GetMissing", func(t *testing.T) { testGetMissing(t, fresh(t)) })
	t.Run("SetGet", func(t *testing.T) { testSetGet(t, fresh(t)) })
	t.Run("TTL", func(t *testing.T) { testKVTTL(t, fresh(t)) })
	t.Run("CompareAndSwap", func(t *testing.T) { testCAS(t, fresh(t)) })
	t.Run("CompareAndSwapTTL", func(t *testing.T) { testCASTTL(t, fresh(t)) })
	t.Run("CompareAndSwapConcurrent", func(t *testing.T) { testCASConcurrent(t, fresh(t)) })
	t.Run("ScanPrefix", func(t *testing.T) { testScanPrefix(t, fresh(t)) })
	t.Run("ScanGlobIsLiteral", func(t *testing.T) { testScanGlob(t, fresh(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testKVCancelled(t, fresh(t)) })
}

func mustGet(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func isGone(t *testing.T, s store.Store, key string) func() bool {
	return func() bool {
		_, err := s.Get(t.Context(), key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%q): %v", key, err)
		}
		return errors.Is(err, store.ErrNotFound)
	}
}

func mustSet(t *testing.T, s store.Store, key, val string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func cas(t *testing.T, s store.Store, key string, old, new []byte, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.CompareAndSwap(t.Context(), key, old, new, ttl)
	if err != nil {
		t.Fatalf("CompareAndSwap(%q, %q, %q): %v", key, old, new, err)
	}
	return ok
}

func scan(t *testing.T, s store.Store, prefix string) map[string]string {
	t.Helper()
	got, err := s.Scan(t.Context(), prefix)
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	out := make(map[string]string, len(got))
	for k, v := range got {
		out[k] = string(v)
	}
	return out
}

func testGetMissing(t *testing.T, s store.Store) {
	if v, err := s.Get(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %q, %v; want store.ErrNotFound", v, err)
	}
}

func testSetGet(t *testing.T, s store.Store) {
	val := []byte("v1")
	if err := s.Set(t.Context(), "incident:prod/api", val, 0); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the caller's slice is not the stored value
	mustGet(t, s, "incident:prod/api", "v1")
	got, _ := s.Get(t.Context(), "incident:prod/api")
	got[0] = 'Y' // nor is the slice handed back
	mustGet(t, s, "incident:prod/api", "v1")
	mustSet(t, s, "incident:prod/api", "v2", 0)
	mustGet(t, s, "incident:prod/api", "v2")
	// Binary values and the empty value survive; empty is present, not absent.
	bin := string([]byte{0, 0xff, '\n', '"'})
	mustSet(t, s, "bin", bin, 0)
	mustGet(t, s, "bin", bin)
	mustSet(t, s, "empty", "", 0)
	mustGet(t, s, "empty", "")
}

func testKVTTL(t *testing.T, s store.Store) {
	mustSet(t, s, "long", "kept", LongTTL)
	mustSet(t, s, "short", "gone", ShortTTL)
	mustSet(t, s, "forever", "kept", 0)
	// A Set without ttl removes an earlier ttl rather than keeping it.
	mustSet(t, s, "was-short", "x", ShortTTL)
	mustSet(t, s, "was-short", "kept", 0)
	if almostExpire(s) {
		mustGet(t, s, "short", "gone")
	}
	expire(t, s, isGone(t, s, "short"))
	mustGet(t, s, "long", "kept")
	mustGet(t, s, "forever", "kept")
	mustGet(t, s, "was-short", "kept")
	if got := scan(t, s, ""); len(got) != 3 || got["short"] != "" {
		t.Errorf("Scan after expiry = %q, want long, forever and was-short", got)
	}
}

func testCAS(t *testing.T, s store.Store) {
	const k = "band:prod/api"
	if !cas(t, s, k, nil, []byte("v1"), 0) {
		t.Fatal("create-if-absent on a missing key failed")
	}
	if cas(t, s, k, nil, []byte("other"), 0) {
		t.Fatal("create-if-absent on a present key succeeded")
	}
	mustGet(t, s, k, "v1")
	if cas(t, s, k, []byte("wrong"), []byte("other"), 0) {
		t.Fatal("swap with a wrong old value succeeded")
	}
	if cas(t, s, k, []byte(""), []byte("other"), 0) {
		t.Fatal("swap with an empty old value matched a non-empty value")
	}
	mustGet(t, s, k, "v1")
	if !cas(t, s, k, []byte("v1"), []byte("v2"), 0) {
		t.Fatal("swap with the right old value failed")
	}
	mustGet(t, s, k, "v2")
	if !cas(t, s, k, []byte("v2"), nil, 0) {
		t.Fatal("delete with the right old value failed")
	}
	if !isGone(t, s, k)() {
		t.Fatal("key still present after a CAS delete")
	}
	if cas(t, s, k, []byte("v2"), []byte("v3"), 0) {
		t.Fatal("swap on a missing key succeeded")
	}
	// An empty value is present: create-if-absent fails on it and a swap
	// from "" works.
	mustSet(t, s, "e", "", 0)
	if cas(t, s, "e", nil, []byte("x"), 0) {
		t.Fatal("create-if-absent succeeded over an empty value")
	}
	if !cas(t, s, "e", []byte(""), []byte("x"), 0) {
		t.Fatal("swap from the empty value failed")
	}
	mustGet(t, s, "e", "x")
}

func testCASTTL(t *testing.T, s store.Store) {
	if !cas(t, s, "lease", nil, []byte("a"), ShortTTL) {
		t.Fatal("create failed")
	}
	if !cas(t, s, "kept", nil, []byte("a"), ShortTTL) || !cas(t, s, "kept", []byte("a"), []byte("b"), 0) {
		t.Fatal("create then swap failed")
	}
	if almostExpire(s) {
		mustGet(t, s, "lease", "a")
	}
	expire(t, s, isGone(t, s, "lease"))
	// An expired value counts as absent.
	if !cas(t, s, "lease", nil, []byte("b"), 0) {
		t.Error("create-if-absent over an expired value failed")
	}
	if cas(t, s, "lease", []byte("a"), []byte("c"), 0) {
		t.Error("swap matched an expired value")
	}
	// The swap without ttl made "kept" permanent.
	mustGet(t, s, "kept", "b")
}

func testCASConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 20, 5
	const k = "incident:prod/api"
	var prev []byte
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		won := make([]bool, workers)
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				<-start
				won[w], errs[w] = s.CompareAndSwap(t.Context(), k, prev, fmt.Appendf(nil, "round %d by %d", round, w), 0)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w := range workers {
			if errs[w] != nil {
				t.Fatalf("round %d worker %d: %v", round, w, errs[w])
			}
			if won[w] {
				if winner >= 0 {
					t.Fatalf("round %d: workers %d and %d both won", round, winner, w)
				}
				winner = w
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won", round)
		}
		prev = fmt.Appendf(nil, "round %d by %d", round, winner)
		mustGet(t, s, k, string(prev))
	}
}

func testScanPrefix(t *testing.T, s store.Store) {
	for _, k := range []string{"a", "a/b", "a/bc", "a/b/c", "b/a"} {
		mustSet(t, s, k, "v:"+k, 0)
	}
	// Claims and heartbeats are not KV keys.
	if _, err := s.Claim(t.Context(), "a/b/claimed", "owner", LongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(t.Context(), store.Instance{ID: "a/b/replica"}, LongTTL); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string][]string{
		"a/b":  {"a/b", "a/bc", "a/b/c"},
		"a/b/": {"a/b/c"},
		"a/bc": {"a/bc"},
		"a":    {"a", "a/b", "a/bc", "a/b/c"},
		"":     {"a", "a/b", "a/bc", "a/b/c", "b/a"},
		"c":    {},
	} {
		wantMap := map[string]string{}
		for _, k := range want {
			wantMap[k] = "v:" + k
		}
		if got := scan(t, s, prefix); !reflect.DeepEqual(got, wantMap) {
			t.Errorf("Scan(%q) = %q, want %q", prefix, got, wantMap)
		}
	}
}

func testScanGlob(t *testing.T, s store.Store) {
	keys := []string{"x*", "x*y", "xy", "x[a]", "xa", "x?", "xb", `x\`, `x\y`, "x^", "x-"}
	for _, k := range keys {
		mustSet(t, s, k, "v:"+k, 0)
	}
	for prefix, want := range map[string][]string{
		"x*":   {"x*", "x*y"},
		"x[a]": {"x[a]"},
		"x[":   {"x[a]"},
		"x?":   {"x?"},
		`x\`:   {`x\`, `x\y`},
		"x^":   {"x^"},
	} {
		wantMap := map[string]string{}
		for _, k := range want {
			wantMap[k] = "v:" + k
		}
		if got := scan(t, s, prefix); !reflect.DeepEqual(got, wantMap) {
			t.Errorf("Scan(%q) = %q, want %q", prefix, got, wantMap)
		}
	}
}

func testKVCancelled(t *testing.T, s store.Store) {
	mustSet(t, s, "k", "v", 0)
	c, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Get(c, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with cancelled ctx = %v, want context.Canceled", err)
	}
	if err := s.Set(c, "k", []byte("x"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.CompareAndSwap(c, "k", []byte("v"), []byte("x"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("CompareAndSwap with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.Scan(c, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.Claim(c, "c", "o", LongTTL); !errors.Is(err, context.Canceled) {
		t.Errorf("Claim with cancelled ctx = %v, want context.Canceled", err)
	}
	mustGet(t, s, "k", "v")
}
