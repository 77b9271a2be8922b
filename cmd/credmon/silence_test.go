package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/notify"
)

const silenceTestConfig = `
server: {listen: %q}
store: {driver: bolt, path: %q}
notify: {console: false}
scheduler: {schedule: "0 0 1 1 *"}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: CREDMON_TEST_SILENCE_KEY}}
    checks:
      - {name: alpha, credential: key, url: "http://127.0.0.1:1/a"}
maintenance:
  - {match: {env: prod}, start: "2020-01-01T00:00:00Z", end: "2099-01-01T00:00:00Z", comment: long freeze}
`

// The CLI adds, lists and expires silences through a running daemon that
// holds the bolt store's lock; the daemon shows them in its status.
func TestSilenceCLIThroughDaemon(t *testing.T) {
	t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
	db := filepath.Join(t.TempDir(), "credmon.db")
	daemonCfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, "127.0.0.1:0", db))
	addr := startDaemon(t, daemon.Options{ConfigPath: daemonCfg}).addr
	// The CLI's config names the daemon's address; the store is the same
	// bolt file, locked by the daemon, so only the daemon can answer.
	cfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, addr, db))
	activeSilences(t, addr, 0, 1)

	r := runCLI(t, "", "silence", "add", "-config", cfg, "-env", "prod", "-check", "alpha", "-for", "2h", "-comment", "deploy 42")
	if r.code != exitOK {
		t.Fatalf("add: exit %d: %s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`silence ([0-9a-f]{16}) added: env=prod check=alpha until `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("add printed %q", r.stdout)
	}
	id := m[1]
	activeSilences(t, addr, 1, 1)

	r = runCLI(t, "", "silence", "list", "-config", cfg, "-format", "json")
	var list []notify.Silence
	if err := json.Unmarshal([]byte(r.stdout), &list); r.code != exitOK || err != nil {
		t.Fatalf("list: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	if len(list) != 2 || list[0].ID != id || list[0].Comment != "deploy 42" || list[1].Source != notify.SourceMaintenance || list[1].Comment != "long freeze" {
		t.Fatalf("list = %+v, want the new silence and the maintenance window", list)
	}

	var snap web.Snapshot
	getJSON(t, "http://"+addr+"/api/v1/status", &snap)
	if len(snap.Silences) != 2 || snap.Silences[0].ID != id {
		t.Errorf("status silences = %+v", snap.Silences)
	}
	page := httpGet(t, "http://"+addr+"/")
	if !strings.Contains(page, "deploy 42") || !strings.Contains(page, "long freeze") {
		t.Errorf("status page does not show the silences")
	}

	// A page of another site cannot add or expire one through a browser.
	for _, path := range []string{"/api/v1/silences", "/api/v1/silences/" + id + "/expire"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(`{"env":"prod","for":"1h"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST %s: %s, want 403", path, resp.Status)
		}
	}

	// A form post (no preflight) is refused even from no origin at all.
	resp, err := http.Post("http://"+addr+"/api/v1/silences", "application/x-www-form-urlencoded", strings.NewReader("env=prod&for=1h"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form POST: %s, want 415", resp.Status)
	}

	if r = runCLI(t, "", "silence", "expire", "-config", cfg, id); r.code != exitOK {
		t.Fatalf("expire: exit %d: %s", r.code, r.stderr)
	}
	activeSilences(t, addr, 0, 1)
	r = runCLI(t, "", "silence", "list", "-config", cfg)
	if r.code != exitOK || strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "long freeze") {
		t.Errorf("list after expire (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", "silence", "list", "-config", cfg, "-all")
	if !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "ended") {
		t.Errorf("list -all after expire:\n%s", r.stdout)
	}

	for _, bad := range [][]string{
		{"expire", "-config", cfg, "0123456789abcdef"},
		{"add", "-config", cfg, "-env", "prod", "-check", "alhpa", "-for", "2h"},
		{"add", "-config", cfg, "-env", "prod", "-for", "soon"},
		{"add", "-config", cfg, "-check", "alpha", "-for", "2h"},
		{"frobnicate"},
	} {
		if r := runCLI(t, "", append([]string{"silence"}, bad...)...); r.code != exitBadConfig || r.stderr == "" {
			t.Errorf("silence %v: exit %d, stderr %q; want 2 with a message", bad, r.code, r.stderr)
		}
	}
}

// activeSilences checks the daemon's credmon_silences_active series. The
// daemon reads the store through the cache its own API invalidates, so a
// scrape right after the CLI's call sees it.
func activeSilences(t *testing.T, addr string, runtime, maintenance int) {
	t.Helper()
	metrics := httpGet(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		fmt.Sprintf("credmon_silences_active{source=\"runtime\"} %d\n", runtime),
		fmt.Sprintf("credmon_silences_active{source=\"maintenance\"} %d\n", maintenance),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %q; its silence series:\n%s", strings.TrimSpace(want), strings.Join(regexp.MustCompile(`(?m)^credmon_silences_active.*$`).FindAllString(metrics, -1), "\n"))
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(httpGet(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// With no daemon answering, the CLI reads and writes the store itself.
func TestSilenceCLIWritesTheStoreWithoutADaemon(t *testing.T) {
	t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
	db := filepath.Join(t.TempDir(), "credmon.db")
	cfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, "127.0.0.1:1", db))
	r := runCLI(t, "", "silence", "add", "-config", cfg, "-env", "prod", "-credential", "key", "-for", "1d", "-comment", "offline")
	if r.code != exitOK {
		t.Fatalf("add: exit %d: %s", r.code, r.stderr)
	}
	id := strings.Fields(r.stdout)[1]
	r = runCLI(t, "", "silence", "list", "-config", cfg, "-format", "json")
	var list []notify.Silence
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 || list[0].ID != id || list[0].Credential != "key" {
		t.Fatalf("list: %v %s %s", err, r.stdout, r.stderr)
	}
	if r = runCLI(t, "", "silence", "expire", "-config", cfg, id); r.code != exitOK {
		t.Fatalf("expire: exit %d: %s", r.code, r.stderr)
	}
	if r = runCLI(t, "", "silence", "list", "-config", cfg); strings.Contains(r.stdout, id) {
		t.Errorf("expired silence still listed:\n%s", r.stdout)
	}
}

func TestSilenceHelpIsUsage(t *testing.T) {
	for _, h := range []string{"-h", "--help", "help"} {
		r := runCLI(t, "", "silence", h)
		if r.code != exitBadConfig || strings.Contains(r.stderr, "unknown subcommand") || !strings.Contains(r.stderr, "credmon silence add -env E") {
			t.Errorf("silence %s: exit %d, stderr %q; want the usage and exit %d", h, r.code, r.stderr, exitBadConfig)
		}
	}
}

// A stored silence that does not read was left out of the list without a
// word; now the list says which, on stderr, and lists the others.
func TestSilenceListNamesADamagedSilence(t *testing.T) {
	t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
	db := filepath.Join(t.TempDir(), "credmon.db")
	cfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, "127.0.0.1:1", db))
	r := runCLI(t, "", "silence", "add", "-config", cfg, "-env", "prod", "-for", "1d")
	if r.code != exitOK {
		t.Fatalf("add: exit %d: %s", r.code, r.stderr)
	}
	id := strings.Fields(r.stdout)[1]
	bdb, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sealed as boltstore writes it: no expiry, then the value.
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("kv")).Put([]byte("silence:0badc0de"), append(make([]byte, 8), `{"end":"soon"}`...))
	})
	if err := errors.Join(err, bdb.Close()); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", "silence", "list", "-config", cfg, "-all")
	if r.code != exitOK || !strings.Contains(r.stdout, id) {
		t.Fatalf("list: exit %d, stdout %q; want %s listed", r.code, r.stdout, id)
	}
	if !strings.Contains(r.stderr, "silence:0badc0de") {
		t.Errorf("list stderr = %q; want the damaged silence named", r.stderr)
	}
}
