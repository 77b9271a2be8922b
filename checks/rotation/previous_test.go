package rotation_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
)

// keyAPI is a loopback API that accepts the keys it is told to, answers 401
// invalid_token to any other, and records every Authorization it receives.
type keyAPI struct {
	*httptest.Server
	mu       sync.Mutex
	accept   map[string]bool
	received []string
	down     bool
}

func newKeyAPI(t *testing.T, keys ...string) *keyAPI {
	api := &keyAPI{accept: map[string]bool{}}
	api.Accept(keys...)
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		defer api.mu.Unlock()
		auth := r.Header.Get("Authorization")
		api.received = append(api.received, auth)
		switch {
		case api.down:
			w.WriteHeader(http.StatusServiceUnavailable)
		case api.accept[auth]:
			_, _ = w.Write([]byte(`{"ok":true}`))
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(api.Close)
	return api
}

// Accept replaces the accepted keys.
func (a *keyAPI) Accept(keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.accept)
	for _, k := range keys {
		a.accept["Bearer "+k] = true
	}
}

func (a *keyAPI) SetDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
}

// Received returns and forgets what the API received.
func (a *keyAPI) Received() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.received
	a.received = nil
	return out
}

// probeFor builds the check payments-account on c, as the daemon would.
func probeFor(t *testing.T, c *config.Credential, url string, clk *fakeClock) *checks.Check {
	t.Helper()
	chk := &config.Check{Name: "payments-account", Credential: c.Name, URL: url, Env: c.Env, Timeout: config.Duration(5 * time.Second)}
	env := &config.Environment{Name: c.Env, Credentials: map[string]*config.Credential{c.Name: c}, Checks: []*config.Check{chk}}
	cs, err := checks.Build(&config.Config{Environments: map[string]*config.Environment{c.Env: env}}, checks.Deps{Now: clk.Now})
	if err != nil || len(cs) != 1 {
		t.Fatalf("Build: %v (%d checks)", err, len(cs))
	}
	return cs[0]
}

func TestPreviousKeyGraceAndCompletion(t *testing.T) {
	api := newKeyAPI(t, keyA, keyB)
	c := cred(config.Literal(keyB), &config.Rotation{RotatedAt: "2026-03-01T00:00:00Z", Grace: config.Duration(48 * time.Hour)})
	c.Previous = config.Literal(keyA)
	clk := newClock(mustTime(t, "2026-03-02T00:00:00Z"))
	kv := newKV()
	tr := newTracker(kv, clk)
	probe := probeFor(t, c, api.URL, clk)

	// Within grace, a previous key that works is expected.
	ev := evaluate(t, tr, c, probe)
	wantResult(t, ev.Rotation, checks.CauseOK, "")
	if !strings.Contains(ev.Rotation.Detail, "still works") || !strings.Contains(ev.Rotation.Detail, "2026-03-03") || !strings.Contains(ev.Rotation.Detail, "in 1d") {
		t.Fatalf("within grace: detail %q", ev.Rotation.Detail)
	}
	if got := api.Received(); !slices.Equal(got, []string{"Bearer " + keyA}) {
		t.Fatalf("API received %q, want exactly the previous key", got)
	}
	if strings.Contains(ev.Rotation.Detail, "rotation complete") {
		t.Fatal("completed while the previous key works")
	}
	assertNoSecret(t, ev, keyA, keyB)

	// After grace, still accepted: a failure with the fix.
	clk.Set(mustTime(t, "2026-03-04T06:00:00Z"))
	ev = evaluate(t, tr, c, probe)
	r := ev.Rotation
	wantResult(t, r, checks.CausePreviousKeyStillValid, r.Band.String())
	if !strings.HasSuffix(r.Band.String(), "/previous") || !strings.Contains(r.Detail, "6h after its grace period ended") ||
		!strings.Contains(r.Hint, "Revoke") || !strings.Contains(r.Hint, "remove `previous`") || r.HTTPStatus != 200 {
		t.Fatalf("after grace: %+v", r)
	}
	assertNoSecret(t, ev, keyA, keyB)
	if got := api.Received(); !slices.Equal(got, []string{"Bearer " + keyA}) {
		t.Fatalf("API received %q, want the previous key", got)
	}

	// The provider revokes the old key: good news, said once.
	api.Accept(keyB)
	clk.Add(time.Hour)
	ev = evaluate(t, tr, c, probe)
	wantResult(t, ev.Rotation, checks.CauseOK, "")
	if !strings.Contains(ev.Rotation.Detail, "is now rejected (HTTP 401 Unauthorized) — rotation complete") {
		t.Fatalf("completion: detail %q", ev.Rotation.Detail)
	}
	if got := api.Received(); !slices.Equal(got, []string{"Bearer " + keyA}) {
		t.Fatalf("API received %q, want the previous key", got)
	}
	clk.Add(time.Minute)
	again := evaluate(t, tr, c, probe)
	replica := evaluate(t, newTracker(kv, clk), c, probe)
	for _, e := range []*rotation.Evaluation{again, replica} {
		wantResult(t, e.Rotation, checks.CauseOK, "")
		if strings.Contains(e.Rotation.Detail, "rotation complete") || !strings.Contains(e.Rotation.Detail, "as it should be") {
			t.Fatalf("completion said twice: detail %q", e.Rotation.Detail)
		}
	}
}

func TestPreviousKeyGraceStartsAtAutoRotation(t *testing.T) {
	api := newKeyAPI(t, keyA, keyB)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), &config.Rotation{RotatedAt: config.RotatedAuto, Grace: config.Duration(48 * time.Hour)})
	clk := newClock(mustTime(t, "2026-03-01T00:00:00Z"))
	tr := newTracker(newKV(), clk)
	probe := probeFor(t, c, api.URL, clk)
	evaluate(t, tr, c, probe) // key A, no previous yet

	// Ten days later B is deployed and A moves to previous: the grace
	// starts now, not when A was first seen.
	clk.Add(10 * day)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyB)
	c.Previous = config.Literal(keyA)
	ev := evaluate(t, tr, c, probe)
	if ev.Rotated == nil {
		t.Fatal("rotation not reported")
	}
	wantResult(t, ev.Rotation, checks.CauseOK, "")
	if !strings.Contains(ev.Rotation.Detail, "still works") {
		t.Fatalf("right after the rotation: %q", ev.Rotation.Detail)
	}
	clk.Add(47 * time.Hour)
	wantResult(t, evaluate(t, tr, c, probe).Rotation, checks.CauseOK, "")
	clk.Add(2 * time.Hour)
	r := evaluate(t, tr, c, probe).Rotation
	wantResult(t, r, checks.CausePreviousKeyStillValid, r.Band.String())
}

func TestPreviousKeyAlongsideDeadline(t *testing.T) {
	api := newKeyAPI(t, keyA, keyB)
	c := cred(config.Literal(keyB), &config.Rotation{MaxAge: config.Duration(30 * day), RotatedAt: "2026-03-01", Grace: config.Duration(time.Hour)})
	c.Previous = config.Literal(keyA)
	clk := newClock(mustTime(t, "2026-03-25"))
	r := evaluate(t, newTracker(newKV(), clk), c, probeFor(t, c, api.URL, clk)).Rotation
	wantResult(t, r, checks.CausePreviousKeyStillValid, r.Band.String())
	if len(r.Findings) != 1 || r.Findings[0].Cause != checks.CauseRotationDue || !strings.Contains(r.Findings[0].Detail, "2026-03-31") {
		t.Fatalf("findings = %+v, want the rotation_due deadline alongside", r.Findings)
	}
	if r.Status != checks.StatusFail {
		t.Fatalf("status = %s", r.Status)
	}
}

func TestPreviousKeyInconclusive(t *testing.T) {
	api := newKeyAPI(t, keyA, keyB)
	api.SetDown(true)
	c := cred(config.Literal(keyB), &config.Rotation{RotatedAt: "2026-03-01"})
	c.Previous = config.Literal(keyA)
	clk := newClock(mustTime(t, "2026-03-10"))
	ev := evaluate(t, newTracker(newKV(), clk), c, probeFor(t, c, api.URL, clk))
	// An API outage says nothing about the old key; the check reports it.
	if ev.Rotation != nil {
		t.Fatalf("a 503 was judged: %+v", ev.Rotation)
	}
	if got := api.Received(); len(got) != 1 {
		t.Fatalf("API received %d requests, want 1", len(got))
	}
}

func TestProbeFor(t *testing.T) {
	api := newKeyAPI(t, keyB)
	c := cred(config.Literal(keyB), nil)
	chk := probeFor(t, c, api.URL, newClock(time.Now()))
	if p := rotation.ProbeFor([]*checks.Check{chk}, "prod", "payments-key"); p != chk {
		t.Fatalf("ProbeFor = %v, want the check using the credential", p)
	}
	if p := rotation.ProbeFor([]*checks.Check{chk}, "staging", "payments-key"); p != nil {
		t.Fatalf("ProbeFor found %v in another environment", p)
	}
}
