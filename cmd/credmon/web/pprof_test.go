package web

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func getBody(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: generous}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func newGet(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Profiles are served only when asked for, next to the usual endpoints,
// and behind the loopback Host guard like them.
func TestPprof(t *testing.T) {
	src := fakeSource{snap: fixtureSnapshot()}
	plain := listen(t, NewHandler(src, nil, nil), ServerOptions{}, "")
	if code, _ := getBody(t, newGet(t, "http://"+plain+"/debug/pprof/")); code != http.StatusNotFound {
		t.Errorf("without WithPprof: /debug/pprof/ answered %d, want 404", code)
	}

	addr := listen(t, WithPprof(NewHandler(src, nil, nil)), ServerOptions{}, "")
	code, body := getBody(t, newGet(t, "http://"+addr+"/debug/pprof/heap?debug=1"))
	if code != http.StatusOK || !strings.HasPrefix(body, "heap profile:") {
		t.Errorf("heap profile: %d %.100q", code, body)
	}
	code, body = getBody(t, newGet(t, "http://"+addr+"/debug/pprof/goroutine"))
	if code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("goroutine profile: %d, not gzip: %.20q", code, body)
	}
	if code, body := getBody(t, newGet(t, "http://"+addr+"/healthz")); code != http.StatusOK || body != "ok\n" {
		t.Errorf("the other endpoints are still served: /healthz %d %q", code, body)
	}
	// A rebinding page's request carries its own name as Host.
	req := newGet(t, "http://"+addr+"/debug/pprof/heap?debug=1")
	req.Host = "attacker.example"
	if code, body := getBody(t, req); code == http.StatusOK || strings.Contains(body, "heap profile") {
		t.Errorf("foreign Host got the profile: %d", code)
	}
	req = newGet(t, "http://"+addr+"/debug/pprof/heap?debug=1")
	req.Method = http.MethodPost
	if code, body := getBody(t, req); code == http.StatusOK || strings.Contains(body, "heap profile") {
		t.Errorf("POST got the profile: %d", code)
	}
}

// Basic auth from the web config covers the profiles too.
func TestPprofBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(fakePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	write(t, webConfig, "basic_auth_users:\n  "+fakeUser+": "+string(hash)+"\n")
	addr := listen(t, WithPprof(NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil)), ServerOptions{}, webConfig)
	if code, body := getBody(t, newGet(t, "http://"+addr+"/debug/pprof/heap?debug=1")); code != http.StatusUnauthorized || strings.Contains(body, "heap profile") {
		t.Errorf("no credentials: %d, want 401", code)
	}
	req := newGet(t, "http://"+addr+"/debug/pprof/heap?debug=1")
	req.SetBasicAuth(fakeUser, fakePassword)
	if code, body := getBody(t, req); code != http.StatusOK || !strings.HasPrefix(body, "heap profile:") {
		t.Errorf("with the password: %d %.100q", code, body)
	}
}
