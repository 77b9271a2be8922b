package checks_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
	"github.com/credmon/credmon/store/tokencache"
)

// sharedStore is what replicas share: memstore stands in for one Redis
// inside a process; redis is the real one. open returns a function giving
// each replica its own store value over the shared state.
type sharedStore struct {
	name string
	open func(t *testing.T) func() (store.KV, store.Claims)
}

var sharedStores = []sharedStore{
	{"memstore", func(*testing.T) func() (store.KV, store.Claims) {
		mem := memstore.New()
		return func() (store.KV, store.Claims) { return mem, mem }
	}},
	{"redis", func(t *testing.T) func() (store.KV, store.Claims) {
		client, prefix := storetest.Redis(t)
		return func() (store.KV, store.Claims) {
			s := redisstore.New(client, prefix)
			return s, s
		}
	}},
}

func sealKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, tokencache.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// replica builds one "process": its own Deps (transports, singleflight) and
// its own Cache instance over the shared store.
func replica(t *testing.T, kv store.KV, claims store.Claims, key []byte, owner, apiURL string, cred *config.Credential) (*checks.Check, *tokencache.Cache) {
	t.Helper()
	cache, err := tokencache.New(kv, claims, key, owner)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(apiURL, cred)
	f.deps.Tokens = cache
	return f.build(t), cache
}

func rtCred(te *tokenEndpoint) *config.Credential {
	return &config.Credential{Type: config.TypeOAuth2RefreshToken, TokenURL: te.URL, ClientID: fakeClientID,
		ClientSecret: config.Literal(fakeClientSecret), RefreshToken: config.Literal("rt_FAKE_0"), RefreshBefore: config.Duration(time.Minute)}
}

// runAcross runs n probes concurrently, alternating between replicas.
func runAcross(t *testing.T, n int, replicas ...*checks.Check) []checks.Result {
	t.Helper()
	results := make([]checks.Result, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = replicas[i%len(replicas)].Run(context.Background(), time.Now()) })
	}
	wg.Wait()
	return results
}

func TestSharedCacheOneGrantAcrossReplicas(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			shared := ss.open(t)
			te := newTokenEndpoint(t)
			api := tokenAPI(t, te, nil)
			key := sealKey(t)
			kvA, clA := shared()
			kvB, clB := shared()
			a, _ := replica(t, kvA, clA, key, "replica-a", api.URL, ccCred(te))
			b, _ := replica(t, kvB, clB, key, "replica-b", api.URL, ccCred(te))
			for _, r := range runAcross(t, 100, a, b) {
				wantCause(t, r, checks.CauseOK)
			}
			if n := te.grants.Load(); n != 1 {
				t.Fatalf("token endpoint granted %d tokens for 100 probes on 2 replicas, want 1", n)
			}
		})
	}
}

func TestSharedRefreshTokenRotationAcrossReplicas(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			shared := ss.open(t)
			te := newTokenEndpoint(t)
			api := tokenAPI(t, te, nil)
			key := sealKey(t)
			kvA, clA := shared()
			kvB, clB := shared()
			a, _ := replica(t, kvA, clA, key, "replica-a", api.URL, rtCred(te))
			b, cacheB := replica(t, kvB, clB, key, "replica-b", api.URL, rtCred(te))
			for round := range 4 {
				if round > 0 {
					te.revokeAll() // every replica's token is refused: all of them want a refresh at once
				}
				for _, r := range runAcross(t, 40, a, b) {
					// One replica redeeming a refresh token the other already
					// used would show as token_endpoint_rejected (invalid_grant).
					wantCause(t, r, checks.CauseOK)
				}
				if n, want := te.grants.Load(), int64(round+1); n != want {
					t.Fatalf("round %d: %d grants, want %d (one refresh per round for both replicas)", round, n, want)
				}
				tok, _ := cacheB.LoadToken(context.Background(), "prod/cred")
				if want := "rt_FAKE_" + string(rune('1'+round)); tok == nil || tok.RefreshToken != want {
					t.Fatalf("round %d: the shared cache does not hold the rotated refresh token", round)
				}
			}
			// A restarted replica: a new process, its config still naming
			// rt_FAKE_0, long redeemed. It must use the rotated one.
			te.revokeAll()
			kvC, clC := shared()
			c, _ := replica(t, kvC, clC, key, "replica-a-restarted", api.URL, rtCred(te))
			wantCause(t, c.Run(context.Background(), time.Now()), checks.CauseOK)
			if n := te.grants.Load(); n != 5 {
				t.Fatalf("restarted replica: %d grants, want 5", n)
			}
		})
	}
}

// claimWatch reports refused claims: the moment a replica starts waiting.
type claimWatch struct {
	store.Claims
	refused chan struct{}
}

func (w *claimWatch) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	ok, err := w.Claims.Claim(ctx, key, owner, ttl)
	if err == nil && !ok {
		select {
		case w.refused <- struct{}{}:
		default:
		}
	}
	return ok, err
}

// grant runs client_credentials by hand: another replica's fetch.
func grant(t *testing.T, te *tokenEndpoint) *checks.Token {
	t.Helper()
	resp, err := http.PostForm(te.URL, url.Values{"grant_type": {"client_credentials"}, "client_id": {fakeClientID}, "client_secret": {fakeClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("grant: %v", err)
	}
	return &checks.Token{AccessToken: body.AccessToken, TokenType: "Bearer", Expiry: time.Now().Add(5 * time.Minute), FetchedAt: time.Now()}
}

func TestSharedLoserWaitsForTheHoldersToken(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			shared := ss.open(t)
			te := newTokenEndpoint(t)
			api := tokenAPI(t, te, nil)
			key := sealKey(t)
			kvA, clA := shared()
			watch := &claimWatch{Claims: clA, refused: make(chan struct{}, 1)}
			a, _ := replica(t, kvA, watch, key, "replica-a", api.URL, ccCred(te))
			kvB, clB := shared()
			cacheB, err := tokencache.New(kvB, clB, key, "replica-b")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			unlock, ok, err := cacheB.LockRefresh(ctx, "prod/cred", 30*time.Second)
			if err != nil || !ok {
				t.Fatalf("replica b could not take the refresh lock: %v %v", ok, err)
			}
			done := make(chan checks.Result)
			go func() { done <- a.Run(ctx, time.Now()) }()
			select {
			case <-watch.refused:
			case r := <-done:
				t.Fatalf("replica a finished (%s) without meeting the held lock", r.Cause)
			case <-time.After(10 * time.Second):
				t.Fatal("replica a never tried the refresh lock")
			}
			// b completes its fetch while a waits.
			if err := cacheB.StoreToken(ctx, "prod/cred", grant(t, te)); err != nil {
				t.Fatal(err)
			}
			unlock()
			wantCause(t, <-done, checks.CauseOK)
			if n := te.grants.Load(); n != 1 {
				t.Fatalf("%d grants, want 1: the waiting replica fetched instead of using the holder's token", n)
			}
		})
	}
}

func TestSharedLockHolderDied(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			shared := ss.open(t)
			te := newTokenEndpoint(t)
			api := tokenAPI(t, te, nil)
			kv, claims := shared()
			// A replica took the lock and died: nothing will be stored.
			if ok, err := claims.Claim(context.Background(), "tokenrefresh:prod/cred", "dead-replica", 500*time.Millisecond); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			a, _ := replica(t, kv, claims, sealKey(t), "replica-a", api.URL, ccCred(te))
			wantCause(t, a.Run(context.Background(), time.Now()), checks.CauseOK)
			if n := te.grants.Load(); n != 1 {
				t.Fatalf("%d grants, want 1", n)
			}
		})
	}
}

// TestSharedCacheNoPlaintextInRedis reads back every byte credmon left in
// Redis after fetching and rotating tokens: no access token, refresh token
// or client secret may appear, in values or key names.
func TestSharedCacheNoPlaintextInRedis(t *testing.T) {
	client, prefix := storetest.Redis(t)
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	key := sealKey(t)
	s := redisstore.New(client, prefix)
	a, _ := replica(t, s, s, key, "replica-a", api.URL, rtCred(te))
	b, _ := replica(t, s, s, key, "replica-b", api.URL, rtCred(te))
	for range 2 {
		for _, r := range runAcross(t, 4, a, b) {
			wantCause(t, r, checks.CauseOK)
		}
		te.revokeAll()
	}
	if te.grants.Load() != 2 {
		t.Fatalf("grants = %d, want 2", te.grants.Load())
	}

	values, err := storetest.Values(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	var keys []string
	sawToken := false
	for k, vals := range values {
		keys = append(keys, k)
		sawToken = sawToken || strings.Contains(k, "token:prod/cred")
		dump.WriteString(k + "\n")
		for _, v := range vals {
			dump.WriteString(v + "\n")
		}
	}
	if !sawToken {
		t.Fatalf("no token key under %s (keys %q): nothing was checked", prefix, keys)
	}
	for _, secret := range []string{"at_FAKE", "rt_FAKE", fakeClientSecret, "access_token", "refresh_token"} {
		if strings.Contains(dump.String(), secret) {
			t.Errorf("redis holds %q in plain text", secret)
		}
	}
}
