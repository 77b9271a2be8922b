package rotation_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// Fake fingerprint keys, 32 bytes each, as store.fingerprint_key would give.
var (
	fpKey1 = []byte("FAKE-fp-key-one-for-tests-012345")
	fpKey2 = []byte("FAKE-fp-key-two-for-tests-678901")
)

// encodings are the forms in which key could have been written.
func encodings(key []byte) map[string]string {
	return map[string]string{
		"raw":            string(key),
		"base64":         base64.StdEncoding.EncodeToString(key),
		"base64 raw":     base64.RawStdEncoding.EncodeToString(key),
		"base64 url":     base64.URLEncoding.EncodeToString(key),
		"base64 raw url": base64.RawURLEncoding.EncodeToString(key),
		"hex":            hex.EncodeToString(key),
		"hex upper":      strings.ToUpper(hex.EncodeToString(key)),
	}
}

func TestFingerprintKeyIsNeverInRedis(t *testing.T) {
	client, prefix := storetest.Redis(t)
	kv := redisstore.New(client, prefix)
	api := newKeyAPI(t, keyB) // the old key is already revoked
	clk := newClock(mustTime(t, "2026-03-01"))
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), autoRotation())
	c.Previous = config.Literal(keyA)
	tr := rotation.New(kv, fpKey1, rotation.Options{Now: clk.Now})
	probe := probeFor(t, c, api.URL, clk)

	// The previous key is found rejected (a completion record), then the
	// current key changes (a rotation record).
	first := evaluate(t, tr, c, probe)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyB)
	clk.Add(day)
	ev := evaluate(t, tr, c, probe)
	if ev.Rotated == nil || first.Rotation == nil || !strings.Contains(first.Rotation.Detail, "rotation complete") {
		t.Fatalf("rotated=%+v first=%+v: the test did not exercise every record", ev.Rotated, first.Rotation)
	}

	values, err := storetest.Values(context.Background(), client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var sawFP, sawDone bool
	for k, vals := range values {
		sawFP = sawFP || strings.Contains(k, "rotation:fp:prod/payments-key")
		sawDone = sawDone || strings.Contains(k, "rotation:done:prod/payments-key")
		for _, v := range vals {
			for form, enc := range encodings(fpKey1) {
				if strings.Contains(v, enc) || strings.Contains(k, enc) {
					t.Errorf("redis key %s holds the fingerprint key (%s)", k, form)
				}
			}
			for _, secret := range []string{keyA, keyB} {
				if strings.Contains(v, secret) {
					t.Errorf("redis key %s holds a secret in plain text", k)
				}
			}
		}
	}
	if !sawFP || !sawDone {
		t.Fatalf("no fingerprint or completion record under %s (%d keys): nothing was checked", prefix, len(values))
	}
}

func TestTrackersAgreeOnlyWithTheSameKey(t *testing.T) {
	client, prefix := storetest.Redis(t)
	shared := redisstore.New(client, prefix)
	t0 := mustTime(t, "2026-03-01")
	clk := newClock(t0)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), autoRotation())

	one := rotation.New(shared, fpKey1, rotation.Options{Now: clk.Now})
	evaluate(t, one, c, nil)
	inBand := t0.Add(20 * day)
	fpOne := bandPrefix(t, mustBand(t, one, c, clk, inBand))

	// A second replica with the same key sees the same fingerprint: the
	// same band, and no rotation.
	sameKey := rotation.New(shared, fpKey1, rotation.Options{Now: clk.Now})
	ev := evaluate(t, sameKey, c, nil)
	if ev.Rotated != nil || ev.Rotation == nil || bandPrefix(t, ev.Rotation.Band.String()) != fpOne {
		t.Fatalf("a replica with the same key disagrees: rotated=%+v rotation=%+v, want band %s/…", ev.Rotated, ev.Rotation, fpOne)
	}

	// Another key gives another fingerprint of the same secret.
	otherClk := newClock(t0)
	otherKey := rotation.New(redisstore.New(client, prefix+"other:"), fpKey2, rotation.Options{Now: otherClk.Now})
	evaluate(t, otherKey, c, nil)
	if got := bandPrefix(t, mustBand(t, otherKey, c, otherClk, inBand)); got == fpOne {
		t.Fatalf("trackers with different keys made the same fingerprint %s", got)
	}

	// The replicas with the same key agree on a rotation too: told once,
	// replacing the fingerprint both saw.
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyB)
	clk.Add(time.Hour)
	first := evaluate(t, sameKey, c, nil)
	if first.Rotated == nil || first.Rotated.Previous != fpOne {
		t.Fatalf("rotation = %+v, want one replacing %s", first.Rotated, fpOne)
	}
	if again := evaluate(t, one, c, nil); again.Rotated != nil {
		t.Fatalf("the other replica reported the rotation again: %+v", again.Rotated)
	}
}

func TestRemoveLegacyKey(t *testing.T) {
	stores := map[string]func(t *testing.T) store.KV{
		"memory": func(*testing.T) store.KV { return newKV() },
		"redis": func(t *testing.T) store.KV {
			client, prefix := storetest.Redis(t)
			return redisstore.New(client, prefix)
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			kv := open(t)
			legacy := []byte("FAKE-legacy-generated-hmac-key!!")
			if err := kv.Set(ctx, "rotation:hmac-key", legacy, 0); err != nil {
				t.Fatal(err)
			}
			record := []byte(`{"kid":"0badc0de","fp":"0123abcd","first_seen":"2026-03-01T00:00:00Z"}`)
			if err := kv.Set(ctx, "rotation:fp:prod/payments-key", record, 0); err != nil {
				t.Fatal(err)
			}

			removed, err := rotation.RemoveLegacyKey(ctx, kv)
			if err != nil || !removed {
				t.Fatalf("RemoveLegacyKey = %v, %v; want true", removed, err)
			}
			if _, err := kv.Get(ctx, "rotation:hmac-key"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("legacy key still in the store (err %v)", err)
			}
			if got, err := kv.Get(ctx, "rotation:fp:prod/payments-key"); err != nil || string(got) != string(record) {
				t.Fatalf("the fingerprint record was touched: %q, %v", got, err)
			}
			if removed, err := rotation.RemoveLegacyKey(ctx, kv); err != nil || removed {
				t.Fatalf("second RemoveLegacyKey = %v, %v; want false, nil", removed, err)
			}
		})
	}
}

func TestNoKeyMeansNoFingerprints(t *testing.T) {
	kv := newKV()
	clk := newClock(mustTime(t, "2026-03-01"))
	tr := rotation.New(kv, nil, rotation.Options{Now: clk.Now})
	if tr.Fingerprints() {
		t.Fatal("a tracker without a key says it fingerprints")
	}
	api := newKeyAPI(t, keyA, keyB)
	t.Setenv("CREDMON_TEST_ROTATION_KEY", keyA)
	c := cred(config.FromEnv("CREDMON_TEST_ROTATION_KEY"), autoRotation())
	c.Previous = config.Literal(keyC)
	api.Accept(keyA, keyC)
	probe := probeFor(t, c, api.URL, clk)

	// rotated_at: auto cannot work (config refuses it with a shared store):
	// a changed key is no rotation, and there is no deadline to invent.
	for _, k := range []string{keyA, keyB} {
		t.Setenv("CREDMON_TEST_ROTATION_KEY", k)
		clk.Add(day)
		ev := evaluate(t, tr, c, probe)
		if ev.Rotated != nil {
			t.Fatalf("rotation reported without a fingerprint key: %+v", ev.Rotated)
		}
		if len(ev.Deadlines) != 0 {
			t.Fatalf("deadlines without a fingerprint or a date: %+v", ev.Deadlines)
		}
		// The previous key works and its grace cannot be timed: said, not hidden.
		wantResult(t, ev.Rotation, checks.CauseOK, "")
		if !strings.Contains(ev.Rotation.Detail, "cannot be timed") || !strings.Contains(ev.Rotation.Hint, "store.fingerprint_key") {
			t.Fatalf("previous key without a fingerprint: %+v", ev.Rotation)
		}
	}
	recorded, err := kv.Scan(context.Background(), "rotation:")
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 0 {
		t.Fatalf("a tracker without a key wrote %d rotation records (%v)", len(recorded), keys(recorded))
	}

	// A dated rotation still warns in bands, told apart by the deadline.
	dated := cred(config.Literal(keyA), &config.Rotation{MaxAge: config.Duration(30 * day), RotatedAt: "2026-03-01"})
	clk.Set(mustTime(t, "2026-03-21"))
	r := evaluate(t, tr, dated, nil).Rotation
	wantResult(t, r, checks.CauseRotationDue, "20260331/14d")

	// A rejected previous key is good news every time, never a completion
	// that could not be told once.
	api.Accept(keyB)
	for range 2 {
		clk.Add(time.Minute)
		ev := evaluate(t, tr, c, probe)
		wantResult(t, ev.Rotation, checks.CauseOK, "")
		if strings.Contains(ev.Rotation.Detail, "rotation complete") || !strings.Contains(ev.Rotation.Detail, "as it should be") {
			t.Fatalf("rejected previous key without a fingerprint: %q", ev.Rotation.Detail)
		}
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
