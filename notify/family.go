package notify

import "github.com/credmon/credmon/checks"

// Cause families: the causes that describe one problem seen from different
// angles share an incident, so token_expired turning into revoked is a
// change of cause, not a second alert.
const (
	FamilyAuth         = "auth"
	FamilyAvailability = "availability"
	FamilyExpiry       = "expiry"
	FamilyRotation     = "rotation"
	FamilyPreviousKey  = "previous_key"
	FamilyPendingKey   = "pending_key"
	FamilyClock        = "clock"
)

var causeFamily = map[checks.Cause]string{
	checks.CauseMissingCredential:     FamilyAuth,
	checks.CauseMalformedCredential:   FamilyAuth,
	checks.CauseUnauthorized:          FamilyAuth,
	checks.CauseInvalidToken:          FamilyAuth,
	checks.CauseTokenExpired:          FamilyAuth,
	checks.CauseRevoked:               FamilyAuth,
	checks.CauseInsufficientScope:     FamilyAuth,
	checks.CauseForbidden:             FamilyAuth,
	checks.CauseWrongEnvironment:      FamilyAuth,
	checks.CauseTokenEndpointRejected: FamilyAuth,
	checks.CauseUnexpectedStatus:      FamilyAvailability,
	checks.CauseUnreachable:           FamilyAvailability,
	checks.CauseTokenExpiring:         FamilyExpiry,
	checks.CauseRotationDue:           FamilyRotation,
	checks.CauseRotationOverdue:       FamilyRotation,
	checks.CausePreviousKeyStillValid: FamilyPreviousKey,
	checks.CausePendingKeyRejected:    FamilyPendingKey,
	checks.CauseRotationDisabled:      FamilyRotation,
	checks.CauseClockSkew:             FamilyClock,
}

// Family returns the incident family of a cause. ok and the findings-only
// causes (server_clock_skew, missing_challenge) have none: they never open
// an incident. A cause this build does not know is its own family, so it
// still alerts rather than vanishing.
func Family(c checks.Cause) string {
	if f, ok := causeFamily[c]; ok {
		return f
	}
	switch c {
	case checks.CauseOK, checks.CauseServerClockSkew, checks.CauseMissingChallenge, "":
		return ""
	}
	return string(c)
}

// IncidentKey is the identity of the incident r belongs to: its subject's
// incident key for the family of its cause. For a result whose cause has
// no family (ok) the family part is empty.
func IncidentKey(r checks.Result) string {
	return r.Subject().IncidentKey(Family(r.Cause))
}
