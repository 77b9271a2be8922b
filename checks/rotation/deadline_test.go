package rotation_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/rotation"
)

func TestRotationBands(t *testing.T) {
	deadline := mustTime(t, "2026-04-01") // 2026-01-01 + 90d
	c := cred(config.Literal(keyA), &config.Rotation{MaxAge: config.Duration(90 * day), RotatedAt: "2026-01-01"})
	clk := newClock(deadline)
	tr := newTracker(newKV(), clk)

	var fp string
	for _, tc := range []struct {
		before time.Duration // deadline minus now
		cause  checks.Cause
		band   string // after the fingerprint
		words  string // in the detail
	}{
		{20 * day, checks.CauseOK, "", "in 20d"},
		{14*day + time.Hour, checks.CauseOK, "", "in 14d 1h"},
		{14 * day, checks.CauseRotationDue, "14d", "in 14d"},
		{10 * day, checks.CauseRotationDue, "14d", "in 10d"},
		{7 * day, checks.CauseRotationDue, "7d", "in 7d"},
		{6*day + 4*time.Hour, checks.CauseRotationDue, "7d", "in 6d 4h"},
		{day, checks.CauseRotationDue, "1d", "in 1d"},
		{time.Hour, checks.CauseRotationDue, "1d", "in 1h"},
		{0, checks.CauseRotationOverdue, "overdue", "0s ago"},
		{-3 * day, checks.CauseRotationOverdue, "overdue", "3d ago"},
	} {
		clk.Set(deadline.Add(-tc.before))
		ev := evaluate(t, tr, c, nil)
		r := ev.Rotation
		band := ""
		if tc.band != "" {
			if r != nil && r.Band.String() != "" {
				fp = bandPrefix(t, r.Band.String())
			}
			band = fp + "/" + tc.band
		}
		wantResult(t, r, tc.cause, band)
		if !strings.Contains(r.Detail, "2026-04-01") || !strings.Contains(r.Detail, tc.words) {
			t.Errorf("%s before: detail %q lacks the date or %q", tc.before, r.Detail, tc.words)
		}
		if tc.cause != checks.CauseOK && !strings.Contains(r.Hint, "rotated_at") {
			t.Errorf("hint %q does not say what to set", r.Hint)
		}
		if ev.Expiry != nil || ev.Rotated != nil {
			t.Errorf("unexpected expiry or rotation event: %+v", ev)
		}
		assertNoSecret(t, ev, keyA)
	}
}

func TestBandFollowsTheKey(t *testing.T) {
	now := mustTime(t, "2026-03-28")
	rot := &config.Rotation{MaxAge: config.Duration(90 * day), RotatedAt: "2026-01-01"}
	tr := newTracker(newKV(), newClock(now))
	a := evaluate(t, tr, cred(config.Literal(keyA), rot), nil).Rotation
	again := evaluate(t, tr, cred(config.Literal(keyA), rot), nil).Rotation
	b := evaluate(t, tr, cred(config.Literal(keyB), rot), nil).Rotation
	wantResult(t, a, checks.CauseRotationDue, a.Band.String())
	if a.Band.String() != again.Band.String() || !strings.HasSuffix(a.Band.String(), "/7d") {
		t.Fatalf("band not stable for one key: %q then %q", a.Band.String(), again.Band.String())
	}
	if b.Band.String() == a.Band.String() || !strings.HasSuffix(b.Band.String(), "/7d") {
		t.Fatalf("another key in the same band must have another band value: %q and %q", a.Band.String(), b.Band.String())
	}
	// Keyed, not a bare hash: the fingerprint is not the start of SHA-256.
	sum := sha256.Sum256([]byte(keyA))
	if strings.HasPrefix(hex.EncodeToString(sum[:]), bandPrefix(t, a.Band.String())) {
		t.Fatal("band fingerprint is a bare SHA-256 of the secret")
	}
	// And another HMAC key gives another fingerprint.
	other := rotation.New(newKV(), []byte("another-FAKE-hmac-key"), rotation.Options{Now: func() time.Time { return now }})
	if o := evaluate(t, other, cred(config.Literal(keyA), rot), nil).Rotation; o.Band.String() == a.Band.String() {
		t.Fatal("fingerprint does not depend on the HMAC key")
	}
}

func TestRotationExpiresAtIsADeadline(t *testing.T) {
	exp := config.Time{Time: mustTime(t, "2026-02-10T12:00:00Z")}
	c := cred(config.Literal(keyA), &config.Rotation{MaxAge: config.Duration(90 * day), RotatedAt: "2026-01-01", ExpiresAt: &exp})
	tr := newTracker(newKV(), newClock(mustTime(t, "2026-02-09")))
	r := evaluate(t, tr, c, nil).Rotation
	wantResult(t, r, checks.CauseRotationDue, r.Band.String())
	if !strings.HasSuffix(r.Band.String(), "/7d") || !strings.Contains(r.Detail, "2026-02-10 12:00 UTC") || !strings.Contains(r.Detail, "in 1d 12h") {
		t.Fatalf("band %q detail %q: want the rotation.expires_at deadline", r.Band.String(), r.Detail)
	}
	if !strings.Contains(r.Hint, "rotation.expires_at") {
		t.Fatalf("hint %q does not mention rotation.expires_at", r.Hint)
	}
}

func TestCustomBands(t *testing.T) {
	clk := newClock(mustTime(t, "2026-03-31T12:00:00Z"))
	tr := rotation.New(newKV(), hmacKey, rotation.Options{Now: clk.Now, WarnBefore: []time.Duration{2 * time.Hour, 30 * day}})
	c := cred(config.Literal(keyA), &config.Rotation{MaxAge: config.Duration(90 * day), RotatedAt: "2026-01-01"})
	if r := evaluate(t, tr, c, nil).Rotation; !strings.HasSuffix(r.Band.String(), "/30d") {
		t.Fatalf("12h before: band %q, want the 30d band", r.Band.String())
	}
	clk.Set(mustTime(t, "2026-03-31T23:00:00Z"))
	if r := evaluate(t, tr, c, nil).Rotation; !strings.HasSuffix(r.Band.String(), "/2h") {
		t.Fatalf("1h before: band %q, want the 2h band", r.Band.String())
	}
}

func TestCredentialAndTokenExpiry(t *testing.T) {
	now := mustTime(t, "2026-03-01")
	exp := now.Add(5*day + 2*time.Hour)
	token := fakeJWT(t, map[string]any{"iss": "https://auth.example.test/", "sub": "svc", "exp": exp.Unix()})
	credExp := config.Time{Time: now.Add(40 * day)}
	c := &config.Credential{Name: "payments-key", Env: "prod", Type: config.TypeBearer, Secret: config.Literal(token), ExpiresAt: &credExp,
		Rotation: &config.Rotation{MaxAge: config.Duration(90 * day), RotatedAt: "2026-01-01"}}
	clk := newClock(now)
	tr := newTracker(newKV(), clk)

	ev := evaluate(t, tr, c, nil)
	wantResult(t, ev.Expiry, checks.CauseTokenExpiring, ev.Expiry.Band.String())
	if !strings.HasSuffix(ev.Expiry.Band.String(), "/7d") || !strings.Contains(ev.Expiry.Detail, "in 5d 2h") {
		t.Fatalf("token expiry: band %q detail %q", ev.Expiry.Band.String(), ev.Expiry.Detail)
	}
	if ev.Expiry.Token == nil || ev.Expiry.Token.ExpiresAt == nil || !ev.Expiry.Token.ExpiresAt.Equal(exp) || ev.Expiry.Token.Issuer != "https://auth.example.test/" {
		t.Fatalf("token claims not reported: %+v", ev.Expiry.Token)
	}
	assertNoSecret(t, ev, token)

	want := []rotation.Deadline{
		{Env: "prod", Credential: "payments-key", Kind: rotation.KindRotation, At: mustTime(t, "2026-04-01")},
		{Env: "prod", Credential: "payments-key", Kind: rotation.KindExpiry, At: credExp.Time},
		{Env: "prod", Credential: "payments-key", Kind: rotation.KindToken, At: exp},
	}
	// Soonest first.
	want[0], want[1], want[2] = want[2], want[0], want[1]
	got := ev.Deadlines
	if len(got) != 3 {
		t.Fatalf("deadlines = %+v", got)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || !got[i].At.Equal(want[i].At) || got[i].Env != "prod" || got[i].Credential != "payments-key" {
			t.Errorf("deadline %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	clk.Set(exp.Add(time.Hour))
	ev = evaluate(t, tr, c, nil)
	wantResult(t, ev.Expiry, checks.CauseTokenExpired, bandPrefix(t, ev.Expiry.Band.String())+"/expired")
	if !strings.Contains(ev.Expiry.Detail, "1h ago") {
		t.Fatalf("expired detail %q", ev.Expiry.Detail)
	}
}

func TestCredentialExpiresAtWithoutToken(t *testing.T) {
	now := mustTime(t, "2026-03-01")
	credExp := config.Time{Time: now.Add(13 * day)}
	c := cred(config.Literal(keyA), nil)
	c.ExpiresAt = &credExp
	ev := evaluate(t, newTracker(newKV(), newClock(now)), c, nil)
	if ev.Rotation != nil {
		t.Fatalf("rotation result without a rotation policy: %+v", ev.Rotation)
	}
	wantResult(t, ev.Expiry, checks.CauseTokenExpiring, ev.Expiry.Band.String())
	if !strings.HasSuffix(ev.Expiry.Band.String(), "/14d") || !strings.Contains(ev.Expiry.Hint, "expires_at") {
		t.Fatalf("band %q hint %q", ev.Expiry.Band.String(), ev.Expiry.Hint)
	}
}

func TestNothingToSay(t *testing.T) {
	ev := evaluate(t, newTracker(newKV(), newClock(time.Now())), cred(config.Literal(keyA), nil), nil)
	if ev.Rotation != nil || ev.Expiry != nil || ev.Rotated != nil || len(ev.Deadlines) != 0 {
		t.Fatalf("a credential without policy produced %+v", ev)
	}
}
