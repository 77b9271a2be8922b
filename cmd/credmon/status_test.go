package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
)

// With no daemon answering, status reads the store the config names.
func TestStatusReadsTheStore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "credmon.db")
	cfg := writeConfig(t, fmt.Sprintf(`
server: {listen: "127.0.0.1:1"}
store: {driver: bolt, path: %q}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: CREDMON_TEST_STATUS_KEY}}
    checks:
      - {name: alpha, credential: key, url: "https://api.example.com/a"}
      - {name: beta, credential: key, url: "https://api.example.com/b"}
`, db))
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.PutResult(context.Background(), checks.Result{Env: "prod", Check: "alpha", Started: now, Status: checks.StatusFail, Cause: checks.CauseRevoked, HTTPStatus: 401}); err != nil {
		t.Fatal(err)
	}
	if err := st.Heartbeat(context.Background(), store.Instance{ID: "replica-a", Started: now, LastSeen: now}, time.Minute); err != nil {
		t.Fatal(err)
	}
	st.Close()

	r := runCLI(t, "", "status", "-config", cfg, "-format", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var snap web.Snapshot
	if err := json.Unmarshal([]byte(r.stdout), &snap); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if len(snap.Checks) != 2 || snap.Checks[0].Last == nil || snap.Checks[0].Last.Cause != checks.CauseRevoked || snap.Checks[1].Last != nil {
		t.Fatalf("snapshot: %+v", snap.Checks)
	}
	if len(snap.Instances) != 1 || snap.Instances[0].ID != "replica-a" {
		t.Errorf("replicas: %+v", snap.Instances)
	}
	table := runCLI(t, "", "status", "-config", cfg)
	if !strings.Contains(table.stdout, "revoked") || !strings.Contains(table.stdout, "never") {
		t.Errorf("table:\n%s", table.stdout)
	}
}
