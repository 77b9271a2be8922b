package notify

import (
	"testing"

	"github.com/credmon/credmon/checks"
)

func TestFamily(t *testing.T) {
	want := map[checks.Cause]string{
		checks.CauseOK:                    "",
		checks.CauseMissingCredential:     "auth",
		checks.CauseMalformedCredential:   "auth",
		checks.CauseUnauthorized:          "auth",
		checks.CauseInvalidToken:          "auth",
		checks.CauseTokenExpired:          "auth",
		checks.CauseRevoked:               "auth",
		checks.CauseInsufficientScope:     "auth",
		checks.CauseForbidden:             "auth",
		checks.CauseWrongEnvironment:      "auth",
		checks.CauseTokenEndpointRejected: "auth",
		checks.CauseUnexpectedStatus:      "availability",
		checks.CauseUnreachable:           "availability",
		checks.CauseTokenExpiring:         "expiry",
		checks.CauseRotationDue:           "rotation",
		checks.CauseRotationOverdue:       "rotation",
		checks.CausePreviousKeyStillValid: "previous_key",
		checks.CausePendingKeyRejected:    "pending_key",
		checks.CauseRotationDisabled:      "rotation",
		checks.CauseClockSkew:             "clock",
		checks.CauseServerClockSkew:       "",
		checks.CauseMissingChallenge:      "",
	}
	for _, c := range checks.AllCauses() {
		w, ok := want[c]
		if !ok {
			t.Errorf("cause %s has no expected family in this test", c)
			continue
		}
		if got := Family(c); got != w {
			t.Errorf("Family(%s) = %q, want %q", c, got, w)
		}
	}
	if got := Family("some_future_cause"); got != "some_future_cause" {
		t.Errorf("an unknown cause must be its own family so it still alerts, got %q", got)
	}
}

func TestIncidentKey(t *testing.T) {
	tests := []struct {
		name string
		r    checks.Result
		want string
	}{
		{"check", checks.Result{Env: "prod", Check: "payments-account", Credential: "payments-key", Cause: checks.CauseRevoked}, "prod/payments-account/auth"},
		{"credential rotation", checks.Result{Kind: checks.SubjectCredential, Env: "prod", Credential: "payments-key", Concern: checks.ConcernRotation, Cause: checks.CauseRotationDue}, "prod/credential:payments-key/rotation/rotation"},
		{"credential expiry", checks.Result{Kind: checks.SubjectCredential, Env: "prod", Credential: "payments-key", Concern: checks.ConcernExpiry, Cause: checks.CauseTokenExpired}, "prod/credential:payments-key/expiry/auth"},
		{"clock", checks.Result{Kind: checks.SubjectClock, Check: "clock", Cause: checks.CauseClockSkew}, "/clock/clock"},
		{"a check named like a credential is still a check", checks.Result{Env: "prod", Check: "credential:x", Cause: checks.CauseRevoked}, "prod/credential:x/auth"},
		{"ok has no family", checks.Result{Env: "dev", Check: "c", Cause: checks.CauseOK}, "dev/c/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IncidentKey(tt.r); got != tt.want {
				t.Errorf("IncidentKey = %q, want %q", got, tt.want)
			}
		})
	}
}
