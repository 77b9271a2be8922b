package rotation_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// Fake secrets: they look fake on purpose.
const (
	keyA = "sk_live_FAKEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0a0a"
	keyB = "sk_live_FAKEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0b0b"
	keyC = "sk_live_FAKEcccccccccccccccccccc0c0c"
)

var hmacKey = []byte("test-hmac-key-FAKE-0123456789abcdef")

const day = 24 * time.Hour

// fakeClock is a settable clock shared by trackers in one test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTracker(kv store.KV, clk *fakeClock) *rotation.Tracker {
	return rotation.New(kv, hmacKey, rotation.Options{Now: clk.Now})
}

func newKV() store.KV { return memstore.New() }

func cred(secret config.Secret, rot *config.Rotation) *config.Credential {
	return &config.Credential{Name: "payments-key", Env: "prod", Type: config.TypeAPIKey, Secret: secret, Rotation: rot}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := config.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Time
}

func evaluate(t *testing.T, tr *rotation.Tracker, c *config.Credential, probe rotation.PreviousProbe) *rotation.Evaluation {
	t.Helper()
	ev, err := tr.Evaluate(context.Background(), c, probe)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return ev
}

func wantResult(t *testing.T, r *checks.Result, cause checks.Cause, band string) {
	t.Helper()
	if r == nil {
		t.Fatalf("no result, want %s", cause)
	}
	if r.Cause != cause || r.Status != cause.Status() {
		t.Fatalf("cause = %s/%s, want %s (detail: %s)", r.Cause, r.Status, cause, r.Detail)
	}
	if r.Band.String() != band {
		t.Fatalf("band = %q, want %q (detail: %s)", r.Band.String(), band, r.Detail)
	}
	if r.Env != "prod" || r.Credential != "payments-key" || r.Check != "" {
		t.Fatalf("result is for %q/%q check %q, want a credential-level result for prod/payments-key", r.Env, r.Credential, r.Check)
	}
	if r.Detail == "" || (cause != checks.CauseOK && r.Hint == "") {
		t.Fatalf("cause %s lacks detail or hint: %+v", cause, r)
	}
}

// bandPrefix is the fingerprint part of a band, "1a2b3c4d".
func bandPrefix(t *testing.T, band string) string {
	t.Helper()
	fp, _, ok := strings.Cut(band, "/")
	if !ok || len(fp) != 8 {
		t.Fatalf("band %q is not <fp8>/<band>", band)
	}
	return fp
}

// fakeJWT builds a well-formed JWT with the claims and a fake signature.
func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".RkFLRXNpZ25hdHVyZUZBS0U"
}

// assertNoSecret fails if any of the secrets appears in the evaluation.
func assertNoSecret(t *testing.T, ev *rotation.Evaluation, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Fatalf("evaluation output contains a secret: %s", b)
		}
	}
}
