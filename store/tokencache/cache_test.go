package tokencache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/tokencache"
)

const (
	fakeAccess  = "at_FAKE_access_token_7f3a9c"
	fakeRefresh = "rt_FAKE_refresh_token_51be0d"
	key         = "prod/billing-client"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, tokencache.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newCache(t testing.TB, kv store.KV, claims store.Claims, k []byte, owner string) (*tokencache.Cache, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	c, err := tokencache.New(kv, claims, k, owner, tokencache.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, logs
}

func token(expiresIn time.Duration, refresh string) *checks.Token {
	now := time.Now().Round(0)
	return &checks.Token{AccessToken: fakeAccess, TokenType: "Bearer", RefreshToken: refresh,
		Expiry: now.Add(expiresIn), ExpirySource: "expires_in", FetchedAt: now}
}

func sameToken(a, b *checks.Token) bool {
	return a != nil && b != nil && a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.TokenType == b.TokenType && a.Expiry.Equal(b.Expiry) && a.FetchedAt.Equal(b.FetchedAt) && a.ExpirySource == b.ExpirySource
}

func TestRoundTripAcrossReplicas(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			kv, claims := b.open(t)
			k := newKey(t)
			a, _ := newCache(t, kv, claims, k, "replica-a")
			other, _ := newCache(t, kv, claims, k, "replica-b")
			ctx := context.Background()
			if got, err := other.LoadToken(ctx, key); err != nil || got != nil {
				t.Fatalf("empty cache: LoadToken = %v, %v; want nil, nil", got != nil, err)
			}
			want := token(time.Hour, fakeRefresh)
			if err := a.StoreToken(ctx, key, want); err != nil {
				t.Fatal(err)
			}
			got, err := other.LoadToken(ctx, key)
			if err != nil || !sameToken(got, want) {
				t.Fatalf("another replica loaded %+v, %v; want the stored token", got != nil, err)
			}
			raw, err := kv.Get(ctx, "token:"+key)
			if err != nil {
				t.Fatalf("sealed token not under token:%s: %v", key, err)
			}
			if bytes.Contains(raw, []byte(fakeAccess)) || bytes.Contains(raw, []byte(fakeRefresh)) || bytes.Contains(raw, []byte("expires_in")) {
				t.Fatal("stored value contains plaintext")
			}
		})
	}
}

func TestNonceIsFreshPerWrite(t *testing.T) {
	s := newFakeStore()
	c, _ := newCache(t, s, s, newKey(t), "r")
	ctx := context.Background()
	tok := token(time.Hour, "")
	var blobs [][]byte
	for range 2 {
		if err := c.StoreToken(ctx, key, tok); err != nil {
			t.Fatal(err)
		}
		b, _ := s.Get(ctx, "token:"+key)
		blobs = append(blobs, b)
	}
	if bytes.Equal(blobs[0], blobs[1]) || bytes.Equal(blobs[0][1:13], blobs[1][1:13]) {
		t.Fatal("two writes of one token gave the same ciphertext or nonce")
	}
}

func TestWrongKeyIsACountedMiss(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			kv, claims := b.open(t)
			a, _ := newCache(t, kv, claims, newKey(t), "replica-a")
			other, logs := newCache(t, kv, claims, newKey(t), "replica-b")
			ctx := context.Background()
			if err := a.StoreToken(ctx, key, token(time.Hour, fakeRefresh)); err != nil {
				t.Fatal(err)
			}
			got, err := other.LoadToken(ctx, key)
			if err != nil || got != nil {
				t.Fatalf("wrong key: LoadToken = %v, %v; want a miss (nil, nil)", got != nil, err)
			}
			if n := other.OpenFailures(); n != 1 {
				t.Errorf("OpenFailures = %d, want 1", n)
			}
			out := logs.String()
			if !strings.Contains(out, "cached token ignored") || !strings.Contains(out, key) {
				t.Errorf("the failure was not logged with the credential: %q", out)
			}
			if strings.Contains(out, "FAKE") {
				t.Errorf("log leaks a token: %q", out)
			}
			// The replica with the right key still reads it.
			if got, _ := a.LoadToken(ctx, key); got == nil {
				t.Fatal("the right key no longer opens the token")
			}
		})
	}
}

func TestBlobIsBoundToItsCredential(t *testing.T) {
	s := newFakeStore()
	c, _ := newCache(t, s, s, newKey(t), "r")
	ctx := context.Background()
	if err := c.StoreToken(ctx, "prod/a", token(time.Hour, "")); err != nil {
		t.Fatal(err)
	}
	blob, _ := s.Get(ctx, "token:prod/a")
	_ = s.Set(ctx, "token:dev/b", blob, 0)
	if got, err := c.LoadToken(ctx, "dev/b"); err != nil || got != nil {
		t.Fatalf("a blob copied to another credential opened: %v, %v", got != nil, err)
	}
	if n := c.OpenFailures(); n != 1 {
		t.Errorf("OpenFailures = %d, want 1", n)
	}
	blob[len(blob)-1] ^= 1
	_ = s.Set(ctx, "token:prod/a", blob, 0)
	if got, _ := c.LoadToken(ctx, "prod/a"); got != nil {
		t.Fatal("a tampered blob opened")
	}
}

func TestTTL(t *testing.T) {
	s := newFakeStore()
	c, _ := newCache(t, s, s, newKey(t), "r")
	ctx := context.Background()

	if err := c.StoreToken(ctx, "prod/rt", token(time.Hour, fakeRefresh)); err != nil {
		t.Fatal(err)
	}
	if ttl := s.ttl["token:prod/rt"]; ttl != 0 {
		t.Errorf("token with a refresh token stored with TTL %s, want none", ttl)
	}
	if err := c.StoreToken(ctx, "prod/cc", token(time.Hour, "")); err != nil {
		t.Fatal(err)
	}
	if ttl := s.ttl["token:prod/cc"]; ttl <= time.Hour || ttl > 2*time.Hour {
		t.Errorf("access-only token expiring in 1h stored with TTL %s, want a little over 1h", ttl)
	}
	if err := c.StoreToken(ctx, "prod/old", token(-time.Hour, "")); err != nil {
		t.Fatal(err)
	}
	if ttl := s.ttl["token:prod/old"]; ttl <= 0 {
		t.Errorf("expired token stored with TTL %s: it would never go away", ttl)
	}
}

func TestDeleteIsCompareAndDelete(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			kv, claims := b.open(t)
			k := newKey(t)
			a, _ := newCache(t, kv, claims, k, "replica-a")
			other, _ := newCache(t, kv, claims, k, "replica-b")
			ctx := context.Background()
			old := token(time.Hour, "")
			if err := a.StoreToken(ctx, key, old); err != nil {
				t.Fatal(err)
			}
			newer := token(time.Hour, "")
			newer.AccessToken = "at_FAKE_newer_token"
			if err := other.StoreToken(ctx, key, newer); err != nil {
				t.Fatal(err)
			}
			// a saw a 401 with the old token and drops it: the newer stays.
			if err := a.DeleteToken(ctx, key, old.AccessToken); err != nil {
				t.Fatal(err)
			}
			if got, _ := a.LoadToken(ctx, key); got == nil || got.AccessToken != newer.AccessToken {
				t.Fatal("DeleteToken of a stale access token removed the newer token")
			}
			if err := a.DeleteToken(ctx, key, newer.AccessToken); err != nil {
				t.Fatal(err)
			}
			if got, _ := other.LoadToken(ctx, key); got != nil {
				t.Fatal("DeleteToken of the current token left it in place")
			}
		})
	}
}

func TestReplaceOnlyTheSameToken(t *testing.T) {
	s := newFakeStore()
	k := newKey(t)
	a, _ := newCache(t, s, s, k, "replica-a")
	other, _ := newCache(t, s, s, k, "replica-b")
	ctx := context.Background()
	t1 := token(time.Hour, "rt_FAKE_1")
	if err := a.StoreToken(ctx, key, t1); err != nil {
		t.Fatal(err)
	}
	t2 := token(time.Hour, "rt_FAKE_2")
	t2.AccessToken = "at_FAKE_second"
	if err := other.StoreToken(ctx, key, t2); err != nil {
		t.Fatal(err)
	}
	blank := *t1
	blank.AccessToken = ""
	if err := a.ReplaceToken(ctx, key, t1.AccessToken, &blank); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.LoadToken(ctx, key); got == nil || got.RefreshToken != "rt_FAKE_2" {
		t.Fatal("ReplaceToken put back a refresh token that was already rotated")
	}
	blank2 := *t2
	blank2.AccessToken = ""
	if err := a.ReplaceToken(ctx, key, t2.AccessToken, &blank2); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.LoadToken(ctx, key); got == nil || got.AccessToken != "" || got.RefreshToken != "rt_FAKE_2" {
		t.Fatal("ReplaceToken of the current token did not replace it")
	}
}

func TestStoreDownServesHeldToken(t *testing.T) {
	s := newFakeStore()
	c, logs := newCache(t, s, s, newKey(t), "r")
	ctx := context.Background()
	want := token(time.Hour, fakeRefresh)
	if err := c.StoreToken(ctx, key, want); err != nil {
		t.Fatal(err)
	}
	s.setDown(true)
	if got, err := c.LoadToken(ctx, key); err != nil || !sameToken(got, want) {
		t.Fatalf("store down: LoadToken = %v, %v; want the token this replica holds", got != nil, err)
	}
	if _, err := c.LoadToken(ctx, "prod/never-seen"); err == nil {
		t.Fatal("store down and nothing held: want the store's error")
	}
	rotated := token(time.Hour, "rt_FAKE_rotated")
	if err := c.StoreToken(ctx, key, rotated); err == nil {
		t.Fatal("StoreToken with the store down reported success")
	}
	if !strings.Contains(logs.String(), "token not shared") || strings.Contains(logs.String(), "FAKE") {
		t.Errorf("store failure not logged, or logged with a secret: %q", logs.String())
	}
	if got, _ := c.LoadToken(ctx, key); got == nil || got.RefreshToken != "rt_FAKE_rotated" {
		t.Fatal("a rotated refresh token that could not be shared was not kept locally")
	}
}

func TestLockRefresh(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			kv, claims := b.open(t)
			k := newKey(t)
			a, _ := newCache(t, kv, claims, k, "replica-a")
			other, _ := newCache(t, kv, claims, k, "replica-b")
			ctx := context.Background()
			unlock, ok, err := a.LockRefresh(ctx, key, 30*time.Second)
			if err != nil || !ok {
				t.Fatalf("first LockRefresh = %v, %v; want it taken", ok, err)
			}
			if _, ok, _ := other.LockRefresh(ctx, key, 30*time.Second); ok {
				t.Fatal("another replica took a held refresh lock")
			}
			if _, ok, _ := a.LockRefresh(ctx, key, 30*time.Second); ok {
				t.Fatal("the same replica took its held refresh lock twice (a reload's second credential would double-fetch)")
			}
			if _, ok, _ := other.LockRefresh(ctx, "prod/another", 30*time.Second); !ok {
				t.Fatal("the lock of one credential blocks another")
			}
			unlock()
			unlock2, ok, err := other.LockRefresh(ctx, key, 30*time.Second)
			if err != nil || !ok {
				t.Fatalf("after unlock: LockRefresh = %v, %v; want it taken", ok, err)
			}
			unlock2()
		})
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	s := newFakeStore()
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := tokencache.New(s, s, make([]byte, n), "r"); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
	if _, err := tokencache.New(nil, s, newKey(t), "r"); err == nil {
		t.Error("New accepted a nil KV")
	}
	if _, err := tokencache.New(s, s, newKey(t), ""); err == nil {
		t.Error("New accepted an empty owner")
	}
}
