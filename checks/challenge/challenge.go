// Package challenge parses HTTP authentication challenges (RFC 7235/9110
// WWW-Authenticate) and maps RFC 6750 bearer errors to meaning.
package challenge

// Challenge is one parsed authentication challenge.
type Challenge struct {
	Scheme           string            `json:"scheme"`
	Realm            string            `json:"realm,omitempty"`
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"error_description,omitempty"`
	Scope            string            `json:"scope,omitempty"`
	Token68          string            `json:"token68,omitempty"`
	Params           map[string]string `json:"params,omitempty"` // every auth-param, names lower-cased
}

// Parse parses the values of every WWW-Authenticate header of a response.
// It never fails: what cannot be parsed is skipped. TODO(helper): implement.
func Parse(headers []string) []Challenge { return nil }
