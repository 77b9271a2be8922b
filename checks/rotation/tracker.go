package rotation

import (
	"context"
	"slices"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// Options tune a Tracker; the zero value is usable.
type Options struct {
	// Now is the clock; tests pass a fake one.
	Now func() time.Time
	// WarnBefore are the warning bands, in any order (default
	// config.DefaultExpiryWarnBefore).
	WarnBefore []time.Duration
	// DefaultGrace applies to credentials without rotation.grace
	// (default config.DefaultRotationGrace).
	DefaultGrace time.Duration
}

// Tracker evaluates credentials' lifecycles. It keeps no state of its own
// beyond the fingerprint key: everything that must survive a restart or be
// agreed by replicas lives in the store, so any number of Trackers over one
// store, given one key, behave as one.
type Tracker struct {
	kv    KV
	key   []byte // nil: fingerprints are off
	keyID string // names key in records, so a new key is not a rotation
	now   func() time.Time
	bands []time.Duration // descending
	grace time.Duration
}

// New returns a Tracker over kv. hmacKey keys the fingerprints of secrets;
// it is never written to kv, where anyone who reads the store could use it
// to test guesses against the fingerprints. With no key, fingerprints are
// off: rotations are not detected, a previous key's grace is timed only
// from a configured rotated_at date, and warning bands are told apart by
// their deadline rather than by the key.
func New(kv KV, hmacKey []byte, opts Options) *Tracker {
	t := &Tracker{kv: kv, now: opts.Now, grace: opts.DefaultGrace}
	if len(hmacKey) > 0 {
		t.key = slices.Clone(hmacKey)
		t.keyID = mac(t.key, "credmon key id")[:8]
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.grace <= 0 {
		t.grace = config.DefaultRotationGrace
	}
	for _, b := range opts.WarnBefore {
		if b > 0 {
			t.bands = append(t.bands, b)
		}
	}
	if len(t.bands) == 0 {
		t.bands = config.DefaultExpiryWarnBefore()
	}
	slices.Sort(t.bands)
	slices.Reverse(t.bands)
	t.bands = slices.Compact(t.bands)
	return t
}

// Fingerprints reports whether the tracker has a key to fingerprint
// secrets with; without one it detects no rotations.
func (t *Tracker) Fingerprints() bool { return t.key != nil }

// PreviousProbe probes an API presenting the credential's previous key;
// *checks.Check implements it with RunWithPrevious. configured is false
// when there is no previous key to present.
type PreviousProbe interface {
	RunWithPrevious(ctx context.Context, tick time.Time) (res checks.Result, configured bool)
}

// Evaluation is what one look at a credential found. Results are
// credential-level (Env and Credential set, Check empty), at most one per
// concern so that an ok about one concern never resolves another's incident.
type Evaluation struct {
	// Rotation is the rotation concern: the deadline (ok, rotation_due,
	// rotation_overdue) and the previous key (previous_key_still_valid),
	// the worse one as the cause and the other as a finding. Nil when the
	// credential has neither a rotation deadline nor a probed previous key.
	Rotation *checks.Result
	// Expiry is the credential's expires_at and a static JWT's exp,
	// whichever comes first (ok, token_expiring, token_expired). Nil when
	// neither is known.
	Expiry *checks.Result
	// Rotated is set when the current key was never seen before: a
	// rotation. Across every replica and call it is reported once.
	Rotated *Rotated
	// Deadlines are the credential's known deadlines, soonest first.
	Deadlines []Deadline
	// Pending is set, once across every replica and call, when a secret
	// store's pending version was verified: the daemon tells it once.
	Pending *Pending
}

// Rotated is a key rotation detected by fingerprint. The daemon verifies the
// new key at once with the credential's checks and sends one "rotated"
// message saying whether it works.
type Rotated struct {
	Env        string
	Credential string
	Identity   string    // the new key, redacted ("api_key sk_live_…a1b2")
	At         time.Time // when the new key was first seen
	// Fingerprint and Previous are the first 8 hex digits of the keyed
	// fingerprints of the new key and of the key it replaced.
	Fingerprint string
	Previous    string
}

// view is the credential's current key as credmon sees it now.
type view struct {
	now      time.Time
	value    string // the secret itself, for JWT claims only: never output
	readable bool
	fp       string // keyed fingerprint of value; "" when unreadable or fingerprints are off
	noFP     bool   // fingerprints are off (no key)
	// since is when this key was first seen; ok false when never recorded.
	since    seen
	sinceOK  bool
	identity string
}

// bandID tells one key's warning bands from another's, so a new key with
// its own deadline is warned about afresh: the fingerprint's first 8 hex
// digits, or — when fingerprints are off — the deadline's date, which is
// the best that can be said without a key.
func (v *view) bandID(deadline time.Time) string {
	switch {
	case v.fp != "":
		return v.fp[:8]
	case v.noFP && v.readable:
		return deadline.UTC().Format("20060102")
	}
	return "nokey"
}

// tracked says whether a credential's fingerprint is recorded: to date an
// automatic rotation, or to time a previous key's grace.
func tracked(cred *config.Credential) bool {
	auto := cred.Rotation != nil && cred.Rotation.RotatedAt == config.RotatedAuto
	return auto || cred.Previous.IsSet() || fromStore(cred)
}

// look resolves the current key — re-reading env and files, so a rotated
// secret is seen — and records its fingerprint when it is tracked.
func (t *Tracker) look(ctx context.Context, cred *config.Credential) (*view, *change, error) {
	v := &view{now: t.now()}
	val, err := secretOf(cred).Resolve()
	if err == nil && val.Text != "" {
		v.value, v.readable = val.Text, true
		v.identity = cred.Type + " " + checks.Fingerprint(val.Text)
	}
	needFP := v.readable && (tracked(cred) || cred.Rotation != nil || cred.ExpiresAt != nil || isJWT(v.value))
	keyID := t.keyID
	v.noFP = !t.Fingerprints()
	if needFP && !v.noFP {
		v.fp = fingerprint(t.key, cred, v.value)
	}
	if !tracked(cred) || v.noFP {
		// Nothing to record, or no key to record it with: a bare hash of
		// the secret would be no secret at all.
		return v, nil, nil
	}
	if v.fp == "" {
		// An unreadable key is not recorded.
		rec, _, err := t.load(ctx, cred)
		v.since, v.sinceOK = rec.sighting("")
		return v, nil, err
	}
	rec, ch, err := t.observe(ctx, cred, v.fp, keyID, v.now)
	if err != nil {
		return nil, nil, err
	}
	v.since, v.sinceOK = rec.sighting(v.fp)
	return v, ch, nil
}

// Evaluate looks at one credential now: it records its fingerprint when
// rotation tracking needs it, judges its deadlines against the warning
// bands and, with probe, whether the previous key is still accepted. probe
// may be nil. An error means the store could not be used; the credential's
// secret being unreadable is not an error (its checks report that).
func (t *Tracker) Evaluate(ctx context.Context, cred *config.Credential, probe PreviousProbe) (*Evaluation, error) {
	v, ch, err := t.look(ctx, cred)
	if err != nil {
		return nil, err
	}
	ev := &Evaluation{Deadlines: t.deadlines(cred, v)}
	// A new version in a secret store is a rotation whatever rotated_at says.
	if ch != nil && (fromStore(cred) || cred.Rotation != nil && cred.Rotation.RotatedAt == config.RotatedAuto) {
		ev.Rotated = &Rotated{Env: cred.Env, Credential: cred.Name, Identity: v.identity,
			At: ch.rec.FirstSeen, Fingerprint: ch.rec.FP[:8], Previous: ch.earlier[:8]}
	}
	deadline := t.rotationResult(cred, v)
	var previous *checks.Result
	if probe != nil {
		if previous, err = t.previousResult(ctx, cred, v, probe); err != nil {
			return nil, err
		}
	}
	var pending *checks.Result
	if probe != nil {
		if pending, ev.Pending, err = t.pendingResult(ctx, cred, v, probe); err != nil {
			return nil, err
		}
	}
	ev.Rotation = merge(merge(deadline, previous), pending)
	if ev.Rotation == nil && fromStore(cred) && v.readable {
		// Say something about a store secret's rotation even when there is
		// nothing to warn of, so a pending version's failure resolves once
		// the version is gone.
		ev.Rotation = v.result(cred, checks.CauseOK, "No rotation in progress for "+place(secretOf(cred))+" and no deadline known", "")
	}
	ev.Expiry = t.expiryResult(cred, v)
	return ev, nil
}

// result starts a credential-level result.
func (v *view) result(cred *config.Credential, cause checks.Cause, detail, hint string) *checks.Result {
	r := &checks.Result{
		Env: cred.Env, Credential: cred.Name, Identity: v.identity,
		Tick: v.now, Started: v.now,
	}
	r.SetCause(cause, detail, hint)
	return r
}

// merge combines the deadline and previous-key results of the rotation
// concern: the worse is the result, the other a finding when not ok.
func merge(deadline, previous *checks.Result) *checks.Result {
	switch {
	case deadline == nil:
		return previous
	case previous == nil:
		return deadline
	}
	main, other := deadline, previous
	if previous.Status.Rank() >= deadline.Status.Rank() && previous.Cause != checks.CauseOK {
		main, other = previous, deadline
	}
	out := *main
	if other.Cause == checks.CauseOK {
		if main.Cause == checks.CauseOK {
			out.Detail = main.Detail + "; " + lowerFirst(other.Detail)
			if out.Hint == "" {
				out.Hint = other.Hint
			}
		}
		return &out
	}
	out.AddFinding(checks.Finding{Cause: other.Cause, Detail: other.Detail, Hint: other.Hint})
	return &out
}
