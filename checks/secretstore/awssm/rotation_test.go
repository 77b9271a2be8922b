package awssm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
	_ "github.com/credmon/credmon/checks/secretstore/awssm"
	"github.com/credmon/credmon/checks/secretstore/awssm/awssmtest"
	"github.com/credmon/credmon/store/memstore"
)

const (
	keyA = "sk_test_FAKEawsCurrentKeyAAAAAAAAAAAA"
	keyB = "sk_test_FAKEawsPendingKeyBBBBBBBBBBBB"
)

func rotationConfig(endpoint, apiURL, extra string) string {
	return fmt.Sprintf(`
environments:
  prod:
    credentials:
      payments:
        type: bearer
        secret: {aws_secretsmanager: {id: prod/payments, json_key: api_key, region: eu-west-1, endpoint: %q, refresh_every: 1s}}
        rotation: {max_age: 90d, grace: 1d}
%s
    checks:
      - {name: payments-api, credential: payments, url: %q}
`, endpoint, extra, apiURL+"/v1/me")
}

func jsonSecret(key string) string {
	return `{"api_key":"` + key + `","note":"FAKE-other-field-not-sent"}`
}

// The full rotation stage cycle, as a Secrets Manager rotation function runs
// it: createSecret puts AWSPENDING, setSecret configures it at the API,
// finishSecret moves AWSCURRENT; then the old key's grace runs out.
func TestRotationStageCycle(t *testing.T) {
	sm := awssmtest.Start(t)
	sm.Create(t, "prod/payments", jsonSecret(keyA))
	sm.Schedule(t, "prod/payments", 30)
	api := newKeyAPI(t, keyA)
	cfg := loadConfig(t, rotationConfig(sm.URL, api.URL, ""))
	cred := cfg.Environments["prod"].Credential("payments")
	if cred.Previous.Source != config.SourceStore || cred.Previous.Stage != config.StagePrevious {
		t.Fatalf("previous = %s; want the store's AWSPREVIOUS without configuring it", cred.Previous.Describe())
	}
	all := build(t, cfg)
	clk := &clock{t: time.Now()}
	tr := rotation.New(memstore.New(), []byte("FAKE-fp-key-for-awssm-tests-0123"), rotation.Options{Now: clk.Now})
	probe := rotation.ProbeFor(all, "prod", "payments")
	var results []checks.Result
	eval := func() *rotation.Evaluation {
		t.Helper()
		ev, err := tr.Evaluate(context.Background(), cred, probe)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Rotation != nil {
			results = append(results, *ev.Rotation)
		}
		return ev
	}

	// The current key works; DescribeSecret's NextRotationDate is the
	// deadline (sooner than LastRotatedDate + max_age).
	d, err := sm.Client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/payments")})
	if err != nil {
		t.Fatal(err)
	}
	if r := all[0].Run(context.Background(), time.Now()); r.Status != checks.StatusOK {
		t.Fatalf("current key: %s %s", r.Cause, r.Detail)
	}
	ev := eval()
	if len(ev.Deadlines) == 0 || !ev.Deadlines[0].At.Equal(*d.NextRotationDate) {
		t.Fatalf("deadlines %+v; want NextRotationDate %s", ev.Deadlines, d.NextRotationDate)
	}
	if ev.Rotation == nil || !strings.Contains(ev.Rotation.Detail, "NextRotationDate of aws_secretsmanager prod/payments") {
		t.Fatalf("rotation result %+v", ev.Rotation)
	}
	if ev.Rotated != nil || ev.Pending != nil {
		t.Fatalf("first look: rotated %+v pending %+v", ev.Rotated, ev.Pending)
	}

	// createSecret: AWSPENDING appears before the API knows the key.
	pending := sm.PutPending(t, "prod/payments", jsonSecret(keyB))
	eventually(t, "the pending version to be probed", func() bool {
		ev = eval()
		return ev.Rotation != nil && ev.Rotation.Cause == checks.CausePendingKeyRejected
	})
	if ev.Rotation.Status != checks.StatusFail || !strings.Contains(ev.Rotation.Detail, "does NOT work") || !strings.Contains(ev.Rotation.Hint, "every consumer") {
		t.Fatalf("failing pending: %+v", ev.Rotation)
	}
	if ev.Pending != nil {
		t.Fatal("a failing pending version is a fail result, not the once-told verdict")
	}

	// setSecret: the API accepts the new key; the pending version works and
	// is told exactly once.
	api.set(keyB, true)
	ev = eval()
	if ev.Pending == nil || !ev.Pending.Works || ev.Pending.Version != pending[:8] || !strings.Contains(ev.Pending.Result.Detail, "it works") {
		t.Fatalf("pending verdict: %+v", ev.Pending)
	}
	before := api.sent(keyB)
	ev = eval()
	if ev.Pending != nil || ev.Rotation == nil || ev.Rotation.Status != checks.StatusOK || !strings.Contains(ev.Rotation.Detail, "it works") {
		t.Fatalf("second look at a verified pending version: pending %+v rotation %+v", ev.Pending, ev.Rotation)
	}
	if api.sent(keyB) != before {
		t.Fatal("a verified pending version was probed again")
	}

	// finishSecret: AWSCURRENT moves; one rotation, and the checks present
	// the new key.
	sm.Promote(t, "prod/payments", pending)
	rotated := 0
	eventually(t, "the new AWSCURRENT to be seen", func() bool {
		ev = eval()
		if ev.Rotated != nil {
			rotated++
		}
		return rotated > 0
	})
	for range 3 {
		if eval().Rotated != nil {
			rotated++
		}
	}
	if rotated != 1 {
		t.Fatalf("%d rotations reported; want exactly one", rotated)
	}
	sentB := api.sent(keyB)
	if r := all[0].Run(context.Background(), time.Now()); r.Status != checks.StatusOK || api.sent(keyB) != sentB+1 {
		t.Fatalf("after promotion the check should present the new key: %s %s", r.Cause, r.Detail)
	}

	// AWSPREVIOUS (the old key) still works: fine within the grace period,
	// previous_key_still_valid after it.
	ev = eval()
	if ev.Rotation == nil || ev.Rotation.Status != checks.StatusOK || !strings.Contains(ev.Rotation.Detail, "still works, as expected") {
		t.Fatalf("previous within grace: %+v", ev.Rotation)
	}
	clk.Add(2 * 24 * time.Hour)
	ev = eval()
	if ev.Rotation == nil || ev.Rotation.Cause != checks.CausePreviousKeyStillValid || !strings.Contains(ev.Rotation.Detail, "aws_secretsmanager prod/payments (api_key) (previous version)") {
		t.Fatalf("previous past grace: %+v", ev.Rotation)
	}

	// The old key is revoked: rotation complete.
	api.set(keyA, false)
	ev = eval()
	if ev.Rotation == nil || ev.Rotation.Status != checks.StatusOK || !strings.Contains(ev.Rotation.Detail, "rotation complete") {
		t.Fatalf("after revoking the previous key: %+v", ev.Rotation)
	}

	// No version's value, nor the JSON around it, in anything said.
	out, _ := json.Marshal(results)
	for _, s := range []string{keyA, keyB, "FAKE-other-field-not-sent", awssmtest.SecretAccessKey, awssmtest.AccessKeyID} {
		if strings.Contains(string(out), s[:12]) {
			t.Errorf("results contain %q…", s[:12])
		}
	}
}

// previous: none opts out of AWSPREVIOUS.
func TestPreviousNone(t *testing.T) {
	cfg := loadConfig(t, rotationConfig("http://127.0.0.1:1", "https://api.example", "        previous: none"))
	if p := cfg.Environments["prod"].Credential("payments").Previous; p.IsSet() || !p.IsNone() {
		t.Fatalf("previous = %s (set %v); want none", p.Describe(), p.IsSet())
	}
}

// RotationEnabled false with a max_age is a finding.
func TestRotationDisabledIsAFinding(t *testing.T) {
	sm := awssmtest.Start(t)
	sm.Create(t, "prod/payments", jsonSecret(keyA))
	api := newKeyAPI(t, keyA)
	cfg := loadConfig(t, rotationConfig(sm.URL, api.URL, ""))
	cred := cfg.Environments["prod"].Credential("payments")
	tr := rotation.New(memstore.New(), []byte("FAKE-fp-key-for-awssm-tests-0123"), rotation.Options{})
	ev, err := tr.Evaluate(context.Background(), cred, rotation.ProbeFor(build(t, cfg), "prod", "payments"))
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Rotation
	if r == nil {
		t.Fatal("no rotation result")
	}
	found := false
	for _, f := range r.Findings {
		found = found || f.Cause == checks.CauseRotationDisabled && strings.Contains(f.Detail, "Automatic rotation is off for aws_secretsmanager prod/payments")
	}
	if !found || r.Status != checks.StatusWarn {
		t.Fatalf("rotation result %s %s findings %+v; want a rotation_disabled finding", r.Status, r.Detail, r.Findings)
	}
}
