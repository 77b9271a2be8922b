package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"net/http"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// completion is the store's memory that a previous key was found rejected,
// so the good news is told once per previous key.
type completion struct {
	Previous string    `json:"previous"` // keyed fingerprint of the rejected key
	At       time.Time `json:"at"`
}

// ProbeFor picks the check that probes env/credential's previous key: the
// first one using the credential, in Build's order. It returns a nil
// interface (never a typed nil) when no check uses it.
func ProbeFor(all []*checks.Check, env, credential string) PreviousProbe {
	for _, c := range all {
		if c != nil && c.Env == env && c.Cfg != nil && c.Cfg.Credential == credential {
			return c
		}
	}
	return nil
}

// verdict classifies a probe made with the previous key.
type verdict int

const (
	inconclusive verdict = iota // not sent, or the API failed: nothing learned
	accepted
	rejected
)

func judge(r checks.Result) verdict {
	switch r.Cause {
	case checks.CauseOK, checks.CauseForbidden, checks.CauseInsufficientScope:
		// A 403 means the key authenticated: it is alive.
		return accepted
	case checks.CauseTokenExpired:
		if r.HTTPStatus >= 200 && r.HTTPStatus < 300 {
			return accepted // expired by our clock, yet the API took it
		}
		return rejected
	case checks.CauseUnauthorized, checks.CauseInvalidToken, checks.CauseRevoked:
		return rejected
	}
	return inconclusive
}

// graceStart is when the current key took over: the configured rotated_at,
// else when credmon first saw it.
func graceStart(cred *config.Credential, v *view) (time.Time, bool) {
	if at, ok := cred.Rotation.RotatedTime(); ok {
		return at, true
	}
	if at, ok := storeRotated(cred); ok {
		return at, true
	}
	if v.sinceOK {
		return v.since.FirstSeen, true
	}
	return time.Time{}, false
}

// previousResult probes with the previous key and judges the answer
// against the grace period. Only the one caller, across replicas, that
// first finds the previous key rejected says "rotation complete".
func (t *Tracker) previousResult(ctx context.Context, cred *config.Credential, v *view, probe PreviousProbe) (*checks.Result, error) {
	if !cred.Previous.IsSet() {
		return nil, nil
	}
	pv, err := cred.Previous.Resolve()
	if err != nil || pv.Text == "" || fromStore(cred) && pv.Text == v.value {
		// Nothing to probe with (hygiene is the checks' job), or the
		// store's previous version holds the current key.
		return nil, nil
	}
	pr, configured := probe.RunWithPrevious(ctx, v.now)
	if !configured {
		return nil, nil
	}
	verdict := judge(pr)
	if verdict == inconclusive {
		return nil, nil
	}
	var prevFP string
	if !v.noFP {
		prevFP = fingerprint(t.key, cred, pv.Text)
	}
	who := fmt.Sprintf("The previous key (%s, %s)", cred.Previous.Describe(), checks.Fingerprint(pv.Text))
	if pr.Check != "" {
		who += " probed with " + pr.Check
	}

	if verdict == rejected && v.noFP {
		// Without a fingerprint the completion cannot be told once per
		// previous key: say what is true now, every time.
		r := v.result(cred, checks.CauseOK, who+" is rejected, as it should be ("+statusWords(pr)+")",
			"Remove `previous` from the credential: the old key is dead and needs no more probing.")
		r.HTTPStatus = pr.HTTPStatus
		return r, nil
	}
	if verdict == rejected {
		first, since, err := t.complete(ctx, cred, prevFP, v.now)
		if err != nil {
			return nil, err
		}
		detail := who + " is now rejected (" + statusWords(pr) + ") — rotation complete"
		if !first {
			detail = fmt.Sprintf("%s is rejected, as it should be (since %s)", who, date(since))
		}
		r := v.result(cred, checks.CauseOK, detail, "Remove `previous` from the credential: the old key is dead and needs no more probing.")
		r.HTTPStatus = pr.HTTPStatus
		return r, nil
	}

	start, known := graceStart(cred, v)
	if !known && v.noFP {
		r := v.result(cred, checks.CauseOK,
			who+" still works; its grace period cannot be timed: with fingerprints off (no store.fingerprint_key) credmon does not know when the current key took over",
			"Set rotation.rotated_at to the date the current key was deployed, or set store.fingerprint_key so credmon notices rotations itself.")
		r.HTTPStatus = pr.HTTPStatus
		return r, nil
	}
	if !known {
		return nil, nil
	}
	grace := t.grace
	if cred.Rotation != nil && cred.Rotation.Grace > 0 {
		grace = cred.Rotation.Grace.D()
	}
	end := start.Add(grace)
	if v.now.Before(end) {
		r := v.result(cred, checks.CauseOK,
			fmt.Sprintf("%s still works, as expected until its grace period ends %s (%s)", who, date(end), duration.Relative(v.now, end)),
			"Move every client to the new key before then, then revoke the previous key at the provider and remove `previous`.")
		r.HTTPStatus = pr.HTTPStatus
		return r, nil
	}
	r := v.result(cred, checks.CausePreviousKeyStillValid,
		fmt.Sprintf("%s is still accepted (%s), %s after its grace period ended %s", who, statusWords(pr), duration.Human(v.now.Sub(end)), date(end)),
		"Revoke the previous key at the provider — until then anyone holding it can use it — then remove `previous` from the credential.")
	r.HTTPStatus = pr.HTTPStatus
	if prevFP != "" {
		r.Band = checks.Band{Value: prevFP[:8], Label: "previous"}
	} else {
		r.Band = checks.Band{Value: v.bandID(end), Label: "previous"}
	}
	return r, nil
}

func statusWords(r checks.Result) string {
	if r.HTTPStatus == 0 {
		return string(r.Cause)
	}
	return fmt.Sprintf("HTTP %d %s", r.HTTPStatus, http.StatusText(r.HTTPStatus))
}

// complete records that the previous key prevFP is rejected. first is true
// for the one caller that recorded it; since is when it was first recorded.
func (t *Tracker) complete(ctx context.Context, cred *config.Credential, prevFP string, now time.Time) (first bool, since time.Time, err error) {
	k := keyDonePrefix + credKey(cred)
	for range casAttempts {
		raw, err := t.kv.Get(ctx, k)
		if err != nil && !notFound(err) {
			return false, time.Time{}, fmt.Errorf("rotation: read %s: %w", k, err)
		}
		var c completion
		if raw != nil && json.Unmarshal(raw, &c) == nil && c.Previous == prevFP {
			return false, c.At, nil
		}
		b, err := json.Marshal(completion{Previous: prevFP, At: now})
		if err != nil {
			return false, time.Time{}, err
		}
		ok, err := t.kv.CompareAndSwap(ctx, k, raw, b, 0)
		if err != nil {
			return false, time.Time{}, fmt.Errorf("rotation: record %s: %w", k, err)
		}
		if ok {
			return true, now, nil
		}
	}
	return false, time.Time{}, fmt.Errorf("rotation: record %s: the store kept changing under us", k)
}
