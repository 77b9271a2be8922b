package daemon_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/credmon/credmon/cmd/credmon/daemon"
)

// The daemon serves through server.web_config_file and, on its loopback
// listener, refuses foreign Host headers.
func TestDaemonServesThroughWebConfig(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("FAKE-test-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"web.yml":     "basic_auth_users:\n  prometheus: " + string(hash) + "\n",
		"config.yaml": "server: {web_config_file: web.yml}\nstore: {driver: memory}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := start(t, daemon.Options{ConfigPath: filepath.Join(dir, "config.yaml"), WatchInterval: -1})

	do := func(host, pass string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+r.addr+"/api/v1/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if pass != "" {
			req.SetBasicAuth("prometheus", pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		name, host, pass string
		want             int
	}{
		{"no password", "", "", http.StatusUnauthorized},
		{"wrong password", "", "FAKE-wrong-password", http.StatusUnauthorized},
		{"right password", "", "FAKE-test-password", http.StatusOK},
		{"right password, foreign Host", "evil.example", "FAKE-test-password", http.StatusMisdirectedRequest},
	} {
		if got := do(c.host, c.pass); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
