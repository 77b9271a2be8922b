package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/secretstore/awssm/awssmtest"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
)

// Fake keys held in Secrets Manager: current, the one before it, and the
// one a rotation puts as AWSPENDING.
const (
	smCurrent  = "sk_test_FAKEsmCurrent00000000000001"
	smPrevious = "sk_test_FAKEsmPrevious0000000000002"
	smPending  = "sk_test_FAKEsmPending00000000000003"
	smOther    = "FAKE-json-neighbour-value-0000004"
	smRejected = "sk_test_FAKEsmCandidateRejected0005"
)

// smAPI accepts the keys it is told to and echoes every key it rejects,
// in its challenge and its body: the redaction must catch each.
type smAPI struct {
	*httptest.Server
	mu       sync.Mutex
	accepted map[string]bool
}

func newSMAPI(t *testing.T, keys ...string) *smAPI {
	a := &smAPI{accepted: map[string]bool{}}
	for _, k := range keys {
		a.accepted[k] = true
	}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		a.mu.Lock()
		ok := a.accepted[strings.TrimPrefix(auth, "Bearer ")]
		a.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description="unknown key %s"`, auth))
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_token","echo":%q}`, auth)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *smAPI) accept(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.accepted[key] = true
}

// recordingNotifier keeps every message it is given.
type recordingNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
	got  chan notify.Message
}

func (n *recordingNotifier) Name() string { return "recorder" }
func (n *recordingNotifier) Notify(_ context.Context, m notify.Message) (bool, error) {
	n.mu.Lock()
	n.msgs = append(n.msgs, m)
	n.mu.Unlock()
	select {
	case n.got <- m:
	default:
	}
	return false, nil
}

func (n *recordingNotifier) all() []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notify.Message(nil), n.msgs...)
}

func smSecret(key string) string {
	return fmt.Sprintf(`{"api_key":%q,"neighbour":%q}`, key, smOther)
}

// TestNoSecretsManagerValueInAnyOutput runs the daemon and the CLI over a
// credential kept in Secrets Manager (moto_server) through a rotation —
// a rejected pending version, then a working one, then its promotion — and
// looks for every version's value and the AWS credentials in everything
// credmon said. It also checks the rotation is told exactly once.
func TestNoSecretsManagerValueInAnyOutput(t *testing.T) {
	sm := awssmtest.Start(t)
	sm.Create(t, "prod/payments", smSecret(smPrevious))
	sm.Promote(t, "prod/payments", sm.PutPending(t, "prod/payments", smSecret(smCurrent)))
	pending := sm.PutPending(t, "prod/payments", smSecret(smPending))
	api := newSMAPI(t, smCurrent, smPrevious)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
store: {driver: bolt, path: %q}
notify: {console: true}
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
environments:
  prod:
    credentials:
      payments:
        type: bearer
        secret: {aws_secretsmanager: {id: prod/payments, json_key: api_key, endpoint: %q, refresh_every: 1s}}
        rotation: {max_age: 90d, grace: 1d}
    checks:
      - {name: charges, credential: payments, url: %q}
`, filepath.Join(dir, "credmon.db"), sm.URL, api.URL+"/v1/charges")), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	rec := &recordingNotifier{got: make(chan notify.Message, 64)}
	d := startDaemon(t, daemon.Options{ConfigPath: cfgPath,
		CredentialSchedule: "@every 1s", Notifiers: []notify.Notifier{rec},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	addr := d.addr
	hang := time.After(90 * time.Second) // a hang guard, not a wait
	waitFor := func(what string, match func(notify.Message) bool) notify.Message {
		t.Helper()
		for {
			select {
			case m := <-rec.got:
				if match(m) {
					return m
				}
			case <-d.exited:
				t.Fatalf("daemon stopped waiting for %s: %v", what, d.err)
			case <-hang:
				t.Fatalf("no %s; messages: %+v", what, rec.all())
			}
		}
	}
	// The pending version is rejected: a fail that says rotation would
	// break consumers.
	waitFor("pending_key_rejected", func(m notify.Message) bool { return m.Cause == checks.CausePendingKeyRejected })
	// setSecret: the API learns it; the pending version is verified once.
	api.accept(smPending)
	waitFor("pending_verified", func(m notify.Message) bool { return m.Event == notify.EventPendingVerified })
	// finishSecret: AWSCURRENT moves; one rotated message, the new key works.
	sm.Promote(t, "prod/payments", pending)
	rot := waitFor("rotated", func(m notify.Message) bool { return m.Event == notify.EventRotated })
	if !strings.Contains(rot.Detail, "the new key works") {
		t.Errorf("rotated: %s", rot.Detail)
	}
	// A few more evaluations: still exactly one of each.
	outputs := map[string]string{}
	for range 3 {
		_, outputs["GET /api/v1/status"] = getURL(t, "http://"+addr+"/api/v1/status")
	}
	for _, path := range []string{"/metrics", "/"} {
		_, outputs["GET "+path] = getURL(t, "http://"+addr+path)
	}
	t.Setenv("CREDMON_TEST_SM_CANDIDATE", smCurrent)
	for _, args := range [][]string{
		{"check", "-config", cfgPath},
		{"check", "-config", cfgPath, "-format", "json"},
		{"explain", "-config", cfgPath, "prod/charges"},
		{"validate", "-config", cfgPath},
	} {
		r := runCLI(t, "", args...)
		outputs[strings.Join(args, " ")] = r.stdout + r.stderr
	}
	for name, candidate := range map[string]string{"verify (accepted)": smPrevious, "verify (rejected)": smRejected} {
		vr := runVerify(t, candidate, nil, "-config", cfgPath, "prod/payments", "-candidate", "-")
		outputs[name] = vr.stdout + vr.stderr
	}
	if err := d.stop(); err != nil {
		t.Fatalf("daemon: %v", err)
	}
	msgs := rec.all()
	count := map[notify.Event]int{}
	for _, m := range msgs {
		count[m.Event]++
	}
	if count[notify.EventRotated] != 1 || count[notify.EventPendingVerified] != 1 {
		t.Errorf("rotated %d, pending_verified %d messages; want exactly one each", count[notify.EventRotated], count[notify.EventPendingVerified])
	}
	payload, _ := json.Marshal(msgs)
	outputs["notifier payloads"] = string(payload)
	outputs["logs and console"] = logs.String()
	db, err := os.ReadFile(filepath.Join(dir, "credmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	outputs["bolt file"] = string(db)

	secrets := map[string]string{
		"current key": smCurrent, "previous key": smPrevious, "pending key": smPending,
		"JSON neighbour": smOther, "rejected candidate": smRejected, "whole secret string": smSecret(smCurrent),
		"AWS secret access key": awssmtest.SecretAccessKey, "AWS access key id": awssmtest.AccessKeyID,
	}
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, where := range names {
		text := outputs[where]
		if len(text) < 100 && !strings.HasPrefix(where, "validate") {
			t.Errorf("%s: suspiciously little output (%d bytes): the test would prove nothing\n%s", where, len(text), text)
		}
		if l := leakIn(text, secrets); l != "" {
			t.Errorf("%s holds the %s:\n%s", where, l, text)
		}
	}
	// The server's echoes were there to be redacted.
	if !strings.Contains(outputs["verify (rejected)"], "<redacted>") {
		t.Error("nothing was redacted: the hostile echoes never reached an output, the test proves nothing")
	}
}
