package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// What a secret store (AWS Secrets Manager) adds to a credential's
// lifecycle: its rotation dates, whether it rotates at all, and a pending
// version — a rotation in progress — verified before it is promoted.

const keyPendingPrefix = "rotation:pending:" // + env/cred: pendingRecord

// SecretProbe probes an API presenting another secret than the
// credential's own; *checks.Check implements it with RunWithSecret.
type SecretProbe interface {
	RunWithSecret(ctx context.Context, tick time.Time, secret config.Secret) (res checks.Result, configured bool)
}

// Pending is a pending version found working, told once: across replicas
// and evaluations, one Evaluation carries it. A pending version that does
// not work is the rotation concern's fail instead.
type Pending struct {
	Env        string
	Credential string
	Version    string // the store's version id, shortened: not secret
	Works      bool
	Result     checks.Result // the rotation-concern result that says so
}

// pendingRecord is the store's memory of a pending version's verdict, so a
// version is probed and reported once.
type pendingRecord struct {
	Version string    `json:"version"`
	Works   bool      `json:"works"`
	Detail  string    `json:"detail"`
	Status  int       `json:"http_status,omitempty"`
	At      time.Time `json:"at"`
}

// storeInfo is the credential's secret store metadata, when its secret
// comes from a store and was read.
func storeInfo(cred *config.Credential) (config.StoreInfo, bool) {
	return secretOf(cred).StoreInfo()
}

// fromStore reports whether the credential's secret comes from a store:
// its versions then are rotations, with no rotated_at: auto needed.
func fromStore(cred *config.Credential) bool {
	return secretOf(cred).Source == config.SourceStore
}

// storeRotated is the store's LastRotatedDate, unless the config sets
// rotated_at (the config wins).
func storeRotated(cred *config.Credential) (time.Time, bool) {
	if cred.Rotation != nil && cred.Rotation.RotatedAt != "" {
		return time.Time{}, false
	}
	info, ok := storeInfo(cred)
	if !ok || info.LastRotated.IsZero() {
		return time.Time{}, false
	}
	return info.LastRotated, true
}

// storeNext is the store's NextRotationDate, unless the config sets
// rotation.expires_at.
func storeNext(cred *config.Credential) (time.Time, string, bool) {
	if cred.Rotation != nil && cred.Rotation.ExpiresAt != nil {
		return time.Time{}, "", false
	}
	info, ok := storeInfo(cred)
	if !ok || info.NextRotation.IsZero() {
		return time.Time{}, "", false
	}
	return info.NextRotation, info.Describe, true
}

// rotationDisabled is a finding when a max_age asks for rotation and the
// store says its automatic rotation is off.
func rotationDisabled(cred *config.Credential) *checks.Finding {
	if cred.Rotation == nil || cred.Rotation.MaxAge <= 0 {
		return nil
	}
	info, ok := storeInfo(cred)
	if !ok || info.RotationEnabled == nil || *info.RotationEnabled {
		return nil
	}
	return &checks.Finding{Cause: checks.CauseRotationDisabled,
		Detail: fmt.Sprintf("Automatic rotation is off for %s, yet rotation.max_age is %s: nothing will rotate the key before its deadline", info.Describe, cred.Rotation.MaxAge),
		Hint:   "Turn rotation on for the secret (aws secretsmanager rotate-secret --rotation-rules AutomaticallyAfterDays=N with a rotation function), or rotate it by hand before the deadline."}
}

// pendingResult verifies a store's pending version before it is promoted.
// A version that works is recorded and told once (first is the one caller,
// across replicas, that recorded it); later evaluations repeat the verdict
// without probing. A version the API rejects is probed again at every
// evaluation — a rotation function puts the pending value before its
// setSecret step configures it at the API — and is a fail each time, so
// the incident thresholds decide when it alerts.
func (t *Tracker) pendingResult(ctx context.Context, cred *config.Credential, v *view, probe PreviousProbe) (*checks.Result, *Pending, error) {
	if !fromStore(cred) || probe == nil {
		return nil, nil, nil
	}
	sp, ok := probe.(SecretProbe)
	if !ok {
		return nil, nil, nil
	}
	ps := secretOf(cred).WithStage(config.StagePending)
	pv, err := ps.ResolveContext(ctx)
	if err != nil || pv.Absent || pv.Text == "" || pv.Text == v.value {
		return nil, nil, nil
	}
	k := keyPendingPrefix + credKey(cred)
	raw, err := t.kv.Get(ctx, k)
	if err != nil && !notFound(err) {
		return nil, nil, fmt.Errorf("rotation: read %s: %w", k, err)
	}
	var rec pendingRecord
	if raw != nil && json.Unmarshal(raw, &rec) == nil && rec.Version == pv.Version && rec.Works {
		return pendingOutcome(cred, v, rec), nil, nil
	}
	pr, configured := sp.RunWithSecret(ctx, v.now, ps)
	if !configured {
		return nil, nil, nil
	}
	verdict := judge(pr)
	if verdict == inconclusive {
		return nil, nil, nil // try again at the next evaluation
	}
	who := fmt.Sprintf("The pending version (AWSPENDING, version %s, %s) of %s", short(pv.Version), checks.Fingerprint(pv.Text), ps.Ref)
	if pr.Check != "" {
		who += ", probed with " + pr.Check + ","
	}
	fresh := pendingRecord{Version: pv.Version, Works: verdict == accepted, Status: pr.HTTPStatus, At: v.now}
	if !fresh.Works {
		fresh.Detail = who + " was verified before it is promoted: it does NOT work (" + statusWords(pr) + ")"
		return pendingOutcome(cred, v, fresh), nil, nil
	}
	fresh.Detail = who + " was verified before it is promoted: it works (" + statusWords(pr) + ")"
	b, err := json.Marshal(fresh)
	if err != nil {
		return nil, nil, err
	}
	won, err := t.kv.CompareAndSwap(ctx, k, raw, b, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("rotation: record %s: %w", k, err)
	}
	r := pendingOutcome(cred, v, fresh)
	if !won {
		return r, nil, nil // another replica recorded it and tells it
	}
	return r, &Pending{Env: cred.Env, Credential: cred.Name, Version: short(pv.Version), Works: true, Result: *r}, nil
}

func pendingOutcome(cred *config.Credential, v *view, rec pendingRecord) *checks.Result {
	if rec.Works {
		r := v.result(cred, checks.CauseOK, rec.Detail, "")
		r.HTTPStatus = rec.Status
		return r
	}
	r := v.result(cred, checks.CausePendingKeyRejected, rec.Detail,
		"Do not let the rotation finish: once AWSCURRENT moves to this version, every consumer reading the secret gets a key the API rejects. Put a working value into the pending version, or cancel the rotation (aws secretsmanager cancel-rotate-secret), and check the rotation function's setSecret step.")
	r.HTTPStatus = rec.Status
	r.Band = checks.Band{Value: short(rec.Version), Label: "pending"}
	return r
}

// short shortens a version id for display; ids are not secrets.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
