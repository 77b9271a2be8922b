package tokencache_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
	"github.com/credmon/credmon/store/tokencache"
)

// roundTrips is a go-redis hook counting commands sent (a pipeline is one
// round trip) and their names.
type roundTrips struct {
	mu    sync.Mutex
	n     int
	names map[string]int
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.n++
		h.names[cmd.Name()]++
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.n++
		h.names["pipeline"]++
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *roundTrips) reset() (int, map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, names := h.n, h.names
	h.n, h.names = 0, map[string]int{}
	return n, names
}

// cachedCredential is an oauth2 credential whose token is already in the
// shared cache on the real Redis; its token endpoint fails the test if
// called at all.
func cachedCredential(tb testing.TB) (checks.Credential, *roundTrips) {
	tb.Helper()
	client, prefix := storetest.Redis(tb)
	hook := &roundTrips{names: map[string]int{}}
	client.AddHook(hook)
	s := redisstore.New(client, prefix)
	cache, err := tokencache.New(s, s, newKey(tb), "bench")
	if err != nil {
		tb.Fatal(err)
	}
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tb.Error("token endpoint called on a cache hit")
		w.WriteHeader(http.StatusInternalServerError)
	}))
	tb.Cleanup(endpoint.Close)
	cfg := &config.Credential{Name: "cred", Env: "prod", Type: config.TypeOAuth2ClientCredentials, TokenURL: endpoint.URL,
		ClientID: "credmon-bench", ClientSecret: config.Literal("cs_FAKE_bench_secret")}
	cred, err := checks.NewCredential(cfg, checks.Deps{Transports: checks.NewTransports(), Now: time.Now, Tokens: cache})
	if err != nil {
		tb.Fatal(err)
	}
	if err := cache.StoreToken(context.Background(), "prod/cred", token(time.Hour, "")); err != nil {
		tb.Fatal(err)
	}
	return cred, hook
}

func TestSharedTokenHitIsOneGet(t *testing.T) {
	cred, hook := cachedCredential(t)
	ctx := context.Background()
	hook.reset()
	const n = 20
	for range n {
		a, err := cred.Authorize(ctx)
		if err != nil || a.Token != fakeAccess || a.Fetched {
			t.Fatalf("Authorize = %+v, %v; want the cached token", a != nil, err)
		}
	}
	got, names := hook.reset()
	if got != n || names["get"] != n {
		t.Fatalf("%d Authorize calls made %d redis round trips %v, want %d GETs", n, got, names, n)
	}
}

// BenchmarkSharedTokenHit measures Authorize when the token is cached in
// Redis: the cost is one GET and one AES-GCM open.
func BenchmarkSharedTokenHit(b *testing.B) {
	cred, hook := cachedCredential(b)
	ctx := context.Background()
	hook.reset()
	for b.Loop() {
		if _, err := cred.Authorize(ctx); err != nil {
			b.Fatal(err)
		}
	}
	n, _ := hook.reset()
	b.ReportMetric(float64(n)/float64(b.N), "roundtrips/op")
}
