package challenge

import "strings"

// BearerError is an RFC 6750 §3.1 error code carried in a challenge's
// error parameter.
type BearerError string

// The RFC 6750 error codes, plus the two cases a diagnosis must tell apart
// from them: no error at all, and an error this package does not know.
const (
	BearerErrorNone         BearerError = ""
	BearerInvalidRequest    BearerError = "invalid_request"
	BearerInvalidToken      BearerError = "invalid_token"
	BearerInsufficientScope BearerError = "insufficient_scope"
	BearerErrorUnknown      BearerError = "unknown"
)

// Non-standard codes some servers send instead of invalid_token.
const (
	errExpiredToken = "expired_token"
	errTokenExpired = "token_expired"
)

// BearerError maps the error parameter to an RFC 6750 code. Codes are
// compared case-insensitively: servers are inconsistent, and nothing else
// could be meant. Non-standard "expired_token"/"token_expired" count as
// invalid_token, which is what RFC 6750 says an expired token gets; use
// SaysExpired to tell expiry apart.
func (c Challenge) BearerError() BearerError {
	e := strings.ToLower(strings.TrimSpace(c.Error))
	switch e {
	case "":
		return BearerErrorNone
	case string(BearerInvalidRequest), string(BearerInvalidToken), string(BearerInsufficientScope):
		return BearerError(e)
	case errExpiredToken, errTokenExpired:
		return BearerInvalidToken
	}
	return BearerErrorUnknown
}

// SaysExpired reports whether the server's own words say the token expired:
// RFC 6750 has no code for it, so servers send error="invalid_token" with an
// error_description such as "The access token expired", and that is what
// tells token_expired apart from invalid_token.
func (c Challenge) SaysExpired() bool {
	switch strings.ToLower(strings.TrimSpace(c.Error)) {
	case errExpiredToken, errTokenExpired:
		return true
	}
	return DescribesExpiry(c.ErrorDescription)
}

// expiryPhrases are wordings servers use for an expired token without the
// word "expired" itself, matched on lower-case words joined by one space.
var expiryPhrases = []string{
	"lifetime validation failed",       // Microsoft identity (IDX10223)
	"exp claim timestamp check failed", // jose
}

// DescribesExpiry reports whether a free-text error description (from a
// challenge or a token endpoint) says a token expired. It looks for the
// word "expired" — not "unexpired", not "not expired" — and a few phrases.
func DescribesExpiry(desc string) bool {
	words := strings.FieldsFunc(strings.ToLower(desc), func(r rune) bool { return r < 'a' || r > 'z' })
	joined := " " + strings.Join(words, " ") + " "
	for _, p := range expiryPhrases {
		if strings.Contains(joined, " "+p+" ") {
			return true
		}
	}
	for i, w := range words {
		if w != "expired" {
			continue
		}
		if i > 0 && (words[i-1] == "not" || words[i-1] == "never") {
			continue
		}
		return true
	}
	return false
}
