package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/cmd/credmon/web"
	"github.com/credmon/credmon/notify"
)

const (
	fakeDaemonPassword = "FAKEpasswordDaemon0001"
	fakeWrongPassword  = "FAKEpasswordWrong0002"
)

// noPassword fails t if any output of the CLI holds a password, or the
// start of one (YAML's errors quote 7 characters of a value).
func noPassword(t *testing.T, what string, r cliResult) {
	t.Helper()
	for _, pw := range []string{fakeDaemonPassword, fakeWrongPassword} {
		if strings.Contains(r.stdout+r.stderr, pw[:7]) {
			t.Errorf("%s printed a password:\n%s%s", what, r.stdout, r.stderr)
		}
	}
}

// A daemon behind basic auth (bcrypt in its web config, with and without
// TLS) is reached with -http.config.file: silences and status go through
// it; without the flag or with a wrong password the CLI fails and says
// which flag to pass. The bolt store is the daemon's, locked, so nothing
// succeeds behind its back.
func TestCLIThroughDaemonBehindBasicAuth(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
			dir := t.TempDir()
			hash, err := bcrypt.GenerateFromPassword([]byte(fakeDaemonPassword), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			webConfig := "basic_auth_users:\n  operator: " + string(hash) + "\n"
			if tlsOn {
				writeSelfSigned(t, dir)
				webConfig += "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
			}
			webPath := filepath.Join(dir, "web.yml")
			writeFile(t, webPath, webConfig)
			db := filepath.Join(dir, "credmon.db")
			withWeb := func(addr string) string {
				return strings.Replace(fmt.Sprintf(silenceTestConfig, addr, db), "server: {listen: "+fmt.Sprintf("%q", addr)+"}",
					fmt.Sprintf("server: {listen: %q, web_config_file: %q}", addr, webPath), 1)
			}
			addr := startDaemon(t, daemon.Options{ConfigPath: writeConfig(t, withWeb("127.0.0.1:0"))}).addr
			cfg := writeConfig(t, withWeb(addr))

			writeFile(t, filepath.Join(dir, "password"), fakeDaemonPassword+"\n")
			good := filepath.Join(dir, "client.yml")
			writeFile(t, good, "basic_auth: {username: operator, password_file: password}\n")
			wrong := filepath.Join(dir, "wrong.yml")
			writeFile(t, wrong, fmt.Sprintf("basic_auth: {username: operator, password: %s}\n", fakeWrongPassword))
			noFile := filepath.Join(dir, "nofile.yml")
			writeFile(t, noFile, "basic_auth: {username: operator, password_file: absent.password}\n")
			// A password where a map belongs: YAML's error would quote it.
			misplaced := filepath.Join(dir, "misplaced.yml")
			writeFile(t, misplaced, "basic_auth: "+fakeWrongPassword+"\n")
			noAuth := filepath.Join(dir, "noauth.yml")
			writeFile(t, noAuth, "tls_config: {insecure_skip_verify: false}\n")

			r := runCLI(t, "", "silence", "add", "-config", cfg, "-http.config.file", good, "-env", "prod", "-check", "alpha", "-for", "2h", "-comment", "behind auth")
			noPassword(t, "add", r)
			if r.code != exitOK {
				t.Fatalf("add: exit %d: %s", r.code, r.stderr)
			}
			m := regexp.MustCompile(`silence ([0-9a-f]{16}) added`).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("add printed %q", r.stdout)
			}
			id := m[1]

			r = runCLI(t, "", "silence", "list", "-config", cfg, "-http.config.file", good, "-format", "json")
			noPassword(t, "list", r)
			var list []notify.Silence
			if err := json.Unmarshal([]byte(r.stdout), &list); r.code != exitOK || err != nil {
				t.Fatalf("list: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
			}
			if len(list) != 2 || list[0].ID != id || list[0].Comment != "behind auth" {
				t.Fatalf("list = %+v, want the new silence and the maintenance window", list)
			}

			r = runCLI(t, "", "status", "-config", cfg, "-http.config.file", good, "-format", "json")
			noPassword(t, "status", r)
			var snap web.Snapshot
			if err := json.Unmarshal([]byte(r.stdout), &snap); r.code != exitOK || err != nil {
				t.Fatalf("status: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
			}
			if snap.Instance == "(store)" || snap.Instance == "" || len(snap.Silences) != 2 || snap.Silences[0].ID != id {
				t.Errorf("status came from %q with silences %+v, want the daemon's", snap.Instance, snap.Silences)
			}

			// Without a password, or with a wrong one, every command fails
			// and says what to pass.
			for _, c := range []struct {
				name string
				args []string
				exit int
				want []string
			}{
				{"add without the flag", []string{"silence", "add", "-config", cfg, "-env", "prod", "-for", "1h"}, exitBadConfig,
					[]string{"the daemon asks for a password", "pass -http.config.file FILE", "basic_auth", "the store cannot be opened instead"}},
				{"list without the flag", []string{"silence", "list", "-config", cfg}, exitBadConfig,
					[]string{"the daemon asks for a password", "pass -http.config.file FILE"}},
				{"expire without the flag", []string{"silence", "expire", "-config", cfg, id}, exitBadConfig,
					[]string{"the daemon asks for a password", "pass -http.config.file FILE"}},
				{"status without the flag", []string{"status", "-config", cfg}, exitFailure,
					[]string{"the daemon asks for a password", "pass -http.config.file FILE", "the store cannot be read instead"}},
				{"list with a config without basic_auth", []string{"silence", "list", "-config", cfg, "-http.config.file", noAuth}, exitBadConfig,
					[]string{"-http.config.file " + noAuth + " has no basic_auth, and the daemon asks for a password"}},
				{"list with a wrong password", []string{"silence", "list", "-config", cfg, "-http.config.file", wrong}, exitBadConfig,
					[]string{"the daemon refused access with the credentials of -http.config.file " + wrong + " (401 Unauthorized)"}},
				{"expire with a wrong password", []string{"silence", "expire", "-config", cfg, "-http.config.file", wrong, id}, exitBadConfig,
					[]string{"refused access with the credentials of -http.config.file"}},
				{"status with a wrong password", []string{"status", "-config", cfg, "-http.config.file", wrong}, exitFailure,
					[]string{"the daemon refused access with the credentials of -http.config.file " + wrong + " (401 Unauthorized)"}},
				{"list with a missing client config", []string{"silence", "list", "-config", cfg, "-http.config.file", filepath.Join(dir, "absent.yml")}, exitBadConfig,
					[]string{"-http.config.file " + filepath.Join(dir, "absent.yml")}},
				{"status with a missing password file", []string{"status", "-config", cfg, "-http.config.file", noFile}, exitFailure,
					[]string{"-http.config.file " + noFile + ": basic_auth: open " + filepath.Join(dir, "absent.password")}},
				{"list with a misplaced password", []string{"silence", "list", "-config", cfg, "-http.config.file", misplaced}, exitBadConfig,
					[]string{"-http.config.file " + misplaced + ": yaml: "}},
			} {
				r := runCLI(t, "", c.args...)
				noPassword(t, c.name, r)
				if r.code != c.exit {
					t.Errorf("%s: exit %d, want %d: %s", c.name, r.code, c.exit, r.stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%s: stderr does not say %q:\n%s", c.name, w, r.stderr)
					}
				}
			}

			// The silence is still there: nothing above changed it.
			if r = runCLI(t, "", "silence", "expire", "-config", cfg, "-http.config.file", good, id); r.code != exitOK {
				t.Fatalf("expire: exit %d: %s", r.code, r.stderr)
			}
			noPassword(t, "expire", r)
			r = runCLI(t, "", "silence", "list", "-config", cfg, "-http.config.file", good, "-all")
			noPassword(t, "list -all", r)
			if r.code != exitOK || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "ended") {
				t.Errorf("list -all after expire (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// A redirect is never followed, so the credentials of -http.config.file
// never reach the hop it names, on the same host or another, whatever the
// file's follow_redirects says.
func TestCLINeverFollowsARedirectWithCredentials(t *testing.T) {
	t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
	var mu sync.Mutex
	var firstHop, redirected []string // Authorization headers received
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		redirected = append(redirected, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, "[]")
	}))
	t.Cleanup(elsewhere.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/moved") {
			mu.Lock()
			redirected = append(redirected, r.Header.Get("Authorization"))
			mu.Unlock()
			fmt.Fprint(w, "[]")
			return
		}
		mu.Lock()
		firstHop = append(firstHop, r.Header.Get("Authorization"))
		mu.Unlock()
		target := elsewhere.URL + r.URL.Path
		if r.Method == http.MethodGet {
			target = "/moved" + r.URL.Path // the same host
		}
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "password"), fakeDaemonPassword)
	client := filepath.Join(dir, "client.yml")
	writeFile(t, client, "basic_auth: {username: operator, password_file: password}\nfollow_redirects: true\n")
	cfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, strings.TrimPrefix(redirector.URL, "http://"), filepath.Join(dir, "credmon.db")))

	for _, args := range [][]string{
		{"silence", "list", "-config", cfg, "-http.config.file", client},
		{"silence", "add", "-config", cfg, "-http.config.file", client, "-env", "prod", "-for", "1h"},
		{"silence", "expire", "-config", cfg, "-http.config.file", client, "0123456789abcdef"},
	} {
		r := runCLI(t, "", args...)
		noPassword(t, args[1], r)
		if r.code != exitBadConfig || !strings.Contains(r.stderr, "307 Temporary Redirect") {
			t.Errorf("silence %s through a redirect: exit %d, want 2 naming the redirect: %s", args[1], r.code, r.stderr)
		}
	}
	// status believes a redirect is not the daemon and reads the store.
	r := runCLI(t, "", "status", "-config", cfg, "-http.config.file", client, "-format", "json")
	noPassword(t, "status", r)
	if r.code != exitOK || !strings.Contains(r.stdout, `"(store)"`) {
		t.Errorf("status through a redirect: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(firstHop) != 4 {
		t.Errorf("the redirecting server got %d requests, want 4", len(firstHop))
	}
	for _, a := range firstHop {
		// The credentials were sent to the daemon's address: the test
		// would prove nothing if they were not sent at all.
		if !strings.HasPrefix(a, "Basic ") {
			t.Errorf("first hop got Authorization %q, want basic auth", a)
		}
	}
	if len(redirected) != 0 {
		t.Errorf("redirects were followed; the redirected hops got Authorization %q", redirected)
	}
}

// A server at the daemon's address that echoes the credentials sent (the
// header, the password decoded, and both in query-escaped form) in an
// error answer: the CLI prints the answer, with none of them.
func TestCLIRedactsCredentialsTheDaemonEchoes(t *testing.T) {
	t.Setenv("CREDMON_TEST_SILENCE_KEY", "sk_test_FAKEsilenceFAKE")
	var echoed atomic.Int32
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, ok := r.BasicAuth()
		if !ok || user != "operator" || pw != fakeDaemonPassword {
			http.Error(w, "no or other credentials", http.StatusForbidden)
			return
		}
		echoed.Add(1)
		auth := r.Header.Get("Authorization")
		http.Error(w, fmt.Sprintf("store failed for %s (%s) with header %q, escaped %s",
			user+":"+pw, pw, auth, url.QueryEscape(auth)), http.StatusInternalServerError)
	}))
	t.Cleanup(echo.Close)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "password"), fakeDaemonPassword+"\n")
	client := filepath.Join(dir, "client.yml")
	writeFile(t, client, "basic_auth: {username: operator, password_file: password}\n")
	cfg := writeConfig(t, fmt.Sprintf(silenceTestConfig, strings.TrimPrefix(echo.URL, "http://"), filepath.Join(dir, "credmon.db")))

	basic := base64.StdEncoding.EncodeToString([]byte("operator:" + fakeDaemonPassword))
	for _, args := range [][]string{
		{"silence", "list", "-config", cfg, "-http.config.file", client},
		{"silence", "add", "-config", cfg, "-http.config.file", client, "-env", "prod", "-for", "1h"},
	} {
		r := runCLI(t, "", args...)
		out := r.stdout + r.stderr
		noPassword(t, args[1], r)
		for _, secret := range []string{fakeDaemonPassword, basic} {
			if strings.Contains(out, secret[:12]) {
				t.Errorf("silence %s printed a run of the credentials:\n%s", args[1], out)
			}
		}
		// The answer itself is printed, redacted: the test sees the echo.
		if r.code != exitBadConfig || !strings.Contains(r.stderr, "500 Internal Server Error: store failed for") || !strings.Contains(r.stderr, "<redacted>") {
			t.Errorf("silence %s: exit %d, want 2 with the redacted answer: %s", args[1], r.code, r.stderr)
		}
	}
	if echoed.Load() != 2 {
		t.Fatalf("the server echoed %d answers, want 2: the credentials did not arrive", echoed.Load())
	}
}
