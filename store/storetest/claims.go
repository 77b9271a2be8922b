package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// RunClaims is the Claims contract; open is as for RunKV.
func RunClaims(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := freshStore(open)
	t.Run("Exclusive", func(t *testing.T) { testClaimExclusive(t, fresh(t)) })
	t.Run("ReleaseOnlyByOwner", func(t *testing.T) { testRelease(t, fresh(t)) })
	t.Run("Expiry", func(t *testing.T) { testClaimExpiry(t, fresh(t)) })
	t.Run("Concurrent", func(t *testing.T) { testClaimConcurrent(t, fresh(t)) })
	t.Run("ApartFromKV", func(t *testing.T) { testClaimApartFromKV(t, fresh(t)) })
	t.Run("NeedsTTL", func(t *testing.T) { testClaimNeedsTTL(t, fresh(t)) })
}

func claim(t *testing.T, s store.Store, key, owner string, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.Claim(t.Context(), key, owner, ttl)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", key, owner, err)
	}
	return ok
}

func release(t *testing.T, s store.Store, key, owner string) {
	t.Helper()
	if err := s.Release(t.Context(), key, owner); err != nil {
		t.Fatalf("Release(%q, %q): %v", key, owner, err)
	}
}

func testClaimExclusive(t *testing.T, s store.Store) {
	const k = "tick:prod/api:1741944360"
	if !claim(t, s, k, "replica-a", LongTTL) {
		t.Fatal("first claim failed")
	}
	if claim(t, s, k, "replica-b", LongTTL) {
		t.Fatal("a second owner claimed a held key")
	}
	if !claim(t, s, k, "replica-a", LongTTL) {
		t.Error("the holder's own claim again was refused")
	}
	if !claim(t, s, "tick:prod/api:1741944420", "replica-b", LongTTL) {
		t.Error("another key was not free")
	}
}

func testRelease(t *testing.T, s store.Store) {
	const k = "tokenrefresh:prod/billing"
	claim(t, s, k, "replica-a", LongTTL)
	release(t, s, k, "replica-b")
	if claim(t, s, k, "replica-b", LongTTL) {
		t.Fatal("a release by a non-owner freed the claim")
	}
	release(t, s, k, "replica-a")
	if !claim(t, s, k, "replica-b", LongTTL) {
		t.Fatal("the owner's release did not free the claim")
	}
	release(t, s, "never-claimed", "replica-a")
}

func testClaimExpiry(t *testing.T, s store.Store) {
	const k = "tokenrefresh:prod/billing"
	if !claim(t, s, k, "replica-a", ShortTTL) {
		t.Fatal("first claim failed")
	}
	if almostExpire(s) && claim(t, s, k, "replica-b", LongTTL) {
		t.Fatal("claimed before the ttl ran out")
	}
	expire(t, s, func() bool { return claim(t, s, k, "replica-b", LongTTL) })
	// A holder whose claim expired cannot release its successor's.
	release(t, s, k, "replica-a")
	if claim(t, s, k, "replica-c", LongTTL) {
		t.Error("an expired owner's release freed the new owner's claim")
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const workers = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	won := make([]bool, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			<-start
			won[w], errs[w] = s.Claim(t.Context(), "tick:prod/api:1", string(rune('a'+w)), LongTTL)
		})
	}
	close(start)
	wg.Wait()
	n := 0
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		if won[w] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of %d concurrent owners won the claim, want exactly 1", n, workers)
	}
}

func testClaimApartFromKV(t *testing.T, s store.Store) {
	claim(t, s, "shared-name", "replica-a", LongTTL)
	if _, err := s.Get(t.Context(), "shared-name"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a claim is visible as a KV key: Get = %v", err)
	}
	mustSet(t, s, "shared-name", "value", 0)
	if claim(t, s, "shared-name", "replica-b", LongTTL) {
		t.Error("a KV write freed a claim of the same name")
	}
	release(t, s, "shared-name", "replica-a")
	mustGet(t, s, "shared-name", "value")
}

func testClaimNeedsTTL(t *testing.T, s store.Store) {
	// A claim without expiry would outlive a dead replica forever.
	for _, ttl := range []time.Duration{0, -time.Second} {
		if ok, err := s.Claim(t.Context(), "k", "o", ttl); err == nil {
			t.Errorf("Claim with ttl %s = %v, nil; want an error", ttl, ok)
		}
	}
}
