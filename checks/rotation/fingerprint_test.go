package rotation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
)

func autoRotation() *config.Rotation {
	return &config.Rotation{MaxAge: config.Duration(30 * day), RotatedAt: config.RotatedAuto}
}

func TestAutoRotationFromEnv(t *testing.T) {
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), autoRotation())
	t0 := mustTime(t, "2026-03-01T09:00:00Z")
	clk := newClock(t0)
	tr := newTracker(newKV(), clk)

	first := evaluate(t, tr, c, nil)
	if first.Rotated != nil {
		t.Fatalf("the first key seen is a baseline, not a rotation: %+v", first.Rotated)
	}
	wantResult(t, first.Rotation, checks.CauseOK, "")
	if !strings.Contains(first.Rotation.Detail, "first seen 2026-03-01") {
		t.Fatalf("baseline detail %q does not say the key's age is unknown", first.Rotation.Detail)
	}
	fpA := bandPrefix(t, mustBand(t, tr, c, clk, t0.Add(20*day)))

	t1 := t0.Add(25 * day)
	clk.Set(t1)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyB)
	ev := evaluate(t, tr, c, nil)
	if ev.Rotated == nil {
		t.Fatal("changing the key is not reported as a rotation")
	}
	got := *ev.Rotated
	if got.Env != "prod" || got.Credential != "payments-key" || !got.At.Equal(t1) || got.Previous != fpA || got.Fingerprint == fpA || len(got.Fingerprint) != 8 {
		t.Fatalf("rotation = %+v, want first seen %s replacing %s", got, t1, fpA)
	}
	if got.Identity != "api_key sk_live_…0b0b" {
		t.Fatalf("identity = %q", got.Identity)
	}
	// The clock restarts at the rotation: the deadline moved from t0+30d
	// to t1+30d, so what was due is ok again.
	wantResult(t, ev.Rotation, checks.CauseOK, "")
	if ds := ev.Deadlines; len(ds) != 1 || ds[0].Kind != rotation.KindRotation || !ds[0].At.Equal(t1.Add(30*day)) {
		t.Fatalf("deadlines after rotation = %+v, want %s", ds, t1.Add(30*day))
	}
	if !strings.Contains(ev.Rotation.Detail, "detected by fingerprint") {
		t.Fatalf("detail %q does not say how the rotation date is known", ev.Rotation.Detail)
	}
	assertNoSecret(t, ev, keyA, keyB)

	clk.Add(time.Minute)
	if again := evaluate(t, tr, c, nil); again.Rotated != nil {
		t.Fatalf("the same rotation was reported twice: %+v", again.Rotated)
	}
}

// mustBand moves the clock to at and returns the rotation band there.
func mustBand(t *testing.T, tr *rotation.Tracker, c *config.Credential, clk *fakeClock, at time.Time) string {
	t.Helper()
	clk.Set(at)
	r := evaluate(t, tr, c, nil).Rotation
	if r == nil || r.Band.String() == "" {
		t.Fatalf("no band at %s: %+v", at, r)
	}
	return r.Band.String()
}

func TestAutoRotationFromRewrittenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payments-key")
	write := func(v string) {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(keyA)
	c := cred(config.FromFile(path), autoRotation())
	clk := newClock(mustTime(t, "2026-03-01"))
	tr := newTracker(newKV(), clk)

	events := 0
	for i, v := range []string{keyA, keyA, keyB, keyB, keyB} {
		write(v)
		clk.Add(time.Hour)
		if ev := evaluate(t, tr, c, nil); ev.Rotated != nil {
			events++
			if i != 2 {
				t.Fatalf("rotation reported at step %d, want at step 2 (the rewrite)", i)
			}
		}
	}
	if events != 1 {
		t.Fatalf("%d rotation events, want 1", events)
	}
}

func TestReplicasReportARotationOnce(t *testing.T) {
	const n = 6
	// Every replica reads the old record before any of them writes: the
	// worst interleaving, forced by a barrier rather than hoped for.
	kv := &barrierKV{KV: newKV(), key: "rotation:fp:prod/payments-key", n: n, open: make(chan struct{})}
	clk := newClock(mustTime(t, "2026-03-01"))
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), autoRotation())
	// The replicas share the configured key, never one from the store.
	replicas := make([]*rotation.Tracker, n)
	for i := range replicas {
		replicas[i] = rotation.New(kv, hmacKey, rotation.Options{Now: clk.Now})
	}
	kv.passThrough.Store(true)
	evaluate(t, replicas[0], c, nil)
	kv.passThrough.Store(false)

	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyB)
	var reported atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, tr := range replicas {
		wg.Go(func() {
			ev, err := tr.Evaluate(context.Background(), c, nil)
			if err != nil {
				errs <- err
				return
			}
			if ev.Rotated != nil {
				reported.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Evaluate: %v", err)
	}
	for _, tr := range replicas { // and later looks say nothing new
		if evaluate(t, tr, c, nil).Rotated != nil {
			reported.Add(1)
		}
	}
	if got := reported.Load(); got != 1 {
		t.Fatalf("rotation reported %d times across replicas, want exactly 1", got)
	}
}

// barrierKV holds the first n reads of key, each with the value it read,
// until all n have read.
type barrierKV struct {
	store.KV
	key         string
	n           int
	passThrough atomic.Bool

	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func (b *barrierKV) Get(ctx context.Context, key string) ([]byte, error) {
	val, err := b.KV.Get(ctx, key)
	if key == b.key && !b.passThrough.Load() {
		b.mu.Lock()
		b.arrived++
		if b.arrived == b.n {
			close(b.open)
		}
		b.mu.Unlock()
		select {
		case <-b.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return val, err
}

func TestRollbackIsNotANewRotation(t *testing.T) {
	clk := newClock(mustTime(t, "2026-03-01"))
	tr := newTracker(newKV(), clk)
	var rotations []string
	for _, k := range []string{keyA, keyB, keyA, keyB, keyC} {
		clk.Add(day)
		if ev := evaluate(t, tr, cred(config.Literal(k), autoRotation()), nil); ev.Rotated != nil {
			rotations = append(rotations, k)
		}
	}
	// Replicas that disagree during a rollout flip between A and B: only
	// keys never seen before are news.
	if len(rotations) != 2 || rotations[0] != keyB || rotations[1] != keyC {
		t.Fatalf("rotations reported for %d keys, want B then C once each", len(rotations))
	}
	// A rolled-back key keeps its own age.
	ev := evaluate(t, tr, cred(config.Literal(keyA), autoRotation()), nil)
	if ev.Rotated != nil {
		t.Fatal("a rolled-back key was reported as a rotation")
	}
	if ds, want := ev.Deadlines, mustTime(t, "2026-03-02").Add(30*day); len(ds) != 1 || !ds[0].At.Equal(want) {
		t.Fatalf("key A deadline = %+v, want its first sighting + 30d = %s", ds, want)
	}
}

func TestNewHMACKeyIsNotARotation(t *testing.T) {
	kv := newKV()
	clk := newClock(mustTime(t, "2026-03-01"))
	c := cred(config.Literal(keyA), autoRotation())
	evaluate(t, rotation.New(kv, []byte("first-FAKE-hmac-key"), rotation.Options{Now: clk.Now}), c, nil)
	clk.Add(10 * day)
	ev := evaluate(t, rotation.New(kv, []byte("second-FAKE-hmac-key"), rotation.Options{Now: clk.Now}), c, nil)
	if ev.Rotated != nil {
		t.Fatal("a new HMAC key was reported as a rotation")
	}
	if want := mustTime(t, "2026-03-31"); len(ev.Deadlines) != 1 || !ev.Deadlines[0].At.Equal(want) {
		t.Fatalf("deadline = %+v, want the key's age kept (%s)", ev.Deadlines, want)
	}
}

// openStores yields the stores a restart can be tested on: memory (the same
// object reused) and bolt (the same file reopened, as the daemon does).
func openStores(t *testing.T) map[string]func() (store.KV, func()) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	mem := newKV()
	return map[string]func() (store.KV, func()){
		"memory": func() (store.KV, func()) { return mem, func() {} },
		"bolt": func() (store.KV, func()) {
			s, err := boltstore.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return s, func() { s.Close() }
		},
	}
}

func TestOncePerBandAcrossRestart(t *testing.T) {
	for name, open := range openStores(t) {
		t.Run(name, func(t *testing.T) {
			t0 := mustTime(t, "2026-03-01T09:00:00Z")
			clk := newClock(t0)
			c := cred(config.Literal(keyA), autoRotation())

			kv, closeKV := open()
			before := rotation.New(kv, hmacKey, rotation.Options{Now: clk.Now})
			evaluate(t, before, c, nil)
			clk.Set(t0.Add(20 * day))
			r1 := evaluate(t, before, c, nil).Rotation
			closeKV()

			kv, closeKV = open()
			defer closeKV()
			after := rotation.New(kv, hmacKey, rotation.Options{Now: clk.Now})
			ev := evaluate(t, after, c, nil)
			wantResult(t, r1, checks.CauseRotationDue, r1.Band.String())
			wantResult(t, ev.Rotation, checks.CauseRotationDue, r1.Band.String())
			if ev.Rotated != nil {
				t.Fatal("a restart was reported as a rotation")
			}
			if !strings.HasSuffix(r1.Band.String(), "/14d") {
				t.Fatalf("band %q, want the 14d band", r1.Band.String())
			}
			// The first sighting survived: the deadline did not restart.
			if want := t0.Add(30 * day); len(ev.Deadlines) != 1 || !ev.Deadlines[0].At.Equal(want) {
				t.Fatalf("deadline after restart = %+v, want %s", ev.Deadlines, want)
			}
			// Next band: a new Band value, so the engine alerts once more.
			clk.Set(t0.Add(24 * day))
			if r := evaluate(t, after, c, nil).Rotation; r.Band.String() == r1.Band.String() || !strings.HasSuffix(r.Band.String(), "/7d") {
				t.Fatalf("band at 6d = %q, want the 7d band", r.Band.String())
			}
		})
	}
}

func TestStoreFailureIsAnError(t *testing.T) {
	tr := rotation.New(failingKV{}, hmacKey, rotation.Options{})
	if _, err := tr.Evaluate(context.Background(), cred(config.Literal(keyA), autoRotation()), nil); err == nil {
		t.Fatal("Evaluate hid a store failure")
	} else if strings.Contains(err.Error(), keyA) {
		t.Fatalf("error contains the secret: %v", err)
	}
}

type failingKV struct{}

var errDown = errors.New("store down")

func (failingKV) Get(context.Context, string) ([]byte, error)              { return nil, errDown }
func (failingKV) Set(context.Context, string, []byte, time.Duration) error { return errDown }
func (failingKV) Scan(context.Context, string) (map[string][]byte, error)  { return nil, errDown }
func (failingKV) CompareAndSwap(context.Context, string, []byte, []byte, time.Duration) (bool, error) {
	return false, errDown
}
