package checks

// Status is the outcome class of a check run.
type Status string

// Statuses, from best to worst.
const (
	StatusOK    Status = "ok"
	StatusWarn  Status = "warn"
	StatusFail  Status = "fail"
	StatusError Status = "error"
)

// Rank orders statuses so the worst of several findings wins.
func (s Status) Rank() int {
	switch s {
	case StatusOK:
		return 0
	case StatusWarn:
		return 1
	case StatusError:
		return 2
	case StatusFail:
		return 3
	}
	return -1
}

// Cause is a stable, machine-readable reason for a result. Cause codes are
// public API: Slack messages, metric labels and JSON output carry them.
type Cause string

// The cause codes, as README's table lists them. Never rename one.
const (
	CauseOK                    Cause = "ok"
	CauseMissingCredential     Cause = "missing_credential"
	CauseMalformedCredential   Cause = "malformed_credential"
	CauseUnauthorized          Cause = "unauthorized"
	CauseInvalidToken          Cause = "invalid_token"
	CauseTokenExpired          Cause = "token_expired"
	CauseRevoked               Cause = "revoked"
	CauseInsufficientScope     Cause = "insufficient_scope"
	CauseForbidden             Cause = "forbidden"
	CauseWrongEnvironment      Cause = "wrong_environment"
	CauseTokenEndpointRejected Cause = "token_endpoint_rejected"
	CauseTokenExpiring         Cause = "token_expiring"
	CauseRotationDue           Cause = "rotation_due"
	CauseRotationOverdue       Cause = "rotation_overdue"
	CausePreviousKeyStillValid Cause = "previous_key_still_valid"
	// CausePendingKeyRejected: a secret store's pending version (a rotation
	// in progress) is rejected by the API: finishing the rotation would
	// break every consumer.
	CausePendingKeyRejected Cause = "pending_key_rejected"
	// CauseRotationDisabled: a max_age asks for rotation, but the secret
	// store's automatic rotation is off.
	CauseRotationDisabled Cause = "rotation_disabled"
	CauseClockSkew        Cause = "clock_skew"
	CauseServerClockSkew  Cause = "server_clock_skew"
	CauseMissingChallenge Cause = "missing_challenge"
	CauseUnexpectedStatus Cause = "unexpected_status"
	CauseUnreachable      Cause = "unreachable"
)

// causeStatus maps every cause to the status it implies.
var causeStatus = map[Cause]Status{
	CauseOK:                    StatusOK,
	CauseMissingCredential:     StatusFail,
	CauseMalformedCredential:   StatusFail,
	CauseUnauthorized:          StatusFail,
	CauseInvalidToken:          StatusFail,
	CauseTokenExpired:          StatusFail,
	CauseRevoked:               StatusFail,
	CauseInsufficientScope:     StatusFail,
	CauseForbidden:             StatusFail,
	CauseWrongEnvironment:      StatusFail,
	CauseTokenEndpointRejected: StatusFail,
	CauseTokenExpiring:         StatusWarn,
	CauseRotationDue:           StatusWarn,
	CauseRotationOverdue:       StatusFail,
	CausePreviousKeyStillValid: StatusFail,
	CausePendingKeyRejected:    StatusFail,
	CauseRotationDisabled:      StatusWarn,
	CauseClockSkew:             StatusFail,
	CauseServerClockSkew:       StatusWarn,
	CauseMissingChallenge:      StatusWarn,
	CauseUnexpectedStatus:      StatusError,
	CauseUnreachable:           StatusError,
}

// Status returns the status a cause implies.
func (c Cause) Status() Status {
	if s, ok := causeStatus[c]; ok {
		return s
	}
	return StatusError
}

// AllCauses lists every cause code, for metrics pre-registration and docs.
func AllCauses() []Cause {
	return []Cause{
		CauseOK, CauseMissingCredential, CauseMalformedCredential, CauseUnauthorized,
		CauseInvalidToken, CauseTokenExpired, CauseRevoked, CauseInsufficientScope,
		CauseForbidden, CauseWrongEnvironment, CauseTokenEndpointRejected,
		CauseTokenExpiring, CauseRotationDue, CauseRotationOverdue,
		CausePreviousKeyStillValid, CausePendingKeyRejected, CauseRotationDisabled,
		CauseClockSkew, CauseServerClockSkew,
		CauseMissingChallenge, CauseUnexpectedStatus, CauseUnreachable,
	}
}
