package rotation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credmon/credmon/checks/config"
)

// Store keys. Values are JSON.
const (
	keyFPPrefix   = "rotation:fp:"   // + env/cred: record
	keyDonePrefix = "rotation:done:" // + env/cred: completion, said once
	// legacyKeyHMAC is where earlier versions kept a generated HMAC key,
	// beside the fingerprints it was meant to protect.
	legacyKeyHMAC = "rotation:hmac-key"
	// maxEarlier bounds the fingerprints remembered per credential: enough
	// for two replicas disagreeing during a rollout, or a rollback.
	maxEarlier = 8
	// casAttempts bounds retries when other replicas keep winning the CAS.
	casAttempts = 8
)

// RemoveLegacyKey deletes the HMAC key that earlier versions generated and
// kept in the store. Anyone who could read it could test guesses against
// every fingerprint, so it must not outlive the upgrade. removed says
// whether there was one.
func RemoveLegacyKey(ctx context.Context, kv KV) (removed bool, err error) {
	for range casAttempts {
		b, err := kv.Get(ctx, legacyKeyHMAC)
		if notFound(err) {
			return removed, nil
		}
		if err != nil {
			return removed, fmt.Errorf("rotation: read legacy fingerprint key: %w", err)
		}
		ok, err := kv.CompareAndSwap(ctx, legacyKeyHMAC, b, nil, 0)
		if err != nil {
			return removed, fmt.Errorf("rotation: delete legacy fingerprint key: %w", err)
		}
		removed = removed || ok
	}
	return removed, errors.New("rotation: legacy fingerprint key kept coming back in the store")
}

// seen is a fingerprint and when credmon first saw it.
type seen struct {
	FP        string    `json:"fp"`
	FirstSeen time.Time `json:"first_seen"`
	Baseline  bool      `json:"baseline,omitempty"`
}

// record is what the store keeps per credential: the current key's
// fingerprint and the ones before it. Never the key itself.
type record struct {
	// KeyID names the HMAC key the fingerprints were made with, so a new
	// key is not mistaken for a rotation of every credential.
	KeyID     string    `json:"kid"`
	FP        string    `json:"fp"`
	FirstSeen time.Time `json:"first_seen"`
	// Baseline means FirstSeen is when credmon first looked at the
	// credential, not a rotation it watched happen: the key may be older.
	Baseline bool   `json:"baseline,omitempty"`
	Earlier  []seen `json:"earlier,omitempty"` // newest first
}

// sighting returns when fp was first seen; fp "" means the current key.
func (r *record) sighting(fp string) (seen, bool) {
	if r == nil {
		return seen{}, false
	}
	if fp == "" || fp == r.FP {
		return seen{FP: r.FP, FirstSeen: r.FirstSeen, Baseline: r.Baseline}, true
	}
	for _, s := range r.Earlier {
		if s.FP == fp {
			return s, true
		}
	}
	return seen{}, false
}

// change is a fingerprint that was never seen before for a credential.
type change struct {
	rec     record
	earlier string // the fingerprint it replaced
}

func mac(key []byte, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprint is the keyed hash of what makes a credential that credential.
// A basic credential's username is part of it: the same password under
// another user is another credential. key must not be empty: an HMAC
// under a known key is a bare hash, which a guess can be checked against.
func fingerprint(key []byte, cred *config.Credential, value string) string {
	msg := "credmon/rotation/v1\x00" + value
	if cred.Type == config.TypeBasic {
		msg = "credmon/rotation/v1\x00" + cred.Username + "\x00" + value
	}
	return mac(key, msg)
}

// secretOf returns the secret that identifies a credential's current key.
func secretOf(cred *config.Credential) config.Secret { return cred.KeySecret() }

func credKey(cred *config.Credential) string { return cred.Env + "/" + cred.Name }

// load reads a credential's record; nil when there is none yet.
func (t *Tracker) load(ctx context.Context, cred *config.Credential) (*record, []byte, error) {
	raw, err := t.kv.Get(ctx, keyFPPrefix+credKey(cred))
	if notFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("rotation: read %s: %w", credKey(cred), err)
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil || rec.FP == "" {
		// A damaged record is replaced as if absent (the raw bytes are kept
		// for the CAS), rather than wedging rotation tracking.
		return nil, raw, nil
	}
	return &rec, raw, nil
}

// observe records that fp is the credential's current fingerprint. It
// returns the record as stored and, when fp was never seen before for this
// credential, the change — to exactly one caller across every replica: the
// one whose compare-and-swap recorded it.
func (t *Tracker) observe(ctx context.Context, cred *config.Credential, fp, keyID string, now time.Time) (record, *change, error) {
	k := keyFPPrefix + credKey(cred)
	for range casAttempts {
		old, raw, err := t.load(ctx, cred)
		if err != nil {
			return record{}, nil, err
		}
		next, ch := advance(old, fp, keyID, now)
		if old != nil && next.FP == old.FP && next.KeyID == old.KeyID {
			return *old, nil, nil
		}
		b, err := json.Marshal(next)
		if err != nil {
			return record{}, nil, err
		}
		ok, err := t.kv.CompareAndSwap(ctx, k, raw, b, 0)
		if err != nil {
			return record{}, nil, fmt.Errorf("rotation: record %s: %w", credKey(cred), err)
		}
		if ok {
			return next, ch, nil
		}
		// Someone else wrote first: look again. If they recorded this very
		// fingerprint, the next round finds it current and says nothing.
	}
	return record{}, nil, fmt.Errorf("rotation: record %s: the store kept changing under us", credKey(cred))
}

// advance computes the record after seeing fp; change is set only for a
// fingerprint never seen before.
func advance(old *record, fp, keyID string, now time.Time) (record, *change) {
	switch {
	case old == nil:
		return record{KeyID: keyID, FP: fp, FirstSeen: now, Baseline: true}, nil
	case old.KeyID != keyID:
		// Fingerprints under another HMAC key cannot be compared: assume
		// the key is unchanged and keep its age, rather than announce a
		// rotation of every credential.
		return record{KeyID: keyID, FP: fp, FirstSeen: old.FirstSeen, Baseline: old.Baseline}, nil
	case old.FP == fp:
		return *old, nil
	}
	earlier := append([]seen{{FP: old.FP, FirstSeen: old.FirstSeen, Baseline: old.Baseline}}, old.Earlier...)
	if i := slices.IndexFunc(earlier, func(s seen) bool { return s.FP == fp }); i >= 0 {
		// A key seen before (a rollback, or replicas that disagree during
		// a rollout) is current again, with its own age, but it is no news.
		back := earlier[i]
		earlier = slices.Delete(earlier, i, i+1)
		return record{KeyID: keyID, FP: fp, FirstSeen: back.FirstSeen, Baseline: back.Baseline, Earlier: earlier}, nil
	}
	if len(earlier) > maxEarlier {
		earlier = earlier[:maxEarlier]
	}
	next := record{KeyID: keyID, FP: fp, FirstSeen: now, Earlier: earlier}
	return next, &change{rec: next, earlier: old.FP}
}
