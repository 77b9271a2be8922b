package awssm_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// keyAPI is a loopback API that accepts the bearer keys it is told to and
// counts what it was sent.
type keyAPI struct {
	*httptest.Server
	mu       sync.Mutex
	accepted map[string]bool
	seen     map[string]int
}

func newKeyAPI(t *testing.T, keys ...string) *keyAPI {
	a := &keyAPI{accepted: map[string]bool{}, seen: map[string]int{}}
	for _, k := range keys {
		a.accepted[k] = true
	}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		ok := a.accepted[key]
		a.seen[key]++
		a.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *keyAPI) set(key string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.accepted[key] = ok
}

func (a *keyAPI) sent(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[key]
}

// clock is a settable clock for the tracker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventually polls cond until it holds, failing after a hang guard: the
// store cache re-reads Secrets Manager every refresh_every (1s here).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("credmon.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func build(t *testing.T, cfg *config.Config) []*checks.Check {
	t.Helper()
	all, err := checks.Build(cfg, checks.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return all
}
