package rotation

import (
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/jwt"
)

// Deadline kinds, named as the status page and metrics name them.
const (
	KindRotation = "rotation" // rotated_at + max_age, or rotation.expires_at
	KindExpiry   = "expiry"   // the credential's own expires_at
	KindToken    = "token"    // a static JWT's exp claim
)

// Deadline is a moment by which a credential must be rotated or renewed.
type Deadline struct {
	Env        string    `json:"env"`
	Credential string    `json:"credential"`
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
}

// rotationDue is a credential's rotation deadline and how it was reached.
type rotationDue struct {
	at        time.Time
	basis     string // "rotated 2026-01-31 + max_age 90d"
	expiresAt bool   // rotation.expires_at is the binding term
}

// rotationDeadline is min(rotated_at + max_age, rotation.expires_at). The
// credential's own expires_at is an expiry, reported as token_expiring: it
// is when the key stops working, not a policy.
func rotationDeadline(cred *config.Credential, v *view) (rotationDue, bool) {
	r := cred.Rotation
	var due rotationDue
	found := false
	if r != nil && r.MaxAge > 0 {
		if at, ok := r.RotatedTime(); ok {
			due = rotationDue{at: at.Add(r.MaxAge.D()), basis: fmt.Sprintf("rotated %s + max_age %s", date(at), r.MaxAge)}
			found = true
		} else if at, ok := storeRotated(cred); ok {
			info, _ := storeInfo(cred)
			due = rotationDue{at: at.Add(r.MaxAge.D()), basis: fmt.Sprintf("rotated %s (LastRotatedDate of %s) + max_age %s", date(at), info.Describe, r.MaxAge)}
			found = true
		} else if (r.RotatedAt == config.RotatedAuto || r.RotatedAt == "" && fromStore(cred)) && v.sinceOK {
			seen := "rotated " + date(v.since.FirstSeen) + " (detected by fingerprint)"
			if v.since.Baseline {
				seen = "key first seen " + date(v.since.FirstSeen) + " (rotated_at: auto; it may be older)"
			}
			due = rotationDue{at: v.since.FirstSeen.Add(r.MaxAge.D()), basis: seen + " + max_age " + r.MaxAge.String()}
			found = true
		}
	}
	if r != nil && r.ExpiresAt != nil && (!found || r.ExpiresAt.Before(due.at)) {
		due = rotationDue{at: r.ExpiresAt.Time, basis: "set by rotation.expires_at", expiresAt: true}
		found = true
	}
	if at, what, ok := storeNext(cred); ok && (!found || at.Before(due.at)) {
		due = rotationDue{at: at, basis: "NextRotationDate of " + what}
		found = true
	}
	return due, found
}

// expiry is when a credential stops working: its configured expires_at or
// a static JWT's exp, whichever is first.
type expiry struct {
	at    time.Time
	kind  string // KindExpiry or KindToken
	token *checks.TokenInfo
}

func expiries(cred *config.Credential, v *view) []expiry {
	var out []expiry
	if cred.ExpiresAt != nil {
		out = append(out, expiry{at: cred.ExpiresAt.Time, kind: KindExpiry})
	}
	if tok := staticJWT(cred, v); tok != nil && tok.ExpiresAt != nil {
		out = append(out, expiry{at: *tok.ExpiresAt, kind: KindToken, token: tokenInfo(tok)})
	}
	slices.SortStableFunc(out, func(a, b expiry) int { return a.at.Compare(b.at) })
	return out
}

func isJWT(s string) bool { return jwt.LooksLikeJWT(s) }

// staticJWT decodes a long-lived JWT presented as-is; tokens that credmon
// fetches are refreshed before exp and are not deadlines.
func staticJWT(cred *config.Credential, v *view) *jwt.Token {
	if !v.readable || (cred.Type != config.TypeBearer && cred.Type != config.TypeAPIKey) || !isJWT(v.value) {
		return nil
	}
	tok, err := jwt.Decode(v.value)
	if err != nil {
		return nil
	}
	return tok
}

func tokenInfo(t *jwt.Token) *checks.TokenInfo {
	return &checks.TokenInfo{Issuer: t.Issuer, Audience: t.Audience, Subject: t.Subject, Scope: t.Scope,
		ExpiresAt: t.ExpiresAt, IssuedAt: t.IssuedAt, NotBefore: t.NotBefore}
}

func (t *Tracker) deadlines(cred *config.Credential, v *view) []Deadline {
	var out []Deadline
	if due, ok := rotationDeadline(cred, v); ok {
		out = append(out, Deadline{Env: cred.Env, Credential: cred.Name, Kind: KindRotation, At: due.at})
	}
	for _, e := range expiries(cred, v) {
		out = append(out, Deadline{Env: cred.Env, Credential: cred.Name, Kind: e.kind, At: e.at})
	}
	slices.SortStableFunc(out, func(a, b Deadline) int { return a.At.Compare(b.At) })
	return out
}

// band returns the narrowest warning band remaining falls in.
func (t *Tracker) band(remaining time.Duration) (string, bool) {
	label, in := "", false
	for _, b := range t.bands { // descending: the last match is the narrowest
		if remaining <= b {
			label, in = bandLabel(b), true
		}
	}
	return label, in
}

func bandLabel(d time.Duration) string { return strings.ReplaceAll(duration.Human(d), " ", "") }

// rotationResult judges the rotation deadline: ok, rotation_due within a
// band, rotation_overdue after.
func (t *Tracker) rotationResult(cred *config.Credential, v *view) *checks.Result {
	disabled := rotationDisabled(cred)
	due, ok := rotationDeadline(cred, v)
	if !ok {
		if disabled != nil {
			return v.result(cred, disabled.Cause, disabled.Detail, disabled.Hint)
		}
		return nil
	}
	r := t.judgeRotation(cred, v, due)
	if disabled != nil {
		r.AddFinding(*disabled)
	}
	return r
}

func (t *Tracker) judgeRotation(cred *config.Credential, v *view, due rotationDue) *checks.Result {
	remaining := due.at.Sub(v.now)
	hint := rotationHint(cred, due.expiresAt)
	if remaining <= 0 {
		r := v.result(cred, checks.CauseRotationOverdue,
			fmt.Sprintf("Rotation of the key was due %s (%s): %s", date(due.at), duration.Relative(v.now, due.at), due.basis), hint)
		r.Band = checks.Band{Value: v.bandID(due.at), Label: "overdue"}
		return r
	}
	if label, in := t.band(remaining); in {
		r := v.result(cred, checks.CauseRotationDue,
			fmt.Sprintf("Rotation of the key is due %s (%s): %s", date(due.at), duration.Relative(v.now, due.at), due.basis), hint)
		r.Band = checks.Band{Value: v.bandID(due.at), Label: label}
		return r
	}
	return v.result(cred, checks.CauseOK,
		fmt.Sprintf("Next rotation due %s (%s): %s", date(due.at), duration.Relative(v.now, due.at), due.basis), "")
}

func rotationHint(cred *config.Credential, expiresAt bool) string {
	where := place(secretOf(cred))
	if fromStore(cred) {
		return fmt.Sprintf("Rotate %s in the secret store (AWS: aws secretsmanager rotate-secret); credmon reads the new version within refresh_every, verifies it at once, and keeps probing the previous version until its grace period ends.", where)
	}
	h := fmt.Sprintf("Issue a new key at the provider and deploy it to %s; keep the old one in `previous` until every client has moved", where)
	if cred.Rotation.RotatedAt == config.RotatedAuto {
		h += ". credmon notices the new key by its fingerprint (rotated_at: auto) and restarts the clock"
	} else {
		h += ", then set rotation.rotated_at to the rotation date (or to auto, so credmon notices rotations itself)"
	}
	if expiresAt {
		h += ", and set rotation.expires_at to the new key's expiry"
	}
	return h + "."
}

// expiryResult judges the first expiry: ok, token_expiring within a band,
// token_expired after.
func (t *Tracker) expiryResult(cred *config.Credential, v *view) *checks.Result {
	es := expiries(cred, v)
	if len(es) == 0 {
		return nil
	}
	e := es[0]
	what, hint := "The key expires", fmt.Sprintf("Issue a new key before then, deploy it to %s and update the credential's expires_at.", place(secretOf(cred)))
	past := "The key expired"
	if e.kind == KindToken {
		what, past = "The token's exp is", "The token expired"
		hint = fmt.Sprintf("Issue a new token before then and deploy it to %s: exp is fixed when a token is issued, so only a new token helps (an oauth2 credential would be refreshed by credmon).", place(secretOf(cred)))
	}
	remaining := e.at.Sub(v.now)
	var r *checks.Result
	switch label, in := t.band(remaining); {
	case remaining <= 0:
		r = v.result(cred, checks.CauseTokenExpired, fmt.Sprintf("%s %s (%s)", past, date(e.at), duration.Relative(v.now, e.at)), strings.Replace(hint, " before then", "", 1))
		r.Band = checks.Band{Value: v.bandID(e.at), Label: "expired"}
	case in:
		r = v.result(cred, checks.CauseTokenExpiring, fmt.Sprintf("%s %s (%s)", what, date(e.at), duration.Relative(v.now, e.at)), hint)
		r.Band = checks.Band{Value: v.bandID(e.at), Label: label}
	default:
		r = v.result(cred, checks.CauseOK, fmt.Sprintf("%s %s (%s)", what, date(e.at), duration.Relative(v.now, e.at)), "")
	}
	r.Token = e.token
	return r
}

// place names where a new key goes, without its value.
func place(s config.Secret) string {
	if s.Source == config.SourceLiteral {
		return "the credential's secret (a literal in the config)"
	}
	return s.Describe()
}

// date shows a deadline as people wrote it: a bare date at midnight UTC,
// otherwise to the minute.
func date(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
