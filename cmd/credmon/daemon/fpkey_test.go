package daemon_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// legacyHMACKey is what earlier versions generated and kept in the store.
var legacyHMACKey = []byte("FAKE-legacy-generated-hmac-key!!")

const legacyKeyName = "rotation:hmac-key"

func TestLegacyFingerprintKeyIsDeletedAtStartBolt(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "credmon.db")
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(context.Background(), legacyKeyName, legacyHMACKey, 0); err != nil {
		t.Fatal(err)
	}
	st.Close()

	api := rotationAPI(t, rotKeyOld)
	t.Setenv("ROT_KEY", rotKeyOld)
	logs := runUntil(t, daemon.Options{ConfigPath: rotationConfig(t, dir, api.URL, "{env: ROT_KEY}")}, nil)
	if !strings.Contains(logs, "deleted the fingerprint key earlier versions kept in the store") {
		t.Errorf("the migration is not logged:\n%s", logs)
	}

	st, err = boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Get(context.Background(), legacyKeyName); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the legacy fingerprint key is still in the bolt file (err %v)", err)
	}
	recs, err := st.Scan(context.Background(), "rotation:fp:")
	if err != nil || len(recs) != 1 {
		t.Fatalf("fingerprint records = %d (err %v), want the credential's one", len(recs), err)
	}
}

// redisConfig is rotationConfig on a shared store; storeExtra adds to store.
func redisConfig(t *testing.T, dir, prefix, url, storeExtra, rotation string) string {
	redisURL := storetest.RedisURL()
	path := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`
store:
  driver: redis
  redis: {url: %q, key_prefix: %q}
  fallback_path: %q
%s
scheduler: {schedule: "@every 1h"}
notify: {console: true}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: ROT_KEY}, previous: {env: ROT_KEY_PREVIOUS}, rotation: %s}
    checks:
      - {name: account, credential: key, url: %q}
`, redisURL, prefix, filepath.Join(dir, "credmon-fallback.db"), storeExtra, rotation, url)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFingerprintKeyIsNeverInRedis(t *testing.T) {
	client, prefix := storetest.Redis(t)
	ctx := context.Background()
	kv := redisstore.New(client, prefix)
	if err := kv.Set(ctx, legacyKeyName, legacyHMACKey, 0); err != nil {
		t.Fatal(err)
	}
	// A fake 32-byte key, base64 as store.fingerprint_key takes it.
	configured := []byte("FAKE-daemon-fingerprint-key-0123")
	t.Setenv("CREDMON_TEST_FP_KEY", base64.StdEncoding.EncodeToString(configured))
	t.Setenv("ROT_KEY", rotKeyNew)
	t.Setenv("ROT_KEY_PREVIOUS", rotKeyOld)
	api := rotationAPI(t, rotKeyNew, rotKeyOld)
	cfg := redisConfig(t, t.TempDir(), prefix, api.URL, "  fingerprint_key: {env: CREDMON_TEST_FP_KEY}", "{rotated_at: auto, max_age: 90d}")

	logs := runUntil(t, daemon.Options{ConfigPath: cfg}, nil)
	if strings.Contains(logs, "fingerprints are off") {
		t.Errorf("fingerprints are off with store.fingerprint_key set:\n%s", logs)
	}
	if _, err := kv.Get(ctx, legacyKeyName); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the legacy fingerprint key is still in redis (err %v)", err)
	}

	// Neither the configured key nor the key derived from it, in any
	// encoding, in any key or value under the prefix.
	derived := hmac.New(sha256.New, configured)
	derived.Write([]byte("credmon key fingerprints"))
	forbidden := map[string]string{}
	for name, key := range map[string][]byte{"configured": configured, "derived": derived.Sum(nil), "legacy": legacyHMACKey} {
		forbidden[name+" raw"] = string(key)
		forbidden[name+" base64"] = base64.StdEncoding.EncodeToString(key)
		forbidden[name+" base64 raw url"] = base64.RawURLEncoding.EncodeToString(key)
		forbidden[name+" hex"] = hex.EncodeToString(key)
	}
	values, err := storetest.Values(ctx, client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	sawFP := false
	for k, vals := range values {
		sawFP = sawFP || strings.HasSuffix(k, "rotation:fp:prod/key")
		for _, v := range append(vals, k) {
			for form, enc := range forbidden {
				if strings.Contains(v, enc) {
					t.Errorf("redis key %s holds the %s fingerprint key", k, form)
				}
			}
		}
	}
	if !sawFP {
		t.Fatalf("no fingerprint record among %d keys under %s: nothing was checked", len(values), prefix)
	}
}

func TestRedisWithoutAKeySaysFingerprintsAreOff(t *testing.T) {
	_, prefix := storetest.Redis(t)
	t.Setenv("ROT_KEY", rotKeyNew)
	t.Setenv("ROT_KEY_PREVIOUS", rotKeyOld)
	api := rotationAPI(t, rotKeyNew)
	// A dated rotation: rotated_at: auto would not load without a key.
	cfg := redisConfig(t, t.TempDir(), prefix, api.URL, "", "{rotated_at: 2026-01-15, max_age: 90d}")
	logs := runUntil(t, daemon.Options{ConfigPath: cfg}, nil)
	if n := strings.Count(logs, "fingerprints are off"); n != 1 {
		t.Fatalf("%d \"fingerprints are off\" lines, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "store.fingerprint_key") {
		t.Errorf("the warning does not name store.fingerprint_key:\n%s", logs)
	}
}
