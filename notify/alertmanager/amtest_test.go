package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor bounds every wait on Alertmanager: reaching it is a failure.
const waitFor = 20 * time.Second

// amBinary finds Debian's prometheus-alertmanager. Outside CI a missing
// binary skips the test; under CI=true it fails it.
func amBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("prometheus-alertmanager not found (CI installs it: apt-get install prometheus-alertmanager)")
	}
	t.Skip("prometheus-alertmanager not found; install it (apt-get install prometheus-alertmanager) to run the Alertmanager tests")
	return ""
}

// notification is what Alertmanager's webhook receiver posts (version 4).
type notification struct {
	Version     string            `json:"version"`
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	} `json:"alerts"`
}

// recorder is the loopback receiver Alertmanager's webhook points at.
type recorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []notification
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n notification
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
			t.Errorf("Alertmanager sent an undecodable notification: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) notifications() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// await polls cond until it holds, failing after waitFor.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// am is one running Alertmanager.
type am struct {
	url string
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAM runs an Alertmanager on loopback that groups by alertname and
// env, notifies the receiver at once and sends resolutions.
func startAM(t *testing.T, receiver string) *am {
	t.Helper()
	bin := amBinary(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  resolve_timeout: 2s
route:
  receiver: rec
  group_by: [alertname, env]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: rec
    webhook_configs:
      - url: %s
        send_resolved: true
`, receiver)
	cfgFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.path="+dir,
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", logs.String())
		}
	})
	a := &am{url: "http://" + addr}
	deadline := time.Now().Add(waitFor)
	for {
		resp, err := http.Get(a.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a
			}
		}
		select {
		case <-exited:
			t.Fatalf("alertmanager exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gettable is an alert as GET /api/v2/alerts shows it.
type gettable struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

// alerts lists what Alertmanager holds as active (resolved alerts are
// not listed by API v2).
func (a *am) alerts(t *testing.T) []gettable {
	t.Helper()
	resp, err := http.Get(a.url + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v2/alerts: %d %s", resp.StatusCode, body)
	}
	var out []gettable
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v: %s", err, body)
	}
	return out
}

// active returns the active alert with these label values, if any.
func (a *am) active(t *testing.T, labels map[string]string) (gettable, bool) {
	t.Helper()
	for _, al := range a.alerts(t) {
		match := true
		for k, v := range labels {
			if al.Labels[k] != v {
				match = false
			}
		}
		if match && al.Status.State == "active" {
			return al, true
		}
	}
	return gettable{}, false
}

// runLoop runs n's restatement until the returned stop is called.
func runLoop(t *testing.T, n *Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitFor):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func hasAlert(n notification, status, check string) bool {
	for _, a := range n.Alerts {
		if a.Status == status && a.Labels["check"] == check {
			return true
		}
	}
	return false
}

func labelsString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, l[k])
	}
	return strings.TrimSpace(b.String())
}
