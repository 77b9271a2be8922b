package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

const (
	rotKeyOld = "sk_live_FAKErotOLD000000000000a001"
	rotKeyNew = "sk_live_FAKErotNEW000000000000b002"
)

// rotationAPI accepts only the keys in accepted; it checks the header.
func rotationAPI(t *testing.T, accepted ...string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range accepted {
			if r.Header.Get("Authorization") == "Bearer "+k {
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rotationConfig(t *testing.T, dir, url, secret string) string {
	path := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`
store: {driver: bolt, path: %q}
scheduler: {schedule: "@every 1h"}
notify: {console: true}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: %s, rotation: {rotated_at: auto, max_age: 90d}}
    checks:
      - {name: account, credential: key, url: %q}
`, filepath.Join(dir, "credmon.db"), secret, url)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runUntil runs the daemon until stop reports true for a console line, or
// — with a nil stop — until the credential has been evaluated once.
func runUntil(t *testing.T, opts daemon.Options, stop func(line string) bool) string {
	t.Helper()
	evaluatedOnce := stop == nil
	if stop == nil {
		stop = func(string) bool { return false }
	}
	logs := &lineWatcher{match: stop, hit: make(chan struct{})}
	if evaluatedOnce && opts.OnResult == nil {
		opts.OnResult = func(r checks.Result) {
			if r.Concern == checks.ConcernRotation {
				logs.fire()
			}
		}
	}
	opts.Listen = "127.0.0.1:0"
	opts.WatchInterval = -1
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, opts) }()
	select {
	case <-logs.hit:
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v", err)
	}
	return logs.String()
}

type lineWatcher struct {
	syncBuffer
	match func(string) bool
	hit   chan struct{}
	once  bool
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	n, err := l.syncBuffer.Write(p)
	if l.match(string(p)) {
		l.fire()
	}
	return n, err
}

func (l *lineWatcher) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.once {
		l.once = true
		close(l.hit)
	}
}

func TestRotationByRedeployIsVerifiedOnce(t *testing.T) {
	dir := t.TempDir()
	api := rotationAPI(t, rotKeyNew) // the provider already revoked the old key
	t.Setenv("ROT_KEY", rotKeyOld)
	cfg := rotationConfig(t, dir, api.URL, "{env: ROT_KEY}")
	first := runUntil(t, daemon.Options{ConfigPath: cfg}, nil)
	if strings.Contains(first, "msg=\"rotated: ") {
		t.Fatalf("the first key credmon sees is a starting point, not a rotation:\n%s", first)
	}

	// Redeploy with the new key: a restarted process over the same bolt file.
	t.Setenv("ROT_KEY", rotKeyNew)
	second := runUntil(t, daemon.Options{ConfigPath: cfg}, isRotatedMessage)
	if n := strings.Count(second, "msg=\"rotated: "); n != 1 {
		t.Fatalf("%d rotated messages, want 1:\n%s", n, second)
	}
	if !strings.Contains(second, "the new key works") {
		t.Errorf("the rotated message does not say the new key was verified:\n%s", second)
	}

	// A third start with the same key: nothing new to say.
	third := runUntil(t, daemon.Options{ConfigPath: cfg}, nil)
	if strings.Contains(third, "msg=\"rotated: ") {
		t.Errorf("the same rotation was reported again after a restart:\n%s", third)
	}
}

func TestRotationOfASecretFileUnderARunningDaemon(t *testing.T) {
	dir := t.TempDir()
	api := rotationAPI(t, rotKeyOld) // the new key is not live at the provider yet
	secretFile := filepath.Join(dir, "key")
	if err := os.WriteFile(secretFile, []byte(rotKeyOld), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := rotationConfig(t, dir, api.URL, fmt.Sprintf("{file: %q}", secretFile))
	rotated := make(chan checks.Result, 1)
	var wrote atomic.Bool
	logs := runUntil(t, daemon.Options{ConfigPath: cfg, CredentialSchedule: "@every 100ms", OnResult: func(r checks.Result) {
		// After the first evaluation, rotate the file under the daemon.
		if r.Concern == checks.ConcernRotation && wrote.CompareAndSwap(false, true) {
			if err := os.WriteFile(secretFile, []byte(rotKeyNew+"\n"), 0o600); err != nil {
				t.Error(err)
			}
		}
		select {
		case rotated <- r:
		default:
		}
	}}, isRotatedMessage)
	if n := strings.Count(logs, "msg=\"rotated: "); n != 1 {
		t.Fatalf("%d rotated messages, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "the new key FAILS") {
		t.Errorf("the rotated message does not say the new key fails:\n%s", logs)
	}
}

// isRotatedMessage matches the console notifier's line for a rotation.
func isRotatedMessage(line string) bool { return strings.Contains(line, "msg=\"rotated: ") }
