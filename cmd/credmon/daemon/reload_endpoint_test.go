package daemon_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = io.Copy(b, resp.Body)
	return resp.StatusCode, b.String()
}

// POST /-/reload reloads the daemon as SIGHUP does, only when
// server.enable_reload_endpoint is set.
func TestReloadEndpoint(t *testing.T) {
	srv := api(t, nil, nil)
	for _, enabled := range []bool{false, true} {
		name := "disabled"
		if enabled {
			name = "enabled"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			write := func(checks ...string) {
				text := configText(srv.URL, checks...)
				if enabled {
					text = "server: {enable_reload_endpoint: true}\n" + text
				}
				if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write("alpha")
			results := make(chan checks.Result, 64)
			r := start(t, daemon.Options{ConfigPath: path, WatchInterval: -1, OnResult: func(res checks.Result) {
				select {
				case results <- res:
				default:
				}
			}})
			base := "http://" + r.addr + "/-/reload"
			if !enabled {
				if code, _ := post(t, base); code != http.StatusNotFound {
					t.Errorf("POST /-/reload while disabled: %d, want 404", code)
				}
				return
			}
			if code, _ := get(t, base); code != http.StatusMethodNotAllowed {
				t.Errorf("GET /-/reload: %d, want 405", code)
			}
			if err := os.WriteFile(path, []byte("server: {enable_reload_endpoint: true}\nenvironments: {prod: {checks: [{name: x, url: 'not a url'}]}}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, body := post(t, base); code != http.StatusInternalServerError || !strings.Contains(body, path+":") {
				t.Errorf("POST with a bad config: %d %q, want 500 naming the file", code, body)
			}
			if code, body := get(t, "http://"+r.addr+"/-/ready"); code != http.StatusServiceUnavailable || !strings.Contains(body, "config reload failed") {
				t.Errorf("/-/ready after a refused reload: %d %q", code, body)
			}
			write("alpha", "epsilon")
			if code, body := post(t, base); code != http.StatusOK {
				t.Fatalf("POST /-/reload: %d %q", code, body)
			}
			hang := time.After(20 * time.Second)
			for {
				select {
				case res := <-results:
					if res.Check == "epsilon" {
						return // the reloaded configuration runs
					}
				case <-hang:
					t.Fatal("the check added by the reload never ran")
				}
			}
		})
	}
}
