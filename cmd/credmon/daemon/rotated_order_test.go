package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
)

// recorder is a notifier that keeps what it is handed, in delivery order.
type recorder struct {
	mu   sync.Mutex
	msgs []notify.Message
	got  chan struct{} // signalled on every delivery
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Notify(_ context.Context, m notify.Message) (bool, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	return false, nil
}

func (r *recorder) delivered() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Message(nil), r.msgs...)
}

// The "rotated" message belongs to the rotation incident: it carries that
// incident's key (so it shares its outbox group, name + ":" + key) and is
// delivered after what the incident said before it.
func TestRotatedMessageIsPartOfTheRotationIncident(t *testing.T) {
	dir := t.TempDir()
	api := rotationAPI(t, rotKeyOld, rotKeyNew)
	secretFile := filepath.Join(dir, "key")
	if err := os.WriteFile(secretFile, []byte(rotKeyOld), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	// max_age 90d inside a 100d band: the rotation concern warns at once,
	// so its incident opens on the first evaluation.
	cfg := fmt.Sprintf(`
store: {driver: bolt, path: %q}
scheduler: {schedule: "@every 1h"}
alerting: {expiry_warn_before: [100d]}
notify: {console: false}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {file: %q}, rotation: {rotated_at: auto, max_age: 90d}}
    checks:
      - {name: account, credential: key, url: %q}
`, filepath.Join(dir, "credmon.db"), secretFile, api.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{got: make(chan struct{}, 1)}
	var rotatedOnce sync.Once
	opts := daemon.Options{
		ConfigPath: path, Listen: "127.0.0.1:0", WatchInterval: -1,
		CredentialSchedule: "@every 100ms",
		Notifiers:          []notify.Notifier{rec},
		OnResult: func(r checks.Result) {
			// Once the rotation incident is open, rotate the key under the daemon.
			if r.Concern == checks.ConcernRotation && r.Cause == checks.CauseRotationDue {
				rotatedOnce.Do(func() {
					if err := os.WriteFile(secretFile, []byte(rotKeyNew), 0o600); err != nil {
						t.Error(err)
					}
				})
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, opts) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()

	rotatedAt := -1
	deadline := time.After(20 * time.Second)
	for rotatedAt < 0 {
		select {
		case <-rec.got:
		case err := <-done:
			t.Fatalf("daemon stopped: %v", err)
		case <-deadline:
			t.Fatalf("no rotated message; delivered: %v", events(rec.delivered()))
		}
		for i, m := range rec.delivered() {
			if m.Event == notify.EventRotated {
				rotatedAt = i
			}
		}
	}
	msgs := rec.delivered()
	want := checks.CredentialSubject("prod", "key", checks.ConcernRotation).IncidentKey(notify.FamilyRotation)
	opened := -1
	for i, m := range msgs {
		if m.Event == notify.EventOpened && m.IncidentKey == want {
			opened = i
		}
	}
	if opened < 0 {
		t.Fatalf("the rotation incident %q never opened; delivered: %v", want, events(msgs))
	}
	if got := msgs[rotatedAt].IncidentKey; got != want {
		t.Errorf("rotated message names incident %q, want the rotation incident %q (and its outbox group)", got, want)
	}
	if opened > rotatedAt {
		t.Errorf("rotated delivered before the incident opened: %v", events(msgs))
	}
	// Every message of the incident, rotated included, in the order sent.
	var last time.Time
	for _, m := range msgs {
		if m.IncidentKey != want {
			continue
		}
		if m.At.Before(last) {
			t.Errorf("incident messages out of order: %v", events(msgs))
		}
		last = m.At
	}
}

func events(msgs []notify.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Event) + "@" + m.IncidentKey
	}
	return out
}
