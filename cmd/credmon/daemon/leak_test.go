package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/cmd/credmon/daemon"
)

// Known fake secrets, fed through the daemon end to end.
var leakSecrets = map[string]string{
	"api key":        "sk_live_FAKEleakKEY0000000000aa11",
	"client secret":  "cs_FAKEleakCLIENT00000000bb22",
	"refresh token":  "rt_FAKEleakREFRESH0000000cc33",
	"access token":   "at_FAKEleakACCESS00000000dd44",
	"bot token":      "xoxb-FAKEleakBOT0000000000ff66",
	"webhook secret": "FAKEleakWEBHOOK0000000ee55",
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeSlack records Slack API and webhook requests; it checks the bot token.
type fakeSlack struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	posted chan struct{}
}

func newFakeSlack(t *testing.T) *fakeSlack {
	fs := &fakeSlack{posted: make(chan struct{}, 64)}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fs.mu.Lock()
		// Everything but the Authorization header, which must carry the token.
		fs.bodies = append(fs.bodies, r.URL.RawQuery+"\n"+string(body))
		fs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/services/"):
			_, _ = io.WriteString(w, "ok")
		case r.Header.Get("Authorization") != "Bearer "+leakSecrets["bot token"]:
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		default:
			_, _ = io.WriteString(w, `{"ok":true,"channel":"C0FAKE","ts":"1700000000.000100"}`)
		}
		select {
		case fs.posted <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeSlack) all() string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return strings.Join(fs.bodies, "\n")
}

// leakAPI rejects everything and echoes the Authorization header back, like
// a careless API; its token endpoint issues the known access token.
func leakAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			resp := map[string]any{"access_token": leakSecrets["access token"], "token_type": "Bearer", "expires_in": 3600}
			if r.PostFormValue("grant_type") == "refresh_token" {
				resp["refresh_token"] = leakSecrets["refresh token"]
			}
			_ = json.NewEncoder(w).Encode(resp)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="rejected `+r.Header.Get("Authorization")+`"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_token","you_sent":%q}`, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNoSecretLeavesTheDaemon(t *testing.T) {
	api := leakAPI(t)
	slackSrv := newFakeSlack(t)
	dir := t.TempDir()
	for name, v := range map[string]string{
		"LEAK_API_KEY": leakSecrets["api key"], "LEAK_CLIENT_SECRET": leakSecrets["client secret"],
		"LEAK_REFRESH_TOKEN": leakSecrets["refresh token"], "LEAK_BOT_TOKEN": leakSecrets["bot token"],
		"LEAK_WEBHOOK": slackSrv.URL + "/services/TFAKE/BFAKE/" + leakSecrets["webhook secret"],
	} {
		t.Setenv(name, v)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`
store: {driver: bolt, path: %[2]q}
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
notify:
  console: true
  slack: {bot_token: {env: LEAK_BOT_TOKEN}, channel: "#credentials", api_url: %[3]q}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: LEAK_API_KEY}, rotation: {rotated_at: auto, max_age: 90d}}
      client: {type: oauth2_client_credentials, token_url: %[1]q, client_id: leak-client, client_secret: {env: LEAK_CLIENT_SECRET}}
      refresher: {type: oauth2_refresh_token, token_url: %[1]q, client_id: leak-client, client_secret: {env: LEAK_CLIENT_SECRET}, refresh_token: {env: LEAK_REFRESH_TOKEN}}
    checks:
      - {name: key-check, credential: key, url: %[4]q}
      - {name: client-check, credential: client, url: %[4]q}
      - {name: refresher-check, credential: refresher, url: %[4]q}
  staging:
    slack: {webhook_url: {env: LEAK_WEBHOOK}}
    credentials:
      key: {type: api_key, secret: {env: LEAK_API_KEY}}
    checks:
      - {name: key-check, credential: key, url: %[4]q}
`, api.URL+"/oauth/token", filepath.Join(dir, "credmon.db"), slackSrv.URL+"/api/", api.URL+"/v1/me")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: cfgPath, Listen: "127.0.0.1:0", WatchInterval: -1,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Ready:  func(addr string) { ready <- addr }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	for range 4 { // opened incidents of several checks reached Slack
		<-slackSrv.posted
	}
	var outputs []string
	for _, path := range []string{"/metrics", "/api/v1/status", "/", "/readyz"} {
		_, body := get(t, "http://"+addr+path)
		outputs = append(outputs, path+"\n"+body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v", err)
	}
	db, err := os.ReadFile(filepath.Join(dir, "credmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{
		"logs and console":    logs.String(),
		"slack payloads":      slackSrv.all(),
		"metrics/status/page": strings.Join(outputs, "\n"),
		"store file":          string(db),
	}
	for where, text := range paths {
		if len(text) < 100 {
			t.Errorf("%s: suspiciously little output (%d bytes): the test would prove nothing", where, len(text))
		}
		for what, secret := range leakSecrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s leaked into %s", what, where)
			}
		}
	}
	if !strings.Contains(slackSrv.all(), "key-check") {
		t.Errorf("Slack never heard of the failing check")
	}
}
